"""Tables of the alerts: who asked for them, the outbox, and the scan's watermarks."""
from __future__ import annotations

import enum

from sqlalchemy import Boolean, Column, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint

from bot.models import Base, Money, UTCDateTime


class AlertSubscription(Base):
    """A customer's opt-in, on one channel: the balance threshold, and the other alerts with it."""

    __tablename__ = "alert_subscriptions"
    __table_args__ = (UniqueConstraint("account", "channel", "channel_user"),)

    id = Column(Integer, primary_key=True)
    account = Column(String(20), nullable=False, index=True)
    channel = Column(String(30), nullable=False)  # the input channel's name
    channel_user = Column(String(120), nullable=False, default="")  # "" for the web widget (shown at the next visit)
    threshold = Column(Money, nullable=False)
    # Armed while the balance is at or above the threshold: one alert per crossing below it.
    armed = Column(Boolean, nullable=False)
    after_entry_id = Column(Integer, nullable=False, default=0)  # ledger entries before the opt-in never alert
    after_failure_id = Column(Integer, nullable=False, default=0)
    created_at = Column(UTCDateTime, nullable=False)


class AlertStatus(str, enum.Enum):
    PENDING = "pending"  # waiting for its time (quiet hours, a retry's backoff)
    SENDING = "sending"  # claimed by a worker until `lease_until`
    SENT = "sent"  # the provider accepted it (or the widget showed it)
    WAITING_VISIT = "waiting_visit"  # for the web widget: shown when the customer next opens it
    FAILED = "failed"  # given up after MAX_ATTEMPTS; `last_error` says why
    CANCELLED = "cancelled"  # the customer opted out before it went


class AlertOutbox(Base):
    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_due", "status", "next_attempt_at"),
                      Index("ix_alert_outbox_visit", "account", "status"))

    id = Column(Integer, primary_key=True)
    subscription_id = Column(ForeignKey("alert_subscriptions.id", ondelete="SET NULL"), nullable=True)
    account = Column(String(20), nullable=False)
    kind = Column(String(20), nullable=False)  # alerts.messages.KINDS
    channel = Column(String(30), nullable=False)
    channel_user = Column(String(120), nullable=False)
    variables = Column(Text, nullable=False)  # JSON: what the text (or the WhatsApp template) shows
    dedupe_key = Column(String(120), nullable=False, unique=True)  # one alert per crossing, failure or card
    status = Column(Enum(AlertStatus, name="alert_status", values_callable=lambda e: [m.value for m in e]),
                    nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False)
    claim_token = Column(String(40), nullable=True)
    lease_until = Column(UTCDateTime, nullable=True)
    last_error = Column(String(300), nullable=True)
    source_at = Column(UTCDateTime, nullable=False)  # when what it reports happened (the charge, the failure)
    created_at = Column(UTCDateTime, nullable=False)
    sent_at = Column(UTCDateTime, nullable=True)


class AlertState(Base):
    __tablename__ = "alert_state"

    key = Column(String(40), primary_key=True)
    value = Column(Text, nullable=False)
