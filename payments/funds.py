"""Adding funds from the chat: proposal, explicit confirmation, one charge, one deposit.

The flow, and why each step is where it is:

1. `propose` validates the amount against the portal's menu, the daily limit
   and any operation already with the provider, and stores a *proposal* whose
   idempotency key is derived from the conversation and the turn that asked.
2. `confirm` (only after an explicit «sí») turns that one proposal into the
   one pending operation of the account, atomically: a second «sí», a retried
   message or another replica loses that race and charges nothing.
3. The card is charged once through the provider with that key (the SDK's
   retries reuse it); the deposit, the new balance and the outcome are written
   in the same transaction, so there is never a charge without a deposit or a
   deposit without a charge. An answer the provider never gave is looked up
   again by the key, now and by `bot reconcile`.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import formatting as fmt
from bot.config import settings
from bot.db import session_scope
from bot.models import Account, EntryKind, utcnow
from bot.store import get_account, record_entry
from payments import provider
from payments.models import Operation, OperationKind, PaymentProfile, Status
from payments.settings import PaymentSettings, payment_settings

logger = logging.getLogger(__name__)

YES_NO = [{"title": "Sí, confirmo", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
NOTHING_TO_CONFIRM = ("No tengo ninguna operación pendiente de confirmar. Si quieres agregar fondos, dime cuánto, "
                      "por ejemplo: «recárgale $500 al prepago».")
CANCELLED = "De acuerdo, no hice ningún cargo ni cambio. ¿Te ayudo con algo más?"
EXPIRED = ("Esa confirmación expiró, así que no hice nada por seguridad. Si todavía lo quieres, pídemelo de nuevo "
           "y te vuelvo a preguntar.")
BUSY = ("Ya hay otra operación de tu cuenta en proceso con el banco. Espera unos segundos a que termine; "
        "no hice un segundo cargo.")


@dataclass(frozen=True)
class Actor:
    """Who asks, verified by the channel: the account, how to name them in the audit log, where they write."""

    account: str
    who: str
    channel: str
    conversation: str


@dataclass
class Answer:
    text: str
    buttons: list[dict] = field(default_factory=list)


def operation_key(conversation: str, turn: str) -> str:
    """The provider's Idempotency-Key: the same conversation and confirmation turn always give the same key."""
    return "prepago-" + hashlib.sha256(f"{conversation}\x1f{turn}".encode()).hexdigest()[:40]


_MONEY = re.compile(r"(-)?\s*\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*(mil\b|k\b)?", re.IGNORECASE)
_WORDS = {"doscientos": 200, "quinientos": 500, "mil": 1000, "dos mil": 2000, "un mil": 1000}


def amounts_in(text: str) -> list[tuple[int, Decimal]]:
    """Every amount in pesos in `text`, with where it starts: «$1,000», «500 pesos», «2 mil», «quinientos»."""
    found = []
    for match in _MONEY.finditer(text or ""):
        value = Decimal(match.group(2).replace(",", "") + (f".{match.group(3)}" if match.group(3) else ""))
        if match.group(4):
            value *= 1000
        found.append((match.start(), -value if match.group(1) else value))
    if not found:
        lowered = (text or "").lower()
        for word in sorted(_WORDS, key=len, reverse=True):
            at = re.search(rf"\b{word}\b", lowered)
            if at:
                found.append((at.start(), Decimal(_WORDS[word])))
                break
    return found


def _menu(cfg: PaymentSettings) -> list[dict]:
    return [{"title": fmt.money(a).replace(" MXN", ""), "payload": f'/add_funds{{"amount": "{a:f}"}}'}
            for a in cfg.amounts]


def card_text(account: Account) -> Optional[str]:
    return f"{account.card.brand} terminada en {account.card.last4}" if account.card else None


def _local_day_start(account: Account, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(account.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))


def _added_today(session: Session, account: Account, now: datetime, excluding: Optional[int] = None) -> Decimal:
    query = select(func.sum(Operation.amount)).where(
        Operation.account_id == account.id, Operation.kind == OperationKind.ADD_FUNDS,
        Operation.status.in_([Status.SUCCEEDED, Status.PENDING, Status.UNVERIFIED]),
        Operation.created_at >= _local_day_start(account, now))
    if excluding is not None:
        query = query.where(Operation.id != excluding)
    return session.execute(query).scalar_one() or Decimal("0.00")


def _pending(session: Session, account: Account) -> Optional[Operation]:
    return session.execute(select(Operation).where(
        Operation.account_id == account.id, Operation.status == Status.PENDING)).scalars().first()


def record(session: Session, account: Account, actor: Actor, kind: OperationKind, status: Status, now: datetime,
           **fields) -> Operation:
    """One row of the audit log."""
    operation = Operation(account_id=account.id, kind=kind, status=status, actor=actor.who, channel=actor.channel,
                          conversation=actor.conversation, created_at=now, updated_at=now, **fields)
    session.add(operation)
    session.flush()
    return operation


def withdraw_proposals(session: Session, actor: Actor, now: datetime) -> None:
    """A new proposal replaces the conversation's older ones: only the last one shown can be confirmed."""
    session.execute(update(Operation).where(Operation.conversation == actor.conversation,
                                            Operation.status == Status.PROPOSED)
                    .values(status=Status.CANCELLED, reason="replaced", updated_at=now)
                    .execution_options(synchronize_session=False))


def propose(actor: Actor, text: str, turn: str, now: Optional[datetime] = None,
            engine: Optional[Engine] = None) -> Answer:
    """The confirmation to add the amount in `text` (words, or a menu button's payload), why it cannot be, or the menu."""
    cfg, now = payment_settings(), now or utcnow()
    found = amounts_in(text)
    if not found:
        return Answer("¿Cuánto quieres agregar a tu saldo? Elige una cantidad:", _menu(cfg))
    value = found[0][1]
    if value not in cfg.amounts:
        menu = ", ".join(fmt.money(a) for a in cfg.amounts)
        return Answer(f"Desde el chat puedo agregar las mismas cantidades que el portal: {menu}. "
                      "¿Cuál prefieres?", _menu(cfg))
    with session_scope(engine) as session:
        account = get_account(session, actor.account)
        card = card_text(account)
        if card is None or session.get(PaymentProfile, account.id) is None:
            return Answer("Tu cuenta no tiene una tarjeta registrada para cobrar. Escribe «quiero actualizar mi tarjeta "
                          "por el chat» y te mando un enlace seguro para registrarla.")
        if _pending(session, account) is not None:
            return Answer(BUSY)
        if _added_today(session, account, now) + value > cfg.daily_limit:
            record(session, account, actor, OperationKind.ADD_FUNDS, Status.REFUSED, now, amount=value, card=card,
                   reason="daily_limit")
            return Answer(f"Por seguridad, desde el chat se pueden agregar hasta {fmt.money(cfg.daily_limit)} al día y "
                          f"con {fmt.money(value)} pasarías ese límite. Puedes elegir una cantidad menor o agregar "
                          f"fondos en el portal: [Cuenta de Prepago]({settings().portal_url}/#prepaid_account).")
        withdraw_proposals(session, actor, now)
        record(session, account, actor, OperationKind.ADD_FUNDS, Status.PROPOSED, now, amount=value, card=card,
               idempotency_key=operation_key(actor.conversation, turn))
        return Answer(f"¿Confirmas que cargue **{fmt.money(value)}** a tu {card} para agregarlos a tu saldo "
                      "de prepago?", YES_NO)


def latest_proposal(session: Session, actor: Actor) -> Optional[Operation]:
    return session.execute(
        select(Operation).where(Operation.conversation == actor.conversation, Operation.status == Status.PROPOSED)
        .order_by(Operation.id.desc())).scalars().first()


def claim(actor: Actor, now: datetime, engine: Optional[Engine] = None) -> tuple[Optional[int], Optional[Answer]]:
    """Turn the conversation's proposal into the account's one pending operation: (its id, None), or (None, why not).

    The conditional UPDATE is the race: of two «sí» at once only one sees the proposal still proposed, and
    the partial unique index refuses a second pending operation of the same account."""
    cfg = payment_settings()
    try:
        with session_scope(engine) as session:
            proposal = latest_proposal(session, actor)
            if proposal is None:
                return None, _already_answered(session, actor)
            if now - proposal.created_at > timedelta(minutes=cfg.proposal_minutes):
                proposal.status, proposal.reason, proposal.updated_at = Status.CANCELLED, "expired", now
                return None, Answer(EXPIRED)
            account = session.get(Account, proposal.account_id)
            if proposal.kind == OperationKind.ADD_FUNDS and _added_today(session, account, now, excluding=proposal.id) + proposal.amount > cfg.daily_limit:
                proposal.status, proposal.reason, proposal.updated_at = Status.REFUSED, "daily_limit", now
                return None, Answer(f"Con esta recarga pasarías el límite de {fmt.money(cfg.daily_limit)} al día desde "
                                    "el chat, así que no hice el cargo.")
            won = session.execute(update(Operation).where(Operation.id == proposal.id,
                                                          Operation.status == Status.PROPOSED)
                                  .values(status=Status.PENDING, updated_at=now)
                                  .execution_options(synchronize_session=False)).rowcount
            if not won:
                return None, Answer(BUSY)
            return proposal.id, None
    except IntegrityError:  # another operation of this account is already with the provider
        return None, Answer(BUSY)


def _already_answered(session: Session, actor: Actor) -> Answer:
    """A «sí» with nothing to confirm: if it repeats one already handled, say how that one ended."""
    last = session.execute(select(Operation).where(Operation.conversation == actor.conversation)
                           .order_by(Operation.id.desc())).scalars().first()
    if last is not None and last.status == Status.PENDING:
        return Answer(BUSY)
    if last is not None and last.status == Status.SUCCEEDED and last.kind == OperationKind.ADD_FUNDS:
        return Answer(f"Esa recarga ya quedó hecha (folio {last.folio}); no hice un segundo cargo.")
    return Answer(NOTHING_TO_CONFIRM)


def charge_claimed(operation_id: int, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> Answer:
    """Charge the claimed operation's card once and settle it (deposit or outcome)."""
    with session_scope(engine) as session:
        operation = session.get(Operation, operation_id)
        account = session.get(Account, operation.account_id)
        profile = session.get(PaymentProfile, account.id)
        key, amount, number = operation.idempotency_key, operation.amount, account.number
    try:
        result = provider.charge(profile.customer_id, profile.payment_method_id, amount, key,
                                 {"idempotency_key": key, "account": number, "operation": str(operation_id)})
    except Exception:  # noqa: BLE001 - never leave the account's one operation pending: settle it as unverified
        logger.exception("charging operation %s failed", operation_id)
        result = provider.ChargeResult("unverified", reason="provider_error")
    if result.outcome == "unverified":  # the answer was lost: whatever the provider did is found by the key
        try:
            result = provider.find_charge(key) or result
        except Exception:  # noqa: BLE001 - still unverified: `bot reconcile` asks again
            pass
    return settle(operation_id, result, now or utcnow(), engine)


def settle(operation_id: int, result: provider.ChargeResult, now: datetime, engine: Optional[Engine] = None) -> Answer:
    """Write the provider's answer: on success the deposit, the new balance and the folio in one transaction."""
    with session_scope(engine) as session:
        operation = session.execute(select(Operation).where(Operation.id == operation_id).with_for_update()
                                    ).scalar_one()
        account = session.get(Account, operation.account_id)
        if operation.status not in (Status.PENDING, Status.UNVERIFIED):  # settled already (reconcile, a replica)
            return receipt(operation, account) if operation.status == Status.SUCCEEDED else Answer(BUSY)
        operation.provider_ref = result.reference or operation.provider_ref
        operation.reason, operation.updated_at = result.reason, now
        if result.outcome == "succeeded":
            entry = record_entry(session, account.number, kind=EntryKind.DEPOSIT, amount=operation.amount,
                                 occurred_at=now)
            operation.status, operation.ledger_entry_id = Status.SUCCEEDED, entry.id
            operation.folio = f"PP-{now.astimezone(ZoneInfo(account.timezone)):%Y%m%d}-{operation.id:06d}"
            return receipt(operation, account)
        operation.status = {"declined": Status.DECLINED, "needs_authentication": Status.NEEDS_AUTHENTICATION}.get(
            result.outcome, Status.UNVERIFIED)
        return failure_answer(operation)


def receipt(operation: Operation, account: Account) -> Answer:
    return Answer(f"Listo: agregué **{fmt.money(operation.amount)}** a tu saldo con tu {operation.card}.\n"
                  f"Folio: **{operation.folio}**\n"
                  f"Tu saldo ahora es de **{fmt.money(account.balance)}**.")


def failure_answer(operation: Operation) -> Answer:
    portal = f"[Cuenta de Prepago]({settings().portal_url}/#prepaid_account)"
    amount, card = fmt.money(operation.amount), operation.card
    if operation.reason == "expired_card":
        text = (f"Tu banco indica que tu {card} está vencida, así que no se cobraron los {amount} ni se agregaron "
                "fondos. Actualiza tu tarjeta (escribe «quiero actualizar mi tarjeta por el chat») y vuelve a intentarlo.")
    elif operation.status == Status.NEEDS_AUTHENTICATION:
        text = (f"Tu banco pide confirmar este cargo de {amount} con su verificación (3-D Secure), y eso no se puede "
                f"hacer desde el chat. No se cobró nada. Agrégalos desde el portal, en {portal}: ahí tu banco te pedirá "
                "la verificación.")
    elif operation.status == Status.DECLINED:
        text = (f"Tu banco rechazó el cargo de {amount} a tu {card}, así que no se cobró nada ni se agregaron fondos. "
                f"Puedes intentar con otra cantidad, usar otra tarjeta o agregar fondos en el portal ({portal}). "
                "Si quieres, escribe «agente» y te comunico con una persona.")
    else:
        text = (f"No pude confirmar el cargo de {amount} con el procesador de pagos en este momento, así que no agregué "
                "fondos. Si el cargo llegara a aparecer, lo abonamos a tu saldo automáticamente (nunca se cobra dos "
                f"veces). Intenta de nuevo en unos minutos, agrega fondos en el portal ({portal}) o escribe «agente».")
    return Answer(text)


def cancel(actor: Actor, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> Answer:
    now = now or utcnow()
    with session_scope(engine) as session:
        proposal = latest_proposal(session, actor)
        if proposal is None:
            return Answer("De acuerdo. Si necesitas algo más sobre tu Cuenta de Prepago, aquí estoy.")
        proposal.status, proposal.reason, proposal.updated_at = Status.CANCELLED, "customer_said_no", now
        return Answer(CANCELLED)
