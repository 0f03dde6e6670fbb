"""Tables of the insights: one row per customer message, staff labels, the ingest's watermark."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Float, Index, Integer, String, Text

from bot.models import Base, UTCDateTime


class InsightTurn(Base):
    """A customer message and what the assistant did with it (from the tracker store's events)."""

    __tablename__ = "insight_turns"
    __table_args__ = (Index("ix_insight_turns_day_channel", "day", "channel"),
                      Index("ix_insight_turns_sender", "sender_id", "event_id"))

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
