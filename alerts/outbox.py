"""Claiming alerts to send, and recording what the provider said.

A claim is one UPDATE of due rows chosen with `SELECT … FOR UPDATE SKIP
LOCKED` on PostgreSQL (two workers never take the same row, nor wait for
each other); SQLite runs one writer at a time, so the same statement is safe
there. A claimed row carries the worker's token and a lease: a worker killed
after claiming leaves rows that another worker takes again when the lease
ends, and a row is marked sent only with the token that claimed it.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine

from alerts import messages
from alerts.models import AlertOutbox, AlertStatus
from bot.db import session_scope
from bot.models import utcnow

MAX_ATTEMPTS = 6
LEASE = timedelta(seconds=60)  # longer than any provider call (20 s timeout) and its retries


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    kind: str
    channel: str
    channel_user: str
    variables: dict
    account: str


def claim(limit: int, lease: timedelta = LEASE, now: Optional[datetime] = None,
          engine: Optional[Engine] = None) -> list[Claimed]:
    now = now or utcnow()
    token = secrets.token_hex(16)
    due = or_(
        (AlertOutbox.status == AlertStatus.PENDING) & (AlertOutbox.next_attempt_at <= now),
        (AlertOutbox.status == AlertStatus.SENDING) & (AlertOutbox.lease_until < now),  # its worker died
    )
    with session_scope(engine) as session:
        ids = session.execute(select(AlertOutbox.id).where(due).order_by(AlertOutbox.id).limit(limit)
                              .with_for_update(skip_locked=True)).scalars().all()
        if not ids:
            return []
        session.execute(update(AlertOutbox).where(AlertOutbox.id.in_(ids), due)
                        .values(status=AlertStatus.SENDING, claim_token=token, lease_until=now + lease,
                                attempts=AlertOutbox.attempts + 1).execution_options(synchronize_session=False))
        rows = session.execute(select(AlertOutbox).where(AlertOutbox.claim_token == token)).scalars().all()
        return [Claimed(r.id, token, r.kind, r.channel, r.channel_user, json.loads(r.variables), r.account)
                for r in rows]


def sent(alert: Claimed, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> bool:
    """Mark sent, if this claim still holds it; False if the lease ran out and another worker has it."""
    with session_scope(engine) as session:
        return session.execute(update(AlertOutbox).where(
            AlertOutbox.id == alert.id, AlertOutbox.claim_token == alert.token,
            AlertOutbox.status == AlertStatus.SENDING).values(
            status=AlertStatus.SENT, sent_at=now or utcnow(), last_error=None)).rowcount == 1


def retry(alert: Claimed, error: str, delay: Optional[timedelta] = None, now: Optional[datetime] = None,
          engine: Optional[Engine] = None) -> AlertStatus:
    """Back off (1, 2, 4… minutes, or the provider's own delay), then give up after MAX_ATTEMPTS with the reason."""
    now = now or utcnow()
    with session_scope(engine) as session:
        row = session.execute(select(AlertOutbox).where(AlertOutbox.id == alert.id,
                                                        AlertOutbox.claim_token == alert.token)).scalar()
        if row is None or row.status != AlertStatus.SENDING:
            return row.status if row else AlertStatus.CANCELLED
        row.last_error = error[:300]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = AlertStatus.FAILED
        else:
            row.status = AlertStatus.PENDING
            row.next_attempt_at = now + (delay or timedelta(minutes=2 ** (row.attempts - 1)))
        row.claim_token, row.lease_until = None, None
        return row.status


def give_up(alert: Claimed, error: str, engine: Optional[Engine] = None) -> None:
    """A failure no retry fixes (no approved template, a channel switched off): recorded at once."""
    with session_scope(engine) as session:
        session.execute(update(AlertOutbox).where(AlertOutbox.id == alert.id, AlertOutbox.claim_token == alert.token)
                        .values(status=AlertStatus.FAILED, last_error=error[:300], claim_token=None))


def for_visit(account: str, engine: Optional[Engine] = None) -> list[str]:
    """The widget's alerts waiting for the customer, marked shown; the texts to show."""
    now = utcnow()
    with session_scope(engine) as session:
        rows = session.execute(select(AlertOutbox).where(
            AlertOutbox.account == account, AlertOutbox.status == AlertStatus.WAITING_VISIT)
            .order_by(AlertOutbox.id).with_for_update(skip_locked=True)).scalars().all()
        for row in rows:
            row.status, row.sent_at = AlertStatus.SENT, now
        return [messages.texts(row.kind, json.loads(row.variables)) for row in rows]
