"""Support cases: opening one, the customer's and the agent's messages, closing it.

Every state change is one short transaction on the account store and bumps
the case's `updated_at`, which is what the console's live queue watches.
Messages to the customer (an agent's reply, «Ana tomó tu caso», the closing
note) are stored first as `pending` and relayed afterwards, so a reply whose
channel is gone is kept and reported, never lost.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from bot import formatting as fmt
from bot.db import session_scope
from bot.models import EntryKind, utcnow
from bot.privacy import hide_cards
from bot.replies import movement_line
from bot.store import UnknownAccount, get_account, movements
from handoff import hours
from handoff.models import Author, CaseMessage, CaseStatus, Delivery, StaffUser, SupportCase
from payments.audit import describe as describe_operation, operations_in

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
CHANNELS = {
    "prepago_socketio": "Chat web",
    "prepago": "API",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "messenger": "Messenger",
}
STATUSES = {CaseStatus.WAITING: "En espera", CaseStatus.WITH_AGENT: "Con un agente", CaseStatus.CLOSED: "Cerrado"}
DELIVERIES = {
    Delivery.PENDING: "Enviando…",
    Delivery.SENT: "Entregado al canal",
    Delivery.STORED: "Guardado en la conversación: lo verá al volver al chat",
    Delivery.FAILED: "No se pudo entregar",
}
MAX_AGENT_CHARS = 2000
MAX_ATTEMPTS = 5
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


# --- relaying (the Rasa process's side) -------------------------------------------------

@dataclass(frozen=True)
class Outgoing:
    id: int
    author: Author
    agent_name: Optional[str]
    text: str
    attempts: int  # relays tried before; a retried message is already in the conversation


@dataclass(frozen=True)
class Route:
    """Where a case's messages go, and whether the assistant resumes after them."""

    conversation_id: str
    channel: str
    channel_user: Optional[str]
    closed: bool
    messages: tuple[Outgoing, ...]


def pending(case_id: int, engine: Optional[Engine] = None) -> Optional[Route]:
    with session_scope(engine) as session:
        case = session.get(SupportCase, case_id)
        if case is None:
            return None
        rows = session.execute(
            select(CaseMessage).where(CaseMessage.case_id == case_id, CaseMessage.delivery == Delivery.PENDING)
            .order_by(CaseMessage.id)
        ).scalars().all()
        return Route(case.conversation_id, case.channel, case.channel_user, case.status == CaseStatus.CLOSED,
                     tuple(Outgoing(m.id, m.author, m.agent_name, m.text, m.attempts) for m in rows))


def mark(message_ids: list[int], delivery: Delivery, note: Optional[str] = None, now: Optional[datetime] = None,
         engine: Optional[Engine] = None) -> None:
    """Record what the channel did with messages; a failure is final after MAX_ATTEMPTS tries."""
    if not message_ids:
        return
    now = now or utcnow()
    with session_scope(engine) as session:
        rows = session.execute(select(CaseMessage).where(CaseMessage.id.in_(message_ids))
                               .with_for_update()).scalars().all()
        for message in rows:
            message.attempts += 1
            message.delivery_note = note[:200] if note else None
            if delivery == Delivery.PENDING and message.attempts >= MAX_ATTEMPTS:
                message.delivery = Delivery.FAILED
            else:
                message.delivery = delivery
            if delivery in (Delivery.SENT, Delivery.STORED):
                message.delivered_at = now
        if rows:
            session.execute(update(SupportCase).where(SupportCase.id == rows[0].case_id).values(updated_at=now))


def cases_to_relay(older_than: timedelta = timedelta(seconds=10), now: Optional[datetime] = None,
                   engine: Optional[Engine] = None) -> list[int]:
    """Cases with messages still pending a while after they were written: their relay failed."""
    cutoff = (now or utcnow()) - older_than
    with session_scope(engine) as session:
        return list(session.execute(
            select(CaseMessage.case_id).where(CaseMessage.delivery == Delivery.PENDING, CaseMessage.at < cutoff)
            .distinct()).scalars())


# --- a helpdesk's copy (handoff/desks) ------------------------------------------------

@dataclass(frozen=True)
class NewCase:
    id: int
    title: str  # «Caso #12 · WhatsApp · cuenta 100100»
    summary: str  # reason, description and transcript, as one note for the helpdesk's agent


def desk_backlog(engine: Optional[Engine] = None) -> tuple[list[NewCase], list[tuple[int, str, str]]]:
    """Open cases not yet in the helpdesk, and customer messages (id, desk ref, text) not yet copied."""
    with session_scope(engine) as session:
        fresh = session.execute(select(SupportCase).where(SupportCase.desk_ref.is_(None),
                                                          SupportCase.status != CaseStatus.CLOSED)
                                .order_by(SupportCase.id).limit(50)).scalars().all()
        new = []
        for case in fresh:
            who = f"cuenta {case.account}" if case.account else "sin sesión"
            lines = [f"Motivo: {REASONS.get(case.reason, case.reason)}",
                     f"Descripción: {redact(case.description) if case.description else '(aún no la da)'}", "",
                     "Conversación con el asistente:"]
            lines += [f"{'Cliente' if m.author == Author.CUSTOMER else 'Asistente'}: "
                      f"{redact(m.text) if m.author == Author.CUSTOMER else m.text}"
                      for m in case.messages if m.author in (Author.CUSTOMER, Author.BOT)]
            new.append(NewCase(case.id, f"Caso #{case.id} · {CHANNELS.get(case.channel, case.channel)} · {who}",
                               "\n".join(lines)))
        rows = session.execute(
            select(CaseMessage.id, SupportCase.desk_ref, CaseMessage.text)
            .join(SupportCase, CaseMessage.case_id == SupportCase.id)
            .where(SupportCase.desk_ref.is_not(None), CaseMessage.author == Author.CUSTOMER,
                   CaseMessage.synced.is_(False))
            .order_by(CaseMessage.id).limit(200)).all()
        return new, [(i, ref, redact(text)) for i, ref, text in rows]


def set_desk_ref(case_id: int, ref: str, engine: Optional[Engine] = None) -> None:
    """The helpdesk has the case: its messages so far went in the opening note."""
    with session_scope(engine) as session:
        session.execute(update(SupportCase).where(SupportCase.id == case_id).values(desk_ref=ref))
        session.execute(update(CaseMessage).where(CaseMessage.case_id == case_id).values(synced=True))


def mark_synced(message_ids: list[int], engine: Optional[Engine] = None) -> None:
    with session_scope(engine) as session:
        session.execute(update(CaseMessage).where(CaseMessage.id.in_(message_ids)).values(synced=True))


def case_for_desk(ref: str, engine: Optional[Engine] = None) -> Optional[int]:
    with session_scope(engine) as session:
        return session.execute(select(SupportCase.id).where(SupportCase.desk_ref == ref)).scalar()


# --- what the console shows -------------------------------------------------------------

def version(engine: Optional[Engine] = None) -> str:
    """Changes whenever any case or message changes: the live queue's cue to refresh."""
    with session_scope(engine) as session:
        latest, count = session.execute(select(func.max(SupportCase.updated_at), func.count(SupportCase.id))).one()
        return f"{latest.isoformat() if latest else '-'}/{count}"


def _summary(case: SupportCase) -> dict:
    return {
        "id": case.id,
        "status": case.status.value,
        "status_label": STATUSES[case.status],
        "channel": CHANNELS.get(case.channel, case.channel),
        "account": case.account or "sin sesión",
        "reason": REASONS.get(case.reason, case.reason),
        "description": redact(case.description) if case.description else None,
        "agent": case.agent.display_name if case.agent else _desk_agent(case),
        "opened_at": case.opened_at.isoformat(),
        "opened": fmt.day_and_time(case.opened_at.astimezone(ZoneInfo(hours.DEFAULT_TIMEZONE))),
    }


def _desk_agent(case: SupportCase) -> Optional[str]:
    """A helpdesk agent has no console account: their name is on their messages."""
    if case.status == CaseStatus.WAITING:
        return None
    return next((m.agent_name for m in case.messages if m.author == Author.AGENT and m.agent_name), None)


def queue(engine: Optional[Engine] = None) -> list[dict]:
    """Open cases: waiting ones first, newest first; then those with an agent."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(SupportCase).where(SupportCase.status != CaseStatus.CLOSED)
            .order_by(SupportCase.opened_at.desc()).limit(200)
        ).scalars().all()
        return [_summary(case) for case in sorted(rows, key=lambda c: c.status != CaseStatus.WAITING)]


def detail(case_id: int, engine: Optional[Engine] = None) -> Optional[dict]:
    """A case for the console: summary, transcript (redacted) and the account's context."""
    with session_scope(engine) as session:
        case = session.get(SupportCase, case_id)
        if case is None:
            return None
        zone = ZoneInfo(hours.DEFAULT_TIMEZONE)
        transcript = [{
            "author": m.author.value,
            "name": m.agent_name,
            "text": redact(m.text) if m.author == Author.CUSTOMER else m.text,
            "at": fmt.day_and_time(m.at.astimezone(zone)),
            "delivery": DELIVERIES[m.delivery] if m.delivery else None,
            "delivery_state": m.delivery.value if m.delivery else None,
            "delivery_note": m.delivery_note,
        } for m in case.messages]
        return {**_summary(case), "transcript": transcript, "context": _context(session, case.account)}


def _context(session, number: Optional[str]) -> Optional[dict]:
    """What an agent needs about the account: never the PIN, never more of the card than its last four."""
    if number is None:
        return None
    try:
        account = get_account(session, number)
    except UnknownAccount:
        return None
    zone = ZoneInfo(account.timezone)
    today = utcnow().astimezone(zone).date()
    recharge = account.auto_recharge
    card = account.card
    latest, _ = movements(session, account, limit=5)
    last_deposit, _ = movements(session, account, limit=1, kinds=(EntryKind.DEPOSIT, EntryKind.AUTO_RECHARGE))
    return {
        "company": account.company,
        "balance": fmt.money(account.balance),
        "auto_recharge": (f"activada, recarga {fmt.money(recharge.amount)} cuando el saldo baja de "
                          f"{fmt.money(recharge.threshold)}") if recharge and recharge.enabled else "desactivada",
        "card": (f"{card.brand} terminada en {card.last4}, vence {card.exp_month:02d}/{card.exp_year}"
                 if card else "Sin tarjeta"),
        "movements": [movement_line(m, zone, today).lstrip("• ") for m in latest],
        "last_deposit": movement_line(last_deposit[0], zone, today).lstrip("• ") if last_deposit else None,
        # Payments done from the chat (payments/): who, channel, amount, provider reference, outcome.
        "operations": [describe_operation(line, account.timezone) for line in operations_in(session, number, 5)],
    }
