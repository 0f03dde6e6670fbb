"""Handing a conversation over: open (or find) the case and tell the customer what happens next."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.models import Account
from handoff import hours
from handoff.cases import Line, open_case, record
from handoff.models import Author

# Asking for a person in so few words says nothing about the problem: ask for it.
DESCRIBED_MIN_WORDS = 6

OPENING = {
    "asked": "Claro, te comunico con una persona de Soporte.",
    "not_understood": "Perdón, no logré entenderte. Le paso tu conversación a una persona de Soporte para que te ayude.",
    "money": "Entiendo tu molestia con ese cargo o depósito; que lo revise una persona de Soporte.",
}
ASK_DESCRIPTION = "Mientras tanto, ¿me cuentas en pocas palabras qué pasó? Se lo dejo anotado."
ALREADY_OPEN = ("Tu caso #{case} con Soporte sigue abierto: en cuanto una persona lo tome, te escribirá aquí mismo.")
TOO_MANY_ANONYMOUS = ("Desde tu conexión ya se abrieron varios casos sin sesión en la última hora, así que ahora "
                      "no puedo abrir otro. Si inicias sesión, te comunico con Soporte; si no, intenta de nuevo "
                      "más tarde o llama a Soporte de Ooma Office.")
UNAVAILABLE = ("Perdón, en este momento no pude comunicarte con Soporte. Intenta de nuevo en unos minutos "
               "o llama a Soporte de Ooma Office.")


def described(text: Optional[str]) -> bool:
    return bool(text) and len(text.split()) >= DESCRIBED_MIN_WORDS


def _zone_of(account: Optional[str], engine: Optional[Engine]) -> Optional[str]:
    if account is None:
        return None
    with session_scope(engine) as session:
        return session.execute(select(Account.timezone).where(Account.number == account)).scalar()


def hand_over(conversation_id: str, channel: str, channel_user: Optional[str], account: Optional[str], reason: str,
              description: Optional[str], transcript: list[Line], now: Optional[datetime] = None,
              engine: Optional[Engine] = None) -> str:
    """Open the case and return what to tell the customer (the assistant pauses after it)."""
    # "quiero un agente" says nothing about the problem: ask, and keep the answer as the description.
    ask = reason == "asked" and not described(description)
    description = None if ask else description
    opened = open_case(conversation_id, channel, channel_user, account, reason, description, transcript, now, engine)
    if opened.existing:
        return ALREADY_OPEN.format(case=opened.case_id)
    schedule = hours.configured()
    local = hours.local_now(_zone_of(account, engine), now)
    parts = [OPENING[reason]]
    if schedule.is_open(local):
        parts.append(f"Abrí tu caso #{opened.case_id}: en cuanto alguien lo tome te escribirá aquí mismo "
                     "y, mientras, yo no contestaré.")
    else:
        when = hours.when_text(schedule.next_opening(local), local)
        parts.append(f"Ahora estamos fuera del horario de atención ({schedule.text}), pero tu caso "
                     f"#{opened.case_id} quedó guardado: una persona te responderá aquí mismo {when}.")
    if ask:
        parts.append(ASK_DESCRIPTION)
    text = " ".join(parts)
    record(opened.case_id, Author.BOT, text, now, engine)
    return text
