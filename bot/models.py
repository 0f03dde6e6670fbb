"""Schema of the account store.

Money is stored as integer centavos and surfaced as `Decimal`, so SQLite and
PostgreSQL both keep it exact. Timestamps are stored as naive UTC and surfaced
as aware UTC datetimes.
"""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

from bot.config import BUSINESS_TIMEZONE

Base = declarative_base()

CENT = Decimal("0.01")


class Money(TypeDecorator):
    """Exact amount in pesos, stored as BIGINT centavos."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        if value != value.quantize(CENT):
            raise ValueError(f"amount {value} has more than two decimals")
        return int(value * 100)

    def process_result_value(self, value, dialect):
        return None if value is None else (Decimal(value) / 100).quantize(CENT)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetime in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the account store; use aware UTC")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class EntryKind(str, enum.Enum):
    DEPOSIT = "deposit"
    AUTO_RECHARGE = "auto_recharge"
    CALL_CHARGE = "call_charge"


class Account(Base):
    __tablename__ = "accounts"

    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    company = Column(String(120), nullable=False)
    timezone = Column(String(64), nullable=False, default=BUSINESS_TIMEZONE)
    # Kept equal to the sum of the ledger by `store.record_entry`, in the same transaction.
    balance = Column(Money, nullable=False, default=Decimal("0.00"))
    # Verification PIN for linking a messaging identity: salted scrypt hash, never the PIN.
    pin_hash = Column(String(200), nullable=True)

    extensions = relationship("Extension", back_populates="account", order_by="Extension.number")
    card = relationship("Card", uselist=False, back_populates="account")
    auto_recharge = relationship("AutoRecharge", uselist=False, back_populates="account")


class Extension(Base):
    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("account_id", "number"),)

    id = Column(Integer, primary_key=True)
    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    number = Column(String(8), nullable=False)
    label = Column(String(80), nullable=False)

    account = relationship("Account", back_populates="extensions")


class Card(Base):
    """The card on file: never more than brand, last four digits and expiry."""

    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("length(last4) = 4", name="card_last4_len"),
        CheckConstraint("exp_month BETWEEN 1 AND 12", name="card_exp_month"),
    )

    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    brand = Column(String(20), nullable=False)
    last4 = Column(String(4), nullable=False)
    exp_month = Column(SmallInteger, nullable=False)
    exp_year = Column(SmallInteger, nullable=False)

    account = relationship("Account", back_populates="card")


class AutoRecharge(Base):
    __tablename__ = "auto_recharge"

    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    enabled = Column(Boolean, nullable=False, default=True)
    threshold = Column(Money, nullable=False)
    amount = Column(Money, nullable=False)

    account = relationship("Account", back_populates="auto_recharge")


class LedgerEntry(Base):
    """One movement of the prepaid balance: positive credits, negative charges."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # Newest-first listing of an account, and of one extension of it.
        Index("ix_ledger_account_time", "account_id", "occurred_at", "id"),
        Index("ix_ledger_account_ext_time", "account_id", "extension_id", "occurred_at"),
        CheckConstraint(
            "(kind = 'call_charge' AND amount < 0) OR (kind <> 'call_charge' AND amount > 0)",
            name="ledger_amount_sign",
        ),
    )

    id = Column(Integer, primary_key=True)
    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    occurred_at = Column(UTCDateTime, nullable=False)
    kind = Column(
        Enum(EntryKind, name="entry_kind", values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )
    amount = Column(Money, nullable=False)
    balance_after = Column(Money, nullable=False)
    extension_id = Column(ForeignKey("extensions.id"), nullable=True)
    destination_country = Column(String(60), nullable=True)
    duration_seconds = Column(Integer, nullable=True)

    extension = relationship("Extension")


class RechargeFailure(Base):
    """An automatic recharge the card refused: no money moved, so it is not a ledger entry."""

    __tablename__ = "recharge_failures"
    __table_args__ = (Index("ix_recharge_failures_account_time", "account_id", "occurred_at"),)

    id = Column(Integer, primary_key=True)
    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    occurred_at = Column(UTCDateTime, nullable=False)
    amount = Column(Money, nullable=False)  # what the recharge tried to charge
    reason = Column(String(120), nullable=False)  # the processor's words, e.g. «tarjeta rechazada por el banco»


class ChannelLink(Base):
    """A messaging identity (WhatsApp number, Telegram or Messenger user) linked to an account."""

    __tablename__ = "channel_links"

    channel = Column(String(20), primary_key=True)
    user_id = Column(String(120), primary_key=True)
    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    linked_at = Column(UTCDateTime, nullable=False)


class LinkGuard(Base):
    """Failed linking attempts against one key, and its lock.

    Keys: `account:<number>` (every identity trying that account, existing or
    not), `identity:<channel>:<user>` (one chat, whatever account it tries)
    and `all:<minute>` (every PIN check in one minute). Kept apart from the
    links and the linking step, so neither a successful link of another
    account nor «desvincular» resets them.
    """

    __tablename__ = "link_guards"

    key = Column(String(160), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    locked_until = Column(UTCDateTime, nullable=True)
    updated_at = Column(UTCDateTime, nullable=False)


class StepUp(Base):
    """A fresh proof of the account PIN from a linked chat, needed before money moves from it.

    Linking proves the chat once; moving money asks again (bot/linking.py,
    `begin_step_up`), with the same attempt guards, and the proof is good for a
    few minutes only. `resume` is the request to carry on with once the PIN is right.
    """

    __tablename__ = "step_ups"

    channel = Column(String(20), primary_key=True)
    user_id = Column(String(120), primary_key=True)
    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    verified_at = Column(UTCDateTime, nullable=True)
    resume = Column(Text, nullable=True)


class HandledMessage(Base):
    """A provider's message id already handled: providers retry webhooks, and a
    retried «desvincular» or PIN must not run twice."""

    __tablename__ = "deliveries"

    channel = Column(String(20), primary_key=True)
    message_id = Column(String(128), primary_key=True)
    received_at = Column(UTCDateTime, nullable=False, index=True)


class ChannelState(Base):
    """Per-identity state of a messaging conversation that must not live in Rasa's
    tracker: the linking step and the numbered options last offered on WhatsApp.
    (`failures` and `locked_until` are no longer used: see LinkGuard.)"""

    __tablename__ = "channel_states"

    channel = Column(String(20), primary_key=True)
    user_id = Column(String(120), primary_key=True)
    link_step = Column(String(10), nullable=True)  # None, "account" or "pin"
    pending_account = Column(String(20), nullable=True)
    failures = Column(Integer, nullable=False, default=0)
    locked_until = Column(UTCDateTime, nullable=True)
    options = Column(Text, nullable=True)  # JSON list of payloads for "1", "2", ...
    updated_at = Column(UTCDateTime, nullable=False)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
