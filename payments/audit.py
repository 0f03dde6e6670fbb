"""The audit log as staff read it: the console's account panel and `bot report`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Optional

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import formatting as fmt
from bot.db import session_scope
from bot.models import Account
from payments.models import Operation, OperationKind, Status

KIND_NAMES = {OperationKind.ADD_FUNDS: "Agregar fondos", OperationKind.AUTO_RECHARGE: "Recarga automática",
              OperationKind.CARD_UPDATE: "Cambio de tarjeta"}
STATUS_NAMES = {Status.PROPOSED: "propuesta", Status.PENDING: "en proceso", Status.SUCCEEDED: "hecha",
                Status.DECLINED: "rechazada por el banco", Status.NEEDS_AUTHENTICATION: "requiere 3-D Secure",
                Status.UNVERIFIED: "sin respuesta del proveedor", Status.CANCELLED: "cancelada",
                Status.REFUSED: "no permitida", Status.PENDING_LINK: "enlace enviado"}


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    kind: str
    status: str
    who: str
    channel: str
    amount: Optional[Decimal]
    reference: Optional[str]
    reason: Optional[str]
    folio: Optional[str]


def operations(account: str, limit: int = 20, engine: Optional[Engine] = None) -> list[AuditLine]:
    """The account's operations, newest first (proposals that were never confirmed included)."""
    with session_scope(engine) as session:
        return operations_in(session, account, limit)


def operations_in(session: Session, account: str, limit: int = 20) -> list[AuditLine]:
    rows = session.execute(select(Operation).join(Account, Operation.account_id == Account.id)
                           .where(Account.number == account).order_by(Operation.id.desc()).limit(limit)).scalars()
    return [AuditLine(o.created_at, KIND_NAMES[o.kind], STATUS_NAMES[o.status], o.actor, o.channel, o.amount,
                      o.provider_ref, o.reason, o.folio) for o in rows]


def describe(line: AuditLine, zone: str) -> str:
    """One operation as an agent reads it in the console."""
    amount = f" {fmt.money(line.amount)}" if line.amount is not None else ""
    extras = ", ".join(x for x in (line.reason, f"ref. {line.reference}" if line.reference else None,
                                   f"folio {line.folio}" if line.folio else None) if x)
    return (f"{fmt.day_and_time(line.at.astimezone(ZoneInfo(zone)))}: {line.kind}{amount}, {line.status} "
            f"({line.who}){' · ' + extras if extras else ''}")


@dataclass(frozen=True)
class DaySummary:
    day: str
    operations: int  # confirmed operations (proposals never confirmed are not operations)
    succeeded: int
    declined: int


def per_day(start: datetime, end: datetime, engine: Optional[Engine] = None) -> list[DaySummary]:
    """Self-service operations, successes and bank declines per UTC day in [start, end)."""
    confirmed = [Status.SUCCEEDED, Status.DECLINED, Status.NEEDS_AUTHENTICATION, Status.UNVERIFIED]
    day = func.date(Operation.created_at)
    with session_scope(engine) as session:
        rows = session.execute(select(day, Operation.status, func.count()).where(
            Operation.created_at >= start, Operation.created_at < end, Operation.status.in_(confirmed))
            .group_by(day, Operation.status)).all()
    days: dict[str, list[int]] = {}
    for when, status, count in rows:
        totals = days.setdefault(str(when), [0, 0, 0])
        totals[0] += count
        totals[1] += count if status == Status.SUCCEEDED else 0
        totals[2] += count if status in (Status.DECLINED, Status.NEEDS_AUTHENTICATION) else 0
    return [DaySummary(d, *days[d]) for d in sorted(days)]


def summary(start: datetime, end: datetime, engine: Optional[Engine] = None) -> dict:
    """Insights' figures: operations, success rate and bank declines, per day and in total."""
    days = per_day(start, end, engine)
    total, ok, declined = (sum(getattr(d, f) for d in days) for f in ("operations", "succeeded", "declined"))
    return {"days": [{"day": d.day, "operations": d.operations, "succeeded": d.succeeded, "declined": d.declined}
                     for d in days],
            "operations": total, "succeeded": ok, "declined": declined,
            "success_rate": round(ok / total, 3) if total else None}
