"""What the console shows of the cases: the queue, one case with its transcript, and the account."""
from __future__ import annotations

from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot import formatting as fmt
from bot.db import session_scope
from bot.formatting import CHANNEL_LABELS
from bot.models import EntryKind, utcnow
from bot.replies import card_label, movement_line
from bot.store import UnknownAccount, get_account, movements
from handoff import hours
from handoff.cases import REASONS, redact
from handoff.models import Author, CaseStatus, Delivery, SupportCase
from payments.audit import describe as describe_operation, operations_in

STATUSES = {CaseStatus.WAITING: "En espera", CaseStatus.WITH_AGENT: "Con un agente", CaseStatus.CLOSED: "Cerrado"}
DELIVERIES = {
    Delivery.PENDING: "Enviando…",
    Delivery.SENT: "Entregado al canal",
    Delivery.STORED: "Guardado en la conversación: lo verá al volver al chat",
    Delivery.FAILED: "No se pudo entregar",
}


def version(engine: Optional[Engine] = None) -> str:
    """Changes whenever any case or message changes: the live queue's cue to refresh."""
    with session_scope(engine) as session:
        latest, count = session.execute(select(func.max(SupportCase.updated_at), func.count(SupportCase.id))).one()
        return f"{latest.isoformat() if latest else '-'}/{count}"


def _summary(case: SupportCase) -> dict:
    return {
        "id": case.id,
        "status": case.status.value,
        "status_label": STATUSES[case.status],
        "channel": CHANNEL_LABELS.get(case.channel, case.channel),
        "account": case.account or "sin sesión",
        "reason": REASONS.get(case.reason, case.reason),
        "description": redact(case.description) if case.description else None,
        "agent": case.agent.display_name if case.agent else _desk_agent(case),
        "opened_at": case.opened_at.isoformat(),
        "opened": fmt.day_and_time(case.opened_at.astimezone(ZoneInfo(hours.DEFAULT_TIMEZONE))),
    }


def _desk_agent(case: SupportCase) -> Optional[str]:
    """A helpdesk agent has no console account: their name is on their messages."""
    if case.status == CaseStatus.WAITING:
        return None
    return next((m.agent_name for m in case.messages if m.author == Author.AGENT and m.agent_name), None)


def queue(engine: Optional[Engine] = None) -> list[dict]:
    """Open cases: waiting ones first, newest first; then those with an agent."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(SupportCase).where(SupportCase.status != CaseStatus.CLOSED)
            .order_by(SupportCase.opened_at.desc()).limit(200)
        ).scalars().all()
        return [_summary(case) for case in sorted(rows, key=lambda c: c.status != CaseStatus.WAITING)]


def detail(case_id: int, engine: Optional[Engine] = None) -> Optional[dict]:
    """A case for the console: summary, transcript (redacted) and the account's context."""
    with session_scope(engine) as session:
        case = session.get(SupportCase, case_id)
        if case is None:
            return None
        zone = ZoneInfo(hours.DEFAULT_TIMEZONE)
        transcript = [{
            "author": m.author.value,
            "name": m.agent_name,
            "text": redact(m.text) if m.author == Author.CUSTOMER else m.text,
            "at": fmt.day_and_time(m.at.astimezone(zone)),
            "delivery": DELIVERIES[m.delivery] if m.delivery else None,
            "delivery_state": m.delivery.value if m.delivery else None,
            "delivery_note": m.delivery_note,
        } for m in case.messages]
        return {**_summary(case), "transcript": transcript, "context": _context(session, case.account)}


def _context(session, number: Optional[str]) -> Optional[dict]:
    """What an agent needs about the account: never the PIN, never more of the card than its last four."""
    if number is None:
        return None
    try:
        account = get_account(session, number)
    except UnknownAccount:
        return None
    zone = ZoneInfo(account.timezone)
    today = utcnow().astimezone(zone).date()
    recharge = account.auto_recharge
    latest, _ = movements(session, account, limit=5)
    last_deposit, _ = movements(session, account, limit=1, kinds=(EntryKind.DEPOSIT, EntryKind.AUTO_RECHARGE))
    return {
        "company": account.company,
        "balance": fmt.money(account.balance),
        "auto_recharge": (f"activada, recarga {fmt.money(recharge.amount)} cuando el saldo baja de "
                          f"{fmt.money(recharge.threshold)}") if recharge and recharge.enabled else "desactivada",
        "card": card_label(account) or "Sin tarjeta",
        "movements": [movement_line(m, zone, today).lstrip("• ") for m in latest],
        "last_deposit": movement_line(last_deposit[0], zone, today).lstrip("• ") if last_deposit else None,
        # Payments done from the chat (payments/): who, channel, amount, provider reference, outcome.
        "operations": [describe_operation(line, account.timezone) for line in operations_in(session, number, 5)],
    }
