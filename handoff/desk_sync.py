"""A helpdesk's copy of the cases (handoff/desks/): what it has not seen yet, and its references."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.formatting import CHANNEL_LABELS
from handoff.cases import REASONS, redact
from handoff.models import Author, CaseMessage, CaseStatus, SupportCase

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
            new.append(NewCase(case.id, f"Caso #{case.id} · {CHANNEL_LABELS.get(case.channel, case.channel)} · {who}",
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
