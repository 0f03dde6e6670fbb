"""Account linking for messaging channels (WhatsApp, Telegram, Messenger).

A phone number or chat user is not an account. The first time such an
identity asks for account data, the assistant asks for the account number and
the verification PIN, then links the identity to the account. This happens in
front of Rasa: the channel calls `intercept()` with every inbound text, so the
PIN is checked here and never reaches the NLU, the tracker store or the logs.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.models import Account, ChannelLink, ChannelState, utcnow
from bot.pins import check_pin

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=30)
STEP_EXPIRES = timedelta(minutes=10)

ASK_ACCOUNT = (
    "Para ver datos de tu cuenta desde este chat primero hay que vincularlo (solo se hace una vez). "
    "Escribe tu número de cuenta, o «cancelar»."
)
ASK_PIN = "Gracias. Ahora escribe tu PIN de verificación de la Cuenta de Prepago."
ONLY_DIGITS = "Escribe solo tu número de cuenta (únicamente dígitos), o «cancelar»."
CANCELLED = "Cancelé la vinculación. Con gusto sigo respondiendo tus dudas generales."
UNLINKED = "Listo: desvinculé este chat de la cuenta {account}. Para consultar tus datos aquí tendrás que vincularlo de nuevo."
NOT_LINKED = "Este chat no está vinculado a ninguna cuenta."


def _locked_text(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return (f"Por seguridad, la vinculación de este chat está bloqueada por demasiados intentos fallidos. "
            f"Intenta de nuevo en {minutes} minutos.")


@dataclass(frozen=True)
class Intercept:
    """What the channel does with an inbound text."""

    reply: Optional[str] = None  # answer this and do not pass the text to Rasa
    text: Optional[str] = None  # otherwise pass this text (maybe an option's payload) to Rasa
    title: Optional[str] = None  # what the customer chose, for the conversation history
    account: Optional[str] = None  # the account this identity is linked to, when passing to Rasa


def _norm(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFD", text.strip().lower()) if unicodedata.category(c) != "Mn")
    return re.sub(r"\s+", " ", text)


def _state(session: Session, channel: str, user_id: str, now: datetime) -> ChannelState:
    state = session.get(ChannelState, (channel, user_id))
    if state is None:
        state = ChannelState(channel=channel, user_id=user_id, failures=0, updated_at=now)
        session.add(state)
    return state


def _linked(session: Session, channel: str, user_id: str) -> Optional[str]:
    return session.execute(
        select(Account.number).join(ChannelLink, ChannelLink.account_id == Account.id)
        .where(ChannelLink.channel == channel, ChannelLink.user_id == user_id)
    ).scalar_one_or_none()


def linked_account(channel: str, user_id: str, engine: Optional[Engine] = None) -> Optional[str]:
    with session_scope(engine) as session:
        return _linked(session, channel, user_id)


def begin(channel: str, user_id: str, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> str:
    """Start linking (called when an unlinked identity asks for account data)."""
    now = now or utcnow()
    with session_scope(engine) as session:
        state = _state(session, channel, user_id, now)
        if state.locked_until and state.locked_until > now:
            return _locked_text(state.locked_until, now)
        state.link_step, state.pending_account, state.updated_at = "account", None, now
        return ASK_ACCOUNT


def remember_options(channel: str, user_id: str, payloads: list[dict], engine: Optional[Engine] = None) -> None:
    """The numbered options just offered (WhatsApp has no buttons here)."""
    now = utcnow()
    with session_scope(engine) as session:
        state = _state(session, channel, user_id, now)
        state.options = json.dumps(payloads) if payloads else None
        state.updated_at = now


def intercept(channel: str, user_id: str, text: str, now: Optional[datetime] = None,
              engine: Optional[Engine] = None) -> Intercept:
    now = now or utcnow()
    said = _norm(text)
    with session_scope(engine) as session:
        if said == "desvincular":
            return Intercept(reply=_unlink(session, channel, user_id))
        state = session.get(ChannelState, (channel, user_id))
        if state is not None and state.link_step:
            if now - state.updated_at > STEP_EXPIRES:
                state.link_step, state.pending_account = None, None
            else:
                return Intercept(reply=_link_step(session, state, text.strip(), said, now))
        if state is not None and state.options and said.isdigit():
            options = json.loads(state.options)
            index = int(said) - 1
            if 0 <= index < len(options):
                state.options = None
                return Intercept(text=options[index]["payload"], title=options[index]["title"],
                                 account=_linked(session, channel, user_id))
        return Intercept(text=text, account=_linked(session, channel, user_id))


def _unlink(session: Session, channel: str, user_id: str) -> str:
    link = session.get(ChannelLink, (channel, user_id))
    if link is None:
        return NOT_LINKED
    account = session.get(Account, link.account_id).number
    session.delete(link)
    session.execute(delete(ChannelState).where(ChannelState.channel == channel, ChannelState.user_id == user_id))
    return UNLINKED.format(account=account)


def _link_step(session: Session, state: ChannelState, raw: str, said: str, now: datetime) -> str:
    if said in ("cancelar", "salir", "cancela"):
        state.link_step, state.pending_account = None, None
        return CANCELLED
    if state.locked_until and state.locked_until > now:
        state.link_step = None
        return _locked_text(state.locked_until, now)
    state.updated_at = now
    if state.link_step == "account":
        if not re.fullmatch(r"\d{4,20}", said):
            return ONLY_DIGITS
        state.pending_account, state.link_step = said, "pin"
        return ASK_PIN
    # link_step == "pin": the same answer whether the account or the PIN was wrong.
    account = session.execute(select(Account).where(Account.number == state.pending_account)).scalar_one_or_none()
    if account is not None and check_pin(raw, account.pin_hash):
        existing = session.get(ChannelLink, (state.channel, state.user_id))
        if existing is not None:
            session.delete(existing)
            session.flush()
        session.add(ChannelLink(channel=state.channel, user_id=state.user_id, account_id=account.id, linked_at=now))
        state.link_step, state.pending_account, state.failures, state.locked_until = None, None, 0, None
        return (f"¡Listo! Este chat quedó vinculado a la cuenta {account.number}. Ya puedes preguntarme tu saldo "
                "o tus movimientos. Para quitar el vínculo escribe «desvincular».")
    state.failures += 1
    state.pending_account = None
    if state.failures >= MAX_FAILURES:
        state.link_step, state.failures, state.locked_until = None, 0, now + LOCK_FOR
        return _locked_text(state.locked_until, now)
    state.link_step = "account"
    left = MAX_FAILURES - state.failures
    return (f"El número de cuenta o el PIN no coinciden. Te quedan {left} "
            f"{'intento' if left == 1 else 'intentos'}. Escribe tu número de cuenta, o «cancelar».")
