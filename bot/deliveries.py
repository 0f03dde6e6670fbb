"""Each message a provider delivers is handled once, however often it is retried.

Twilio, Telegram and Meta all retry a webhook they think failed, with the same
message id (`MessageSid`, `update_id`, `mid`). An INSERT … ON CONFLICT DO
NOTHING on (channel, id) decides atomically, across replicas too.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete
from sqlalchemy.engine import Engine

from bot.db import dialect_insert, session_scope
from bot.models import HandledMessage, utcnow

KEEP = timedelta(days=2)  # providers stop retrying long before this


def first_delivery(channel: str, message_id: str, now: Optional[datetime] = None,
                   engine: Optional[Engine] = None) -> bool:
    """True the first time `message_id` arrives on `channel`; False for a retry."""
    now = now or utcnow()
    with session_scope(engine) as session:
        inserted = session.execute(
            dialect_insert(session)(HandledMessage)
            .values(channel=channel, message_id=message_id[:128], received_at=now)
            .on_conflict_do_nothing()
        ).rowcount
        # Forget ids older than any retry (an index range that is empty almost always).
        session.execute(delete(HandledMessage).where(HandledMessage.received_at < now - KEEP)
                        .execution_options(synchronize_session=False))
        return bool(inserted)
