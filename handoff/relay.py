"""The relay's side of a case: which of its messages still have to reach the customer, and
what their channel did with them (channels/staff_relay.py runs it in the Rasa process; the
console retries what stays pending)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.models import utcnow
from handoff.models import Author, CaseMessage, CaseStatus, Delivery, SupportCase

MAX_ATTEMPTS = 5  # relays of one message before it is shown to the agent as failed


@dataclass(frozen=True)
class Outgoing:
    id: int
    author: Author
    agent_name: Optional[str]
    text: str
    attempts: int  # relays tried before; a retried message is already in the conversation


@dataclass(frozen=True)
class Route:
    """Where a case's messages go, and whether the assistant resumes after them."""

    conversation_id: str
    channel: str
    channel_user: Optional[str]
    closed: bool
    messages: tuple[Outgoing, ...]


def pending(case_id: int, engine: Optional[Engine] = None) -> Optional[Route]:
    with session_scope(engine) as session:
        case = session.get(SupportCase, case_id)
        if case is None:
            return None
        rows = session.execute(
            select(CaseMessage).where(CaseMessage.case_id == case_id, CaseMessage.delivery == Delivery.PENDING)
            .order_by(CaseMessage.id)
        ).scalars().all()
        return Route(case.conversation_id, case.channel, case.channel_user, case.status == CaseStatus.CLOSED,
                     tuple(Outgoing(m.id, m.author, m.agent_name, m.text, m.attempts) for m in rows))


def mark(message_ids: list[int], delivery: Delivery, note: Optional[str] = None, now: Optional[datetime] = None,
         engine: Optional[Engine] = None) -> None:
    """Record what the channel did with messages; a failure is final after MAX_ATTEMPTS tries."""
    if not message_ids:
        return
    now = now or utcnow()
    with session_scope(engine) as session:
        rows = session.execute(select(CaseMessage).where(CaseMessage.id.in_(message_ids))
                               .with_for_update()).scalars().all()
        for message in rows:
            message.attempts += 1
            message.delivery_note = note[:200] if note else None
            if delivery == Delivery.PENDING and message.attempts >= MAX_ATTEMPTS:
                message.delivery = Delivery.FAILED
            else:
                message.delivery = delivery
            if delivery in (Delivery.SENT, Delivery.STORED):
                message.delivered_at = now
        if rows:
            session.execute(update(SupportCase).where(SupportCase.id == rows[0].case_id).values(updated_at=now))


def cases_to_relay(older_than: timedelta = timedelta(seconds=10), now: Optional[datetime] = None,
                   engine: Optional[Engine] = None) -> list[int]:
    """Cases with messages still pending a while after they were written: their relay failed."""
    cutoff = (now or utcnow()) - older_than
    with session_scope(engine) as session:
        return list(session.execute(
            select(CaseMessage.case_id).where(CaseMessage.delivery == Delivery.PENDING, CaseMessage.at < cutoff)
            .distinct()).scalars())
