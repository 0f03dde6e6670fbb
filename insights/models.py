"""Tables of the insights: one row per customer message, the unanswered messages' groups, staff labels,
the ingest's watermark (their schema changes are revisions in migrations/versions/)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import JSON, Boolean, Column, Date, Float, Index, Integer, String, Text

from bot.config import BUSINESS_TIMEZONE
from bot.models import Base, UTCDateTime

REPORT_ZONE = ZoneInfo(BUSINESS_TIMEZONE)  # the zone of `InsightTurn.day`: the support team's days


class InsightTurn(Base):
    """A customer message and what the assistant did with it (from the tracker store's events)."""

    __tablename__ = "insight_turns"
    __table_args__ = (
        Index("ix_insight_turns_day_channel", "day", "channel"),
        Index("ix_insight_turns_sender", "sender_id", "event_id"),
    )

    event_id = Column(Integer, primary_key=True, autoincrement=False)  # the user event's id in `events`
    sender_id = Column(String(255), nullable=False)
    at = Column(UTCDateTime, nullable=False)
    day = Column(Date, nullable=False)  # in the support team's time zone: a conversation is a customer's day
    channel = Column(String(30), nullable=False)
    intent = Column(String(60), nullable=True)
    confidence = Column(Float, nullable=True)
    # When the fallback fired, the classifier's real guesses are the next entries of the ranking.
    guess_1 = Column(String(60), nullable=True)
    confidence_1 = Column(Float, nullable=True)
    guess_2 = Column(String(60), nullable=True)
    confidence_2 = Column(Float, nullable=True)
    fallback = Column(Boolean, nullable=False, default=False)
    clarified = Column(Boolean, nullable=False, default=False)  # the assistant offered suggestions
    second_miss = Column(Boolean, nullable=False, default=False)  # a miss right after a clarification
    picked = Column(Boolean, nullable=False, default=False)  # the customer tapped an offered suggestion
    handoff_reason = Column(String(20), nullable=True)
    lookup = Column(String(40), nullable=True)  # the account action that answered
    response_ms = Column(Integer, nullable=True)
    text = Column(Text, nullable=True)  # redacted; kept only for messages the assistant did not understand
    # The unanswered message's group, assigned when it is ingested (insights/unanswered.py).
    group_id = Column(Integer, nullable=True)


class InsightGroup(Base):
    """Unanswered messages that say the same thing: grouped as they arrive, never recomputed per request.

    `messages`, `first_seen`, `last_seen` and `guesses` cover all the group's messages (a date range's
    figures are counted from the messages' rows); `guesses` tallies the classifier's guesses behind the
    fallback, {intent: [times, sum of confidences]}."""

    __tablename__ = "insight_groups"

    id = Column(Integer, primary_key=True)
    text = Column(Text, nullable=False)  # the leading text: the first of the group to arrive; others join it
    messages = Column(Integer, nullable=False, default=0)
    first_seen = Column(UTCDateTime, nullable=True)
    last_seen = Column(UTCDateTime, nullable=True)
    guesses = Column(JSON, nullable=False, default=dict)


# The unanswered messages are a small share of the rows: partial indexes over them only. Queries use
# these same conditions, so both databases see that an index applies.
UNGROUPED = sa.and_(InsightTurn.fallback, InsightTurn.text.is_not(None), InsightTurn.group_id.is_(None))
GROUPED = InsightTurn.group_id.is_not(None)
Index("ix_insight_turns_ungrouped", InsightTurn.event_id, sqlite_where=UNGROUPED, postgresql_where=UNGROUPED)
# From the indexes alone: a range's groups ranked (and each one's newest message), a group's texts in a
# range; and a text's group.
Index("ix_insight_turns_group_rank", InsightTurn.day, InsightTurn.group_id, InsightTurn.second_miss, InsightTurn.at,
      sqlite_where=GROUPED, postgresql_where=GROUPED)
Index("ix_insight_turns_group_texts", InsightTurn.group_id, InsightTurn.text, InsightTurn.day,
      sqlite_where=GROUPED, postgresql_where=GROUPED)
Index("ix_insight_turns_group_text", InsightTurn.text, sqlite_where=GROUPED, postgresql_where=GROUPED)


class InsightLabel(Base):
    """A staff member's label for an unanswered question: an intent, or out of scope."""

    __tablename__ = "insight_labels"

    text = Column(String(500), primary_key=True)  # the redacted text as shown
    label = Column(String(60), nullable=False)
    labelled_by = Column(String(80), nullable=False)
    labelled_at = Column(UTCDateTime, nullable=False)


class InsightState(Base):
    __tablename__ = "insight_state"

    key = Column(String(40), primary_key=True)
    value = Column(Text, nullable=False)
