"""How long conversations are kept: `bot purge --older-than DAYS` removes what is older.

Removed: the tracker store's events, the insights' rows, closed support cases
(with their messages) and the providers' delivery ids; the unanswered
messages' groups are counted again and those left empty removed. Kept: staff
labels (redacted texts, the training loop's input) and open cases.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.models import HandledMessage, utcnow
from handoff.models import CaseMessage, CaseStatus, SupportCase
from insights.ingest import events
from insights.models import REPORT_ZONE, InsightTurn
from insights.unanswered import refresh

DEFAULT_DAYS = 180


def purge(older_than_days: int, tracker: Engine, store: Optional[Engine] = None) -> dict[str, int]:
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = utcnow() - timedelta(days=older_than_days)
    with tracker.begin() as connection:
        removed_events = connection.execute(sa.delete(events).where(events.c.timestamp < cutoff.timestamp())).rowcount
    with session_scope(store) as session:
        old_cases = sa.select(SupportCase.id).where(SupportCase.status == CaseStatus.CLOSED,
                                                    SupportCase.closed_at < cutoff)
        session.execute(sa.delete(CaseMessage).where(CaseMessage.case_id.in_(old_cases))
                        .execution_options(synchronize_session=False))
        removed_cases = session.execute(sa.delete(SupportCase).where(SupportCase.status == CaseStatus.CLOSED,
                                                                     SupportCase.closed_at < cutoff)).rowcount
        removed_turns = session.execute(sa.delete(InsightTurn).where(
            InsightTurn.day < cutoff.astimezone(REPORT_ZONE).date())).rowcount
        removed_deliveries = session.execute(sa.delete(HandledMessage).where(HandledMessage.received_at < cutoff)).rowcount
    refresh(store)
    return {"eventos de conversación": removed_events, "mensajes resumidos": removed_turns,
            "casos cerrados": removed_cases, "ids de entrega": removed_deliveries}
