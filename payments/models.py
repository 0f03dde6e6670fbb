"""The tables of self-service payments, on the account store's metadata."""
from __future__ import annotations

import enum

from sqlalchemy import Column, Enum, ForeignKey, Index, Integer, String, Text, text

from bot.models import Base, Money, UTCDateTime


class OperationKind(str, enum.Enum):
    ADD_FUNDS = "add_funds"
    AUTO_RECHARGE = "auto_recharge"
    CARD_UPDATE = "card_update"


class Status(str, enum.Enum):
    PROPOSED = "proposed"  # shown to the customer, waiting for an explicit «sí»
    PENDING = "pending"  # confirmed; the provider is being asked
    SUCCEEDED = "succeeded"
    DECLINED = "declined"  # the bank said no (card_declined, expired_card…): nothing charged
    NEEDS_AUTHENTICATION = "needs_authentication"  # 3-D Secure: only the portal can do it
    # The provider did not answer (timeout, 500) and no charge was found by its key:
    # nothing deposited; `bot reconcile` looks for it again and settles it if it appears.
    UNVERIFIED = "unverified"
    CANCELLED = "cancelled"  # «no», or a proposal that expired unconfirmed
    REFUSED = "refused"  # a rule said no (daily limit, another operation pending)
    PENDING_LINK = "link_sent"  # card update: the one-time link is out, no card saved yet


def _values(e):
    return [m.value for m in e]


class Operation(Base):
    """One self-service operation, from proposal to outcome: the audit log."""

    __tablename__ = "payment_operations"
    __table_args__ = (
        Index("ix_payment_operations_account_time", "account_id", "created_at"),
        # One operation at a time per account: a second confirmation while one is
        # with the provider cannot insert (both databases honour partial indexes).
        Index("uq_payment_operations_one_pending", "account_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id = Column(Integer, primary_key=True)
    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    kind = Column(Enum(OperationKind, name="payment_operation_kind", values_callable=_values), nullable=False)
    status = Column(Enum(Status, name="payment_operation_status", values_callable=_values), nullable=False)
    actor = Column(String(160), nullable=False)  # who: "web:100100 (billing)", "whatsapp:+5215512345678"
    channel = Column(String(20), nullable=False)
    conversation = Column(String(160), nullable=False)
    amount = Column(Money, nullable=True)  # what was charged or set
    threshold = Column(Money, nullable=True)  # auto-recharge: the balance that triggers it
    enabled = Column(Integer, nullable=True)  # auto-recharge: 1 on, 0 off
    card = Column(String(60), nullable=True)  # "Visa terminada en 4242", as shown in the confirmation
    # Derived from the conversation and the turn that asked for confirmation: the
    # provider's Idempotency-Key, so every retry of this charge is the same charge.
    idempotency_key = Column(String(80), nullable=True, unique=True)
    provider_ref = Column(String(80), nullable=True)  # pi_…, cs_…
    reason = Column(String(80), nullable=True)  # card_declined, expired_card, timeout, daily_limit…
    folio = Column(String(30), nullable=True, unique=True)
    ledger_entry_id = Column(ForeignKey("ledger_entries.id"), nullable=True, unique=True)
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)


class PaymentProfile(Base):
    """The provider's customer and saved payment method behind an account's card on file."""

    __tablename__ = "payment_profiles"

    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    customer_id = Column(String(80), nullable=False)
    payment_method_id = Column(String(80), nullable=False)


class CardSetup(Base):
    """A hosted setup session (the one-time link to save a new card) and whether its card was applied."""

    __tablename__ = "card_setups"

    session_id = Column(String(80), primary_key=True)
    account_id = Column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    operation_id = Column(ForeignKey("payment_operations.id"), nullable=False)
    url = Column(Text, nullable=False)
    expires_at = Column(UTCDateTime, nullable=False)
    applied_at = Column(UTCDateTime, nullable=True)
