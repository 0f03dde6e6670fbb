"""Provider against ledger: every charge has its deposit and every deposit its charge.

`bot reconcile` (nightly, and on demand) lists each mismatch. A charge the
provider made whose answer we never got (an operation left `unverified`) is
settled here: its deposit is written then, once, with the charge's reference.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot import formatting as fmt
from bot.db import session_scope
from bot.models import Account, LedgerEntry, utcnow
from payments import provider
from payments.funds import settle
from payments.models import Operation, OperationKind, Status


# A pending operation this old lost its process mid-charge (a charge takes seconds).
STALE = timedelta(minutes=10)


def _mark_unverified(operation_id: int, now: datetime, engine: Optional[Engine]) -> None:
    with session_scope(engine) as session:
        session.execute(update(Operation).where(Operation.id == operation_id, Operation.status == Status.PENDING)
                        .values(status=Status.UNVERIFIED, reason="interrupted", updated_at=now)
                        .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Finding:
    kind: str  # settled, charge_without_operation, deposit_without_charge, amount_mismatch, not_charged
    account: Optional[str]
    reference: Optional[str]
    text: str


def reconcile(days: int = 2, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> list[Finding]:
    now = now or utcnow()
    since = now - timedelta(days=days)
    charges = {c.key: c for c in provider.succeeded_charges(since) if c.key}
    strays = [c for c in provider.succeeded_charges(since) if not c.key]
    findings: list[Finding] = []
    with session_scope(engine) as session:
        rows = session.execute(
            select(Operation, Account.number, LedgerEntry.amount)
            .join(Account, Operation.account_id == Account.id)
            .outerjoin(LedgerEntry, Operation.ledger_entry_id == LedgerEntry.id)
            .where(Operation.kind == OperationKind.ADD_FUNDS, Operation.created_at >= since - timedelta(days=1),
                   Operation.status.in_([Status.SUCCEEDED, Status.UNVERIFIED, Status.PENDING]))).all()
        operations = [(op.id, op.status, op.idempotency_key, op.amount, op.provider_ref, number, deposited,
                       op.updated_at) for op, number, deposited in rows]
    known = set()
    for op_id, status, key, amount, ref, number, deposited, updated in operations:
        known.add(key)
        charge = charges.get(key)
        if status == Status.SUCCEEDED:
            if charge is None:
                findings.append(Finding("deposit_without_charge", number, ref,
                                        f"Cuenta {number}: depósito de {fmt.money(amount)} (operación {op_id}) sin cobro "
                                        "en el proveedor."))
            elif charge.amount != amount or deposited != amount:
                findings.append(Finding("amount_mismatch", number, charge.reference,
                                        f"Cuenta {number}: cobro {charge.reference} de {fmt.money(charge.amount)} y "
                                        f"depósito de {fmt.money(deposited or 0)} no coinciden."))
        elif charge is not None:  # charged, answer lost: deposit it now, once
            settle(op_id, provider.ChargeResult("succeeded", charge.reference), now, engine)
            findings.append(Finding("settled", number, charge.reference,
                                    f"Cuenta {number}: el cobro {charge.reference} de {fmt.money(charge.amount)} no "
                                    "tenía depósito; lo abonamos ahora."))
        elif status == Status.UNVERIFIED or updated < now - STALE:
            if status == Status.PENDING:  # its process died mid-charge: free the account, keep it for review
                _mark_unverified(op_id, now, engine)
            findings.append(Finding("not_charged", number, None,
                                    f"Cuenta {number}: la operación {op_id} de {fmt.money(amount)} no tiene cobro en el "
                                    "proveedor; nada que abonar."))
    for key, charge in charges.items():
        if key not in known:
            strays.append(charge)
    for charge in strays:
        findings.append(Finding("charge_without_operation", charge.account, charge.reference,
                                f"Cobro {charge.reference} de {fmt.money(charge.amount)} (cuenta {charge.account or '?'}) "
                                "sin operación ni depósito en el ledger."))
    return findings
