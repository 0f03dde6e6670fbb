"""Tables of the handoff: support cases, their messages, staff and staff sessions.

On the account store's metadata (bot.models.Base), so the schema's revisions
(migrations/) cover them with the rest.
"""
from __future__ import annotations

import enum

from sqlalchemy import Boolean, Column, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from bot.models import Base, UTCDateTime


class CaseStatus(str, enum.Enum):
    WAITING = "waiting"  # in the queue, nobody has taken it
    WITH_AGENT = "with_agent"
    CLOSED = "closed"


class Author(str, enum.Enum):
    CUSTOMER = "customer"
    BOT = "bot"  # the assistant's turns before the handoff
    AGENT = "agent"
    SYSTEM = "system"  # what the customer is told about the case (taken, closed)


class Delivery(str, enum.Enum):
    """Where an agent's (or the case's) message to the customer stands."""

    PENDING = "pending"
    SENT = "sent"  # accepted by the customer's channel
    STORED = "stored"  # in the conversation, no live channel to push it (shown at the next visit)
    FAILED = "failed"  # the channel refused it; kept and shown to the agent


def _enum(kind, name):
    return Enum(kind, name=name, values_callable=lambda e: [m.value for m in e])


class SupportCase(Base):
    __tablename__ = "support_cases"
    __table_args__ = (
        # The queue (open cases, newest first) and "the open case of this conversation".
        Index("ix_cases_status_opened", "status", "opened_at"),
        Index("ix_cases_conversation_status", "conversation_id", "status"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)  # Rasa's sender id
    channel = Column(String(30), nullable=False)  # the input channel's name
    # Where the channel delivers (a WhatsApp number, a Telegram or Messenger user
    # id); never shown in the console. None for the widget and the API.
    channel_user = Column(String(120), nullable=True)
    account = Column(String(20), nullable=True)  # the verified account; None: «sin sesión»
    reason = Column(String(20), nullable=False)  # handoff.cases.REASONS
    description = Column(Text, nullable=True)  # the customer's own words about the problem
    status = Column(_enum(CaseStatus, "case_status"), nullable=False, default=CaseStatus.WAITING)
    agent_id = Column(ForeignKey("staff_users.id"), nullable=True)
    opened_at = Column(UTCDateTime, nullable=False)
    taken_at = Column(UTCDateTime, nullable=True)
    closed_at = Column(UTCDateTime, nullable=True)
    updated_at = Column(UTCDateTime, nullable=False)
    # A helpdesk's id for this case (handoff/desks), once synced.
    desk_ref = Column(String(64), nullable=True, index=True)

    agent = relationship("StaffUser")
    messages = relationship("CaseMessage", order_by="CaseMessage.id", back_populates="case")


class CaseMessage(Base):
    __tablename__ = "case_messages"
    __table_args__ = (Index("ix_case_messages_delivery", "delivery", "case_id"),)

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("support_cases.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(_enum(Author, "case_author"), nullable=False)
    agent_id = Column(ForeignKey("staff_users.id"), nullable=True)
    agent_name = Column(String(80), nullable=True)  # as shown to the customer
    text = Column(Text, nullable=False)
    at = Column(UTCDateTime, nullable=False)
    # Messages to the customer only (agent, system); None for the transcript.
    delivery = Column(_enum(Delivery, "case_delivery"), nullable=True)
    delivery_note = Column(String(200), nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    delivered_at = Column(UTCDateTime, nullable=True)
    synced = Column(Boolean, nullable=False, default=False)  # copied to the helpdesk, if one is used

    case = relationship("SupportCase", back_populates="messages")


class StaffUser(Base):
    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(60), nullable=False, unique=True)
    display_name = Column(String(80), nullable=False)  # what customers see: «Ana (Soporte)»
    password_hash = Column(String(200), nullable=False)  # Argon2id, never the password
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(UTCDateTime, nullable=True)
    created_at = Column(UTCDateTime, nullable=False)


class StaffSession(Base):
    """A signed-in staff member. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "staff_sessions"

    token_hash = Column(String(64), primary_key=True)
    staff_id = Column(ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False)
    expires_at = Column(UTCDateTime, nullable=False)

    staff = relationship("StaffUser")
