"""Support cases: opening one, the customer's and the agent's messages, closing it.

Every state change is one short transaction on the account store and bumps
the case's `updated_at`, which is what the console's live queue watches.
Messages to the customer (an agent's reply, «Ana tomó tu caso», the closing
note) are stored first as `pending` and relayed afterwards, so a reply whose
channel is gone is kept and reported, never lost.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.models import utcnow
from bot.privacy import hide_cards
from handoff.models import Author, CaseMessage, CaseStatus, Delivery, StaffUser, SupportCase

# Why the assistant handed the conversation over (stored as the key, shown as the label).
REASONS = {
    "asked": "Pidió hablar con una persona",
    "not_understood": "El asistente no le entendió dos veces seguidas",
    "money": "Molesto por un cobro o un depósito",
}
# The intent that made the assistant hand over, as a reason (the action and the insights read it).
# «sí» reaches a person only as the answer to the offer after a charge explanation (data/rules.yml).
REASON_OF_INTENT = {"human_handoff": "asked", "report_charge_problem": "money", "affirm": "money",
                    "nlu_fallback": "not_understood"}
MAX_AGENT_CHARS = 2000
TRANSCRIPT_LIMIT = 60

NOTED = ("Gracias, ya lo anoté en tu caso. La persona de Soporte que lo tome te escribirá aquí mismo; "
         "puedes seguir agregando detalles.")


class CaseError(ValueError):
    """An operation the case's state does not allow; the text is for the agent."""


@dataclass(frozen=True)
class Line:
    author: Author
    text: str
    at: datetime


@dataclass(frozen=True)
class Opened:
    case_id: int
    existing: bool  # the conversation already had an open case


# A card number written in the chat never reaches an agent's screen.
redact = hide_cards


def _touch(case: SupportCase, now: datetime) -> None:
    case.updated_at = now


def open_case(conversation_id: str, channel: str, channel_user: Optional[str], account: Optional[str], reason: str,
              description: Optional[str], transcript: list[Line], now: Optional[datetime] = None,
              engine: Optional[Engine] = None) -> Opened:
    """Open a case for the conversation, or return the one already open."""
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    now = now or utcnow()
    with session_scope(engine) as session:
        existing = session.execute(
            select(SupportCase.id).where(SupportCase.conversation_id == conversation_id,
                                         SupportCase.status != CaseStatus.CLOSED)
        ).scalar()
        if existing is not None:
            return Opened(existing, True)
        case = SupportCase(conversation_id=conversation_id, channel=channel, channel_user=channel_user,
                           account=account, reason=reason, description=description, status=CaseStatus.WAITING,
                           opened_at=now, updated_at=now)
        case.messages = [CaseMessage(author=line.author, text=line.text, at=line.at)
                         for line in transcript[-TRANSCRIPT_LIMIT:]]
        session.add(case)
        session.flush()
        return Opened(case.id, False)


def open_case_of(conversation_id: str, engine: Optional[Engine] = None) -> Optional[int]:
    """The conversation's open case (waiting or with an agent), if it has one."""
    with session_scope(engine) as session:
        return session.execute(
            select(SupportCase.id).where(SupportCase.conversation_id == conversation_id,
                                         SupportCase.status != CaseStatus.CLOSED)
        ).scalar()


def record(case_id: int, author: Author, text: str, now: Optional[datetime] = None,
           engine: Optional[Engine] = None) -> None:
    """Add a line to the transcript (what the assistant told the customer when it handed over)."""
    with session_scope(engine) as session:
        session.add(CaseMessage(case_id=case_id, author=author, text=text, at=now or utcnow()))


def customer_wrote(conversation_id: str, text: str, now: Optional[datetime] = None,
                   engine: Optional[Engine] = None) -> Optional[str]:
    """Add a message to the conversation's open case.

    Returns None when there is no open case (the assistant simply did not
    answer), else what to tell the customer: a thank-you the first time, when
    the message is the description the assistant asked for, and nothing ("")
    after that; the agent answers.
    """
    now = now or utcnow()
    with session_scope(engine) as session:
        case = session.execute(
            select(SupportCase).where(SupportCase.conversation_id == conversation_id,
                                      SupportCase.status != CaseStatus.CLOSED).with_for_update()
        ).scalar()
        if case is None:
            return None
        session.add(CaseMessage(case_id=case.id, author=Author.CUSTOMER, text=text, at=now))
        _touch(case, now)
        if case.description:
            return ""
        case.description = text[:500]
        return NOTED


def _open_for_agent(session, case_id: int) -> SupportCase:
    case = session.execute(select(SupportCase).where(SupportCase.id == case_id).with_for_update()).scalar()
    if case is None:
        raise CaseError("Ese caso no existe.")
    if case.status == CaseStatus.CLOSED:
        raise CaseError("Este caso ya está cerrado: no acepta más mensajes.")
    return case


@dataclass(frozen=True)
class Agent:
    """Who answers: a console user (`id`), or a helpdesk's agent known only by name."""

    id: Optional[int]
    name: str


def _agent(session, staff_id: Optional[int], desk_agent: Optional[str]) -> Agent:
    if staff_id is None:
        return Agent(None, (desk_agent or "Soporte").strip()[:80] or "Soporte")
    user = session.get(StaffUser, staff_id)
    return Agent(user.id, user.display_name)


def _to_customer(case: SupportCase, author: Author, text: str, now: datetime, agent: Agent) -> CaseMessage:
    message = CaseMessage(author=author, text=text, at=now, delivery=Delivery.PENDING, agent_id=agent.id,
                          agent_name=agent.name)
    case.messages.append(message)
    _touch(case, now)
    return message


def _assign(case: SupportCase, agent: Agent, now: datetime) -> None:
    if case.status == CaseStatus.WAITING:
        case.status, case.agent_id, case.taken_at = CaseStatus.WITH_AGENT, agent.id, now
        _to_customer(case, Author.SYSTEM, f"{agent.name}, de Soporte, tomó tu caso y te escribirá aquí mismo.",
                     now, agent)


def _held_by_another(case: SupportCase, staff_id: Optional[int], doing: str) -> None:
    """Only the agent who holds a case answers or closes it; a waiting one is taken by whoever acts first.
    A helpdesk (staff_id None) answers for its own agents."""
    if staff_id is not None and case.status == CaseStatus.WITH_AGENT and case.agent_id != staff_id:
        holder = case.agent.display_name if case.agent else "Otra persona"
        raise CaseError(f"{holder} ya atiende este caso{doing}.")


def take(case_id: int, staff_id: int, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> None:
    now = now or utcnow()
    with session_scope(engine) as session:
        case, agent = _open_for_agent(session, case_id), _agent(session, staff_id, None)
        _held_by_another(case, staff_id, "")
        _assign(case, agent, now)


def agent_reply(case_id: int, staff_id: Optional[int], text: object, now: Optional[datetime] = None,
                engine: Optional[Engine] = None, desk_agent: Optional[str] = None) -> int:
    """Store an agent's reply for relaying (taking the case if nobody had; refused if another agent has it);
    returns its id."""
    if not isinstance(text, str) or not text.strip():
        raise CaseError("Escribe un mensaje antes de enviarlo.")
    if len(text) > MAX_AGENT_CHARS:
        raise CaseError(f"El mensaje es muy largo (máximo {MAX_AGENT_CHARS:,} caracteres).")
    now = now or utcnow()
    with session_scope(engine) as session:
        case, agent = _open_for_agent(session, case_id), _agent(session, staff_id, desk_agent)
        _held_by_another(case, staff_id, ": solo esa persona puede responder")
        _assign(case, agent, now)
        message = _to_customer(case, Author.AGENT, text.strip(), now, agent)
        session.flush()
        return message.id


def close(case_id: int, staff_id: Optional[int], now: Optional[datetime] = None, engine: Optional[Engine] = None,
          desk_agent: Optional[str] = None) -> None:
    now = now or utcnow()
    with session_scope(engine) as session:
        case, agent = _open_for_agent(session, case_id), _agent(session, staff_id, desk_agent)
        _held_by_another(case, staff_id, ": solo esa persona puede cerrarlo")
        case.status, case.closed_at = CaseStatus.CLOSED, now
        case.agent_id = case.agent_id or agent.id
        _to_customer(case, Author.SYSTEM,
                     f"{agent.name} cerró la conversación con Soporte. Si necesitas algo más, aquí sigo: "
                     "soy el asistente de tu Cuenta de Prepago.", now, agent)
