"""Account linking for messaging channels (WhatsApp, Telegram, Messenger).

A phone number or chat user is not an account. The first time such an
identity asks for account data, the assistant asks for the account number and
the verification PIN, then links the identity to the account. This happens in
front of Rasa: the channel calls `intercept()` with every inbound text, so the
PIN is checked here and never reaches the NLU, the tracker store or the logs.
"""
from __future__ import annotations

import functools
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import case, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import dialect_insert, session_scope
from bot.models import Account, ChannelLink, ChannelState, LinkGuard, StepUp, utcnow
from bot.pins import check_pin, hash_pin

# PIN attempts are counted *before* the PIN is checked, per target account and
# per chat identity: parallel messages cannot get more checks than this, and
# neither a link of another account nor «desvincular» resets the counts.
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=30)
COUNT_WINDOW = timedelta(minutes=30)  # attempts older than this are forgotten
GLOBAL_PER_MINUTE = 60  # PIN checks per minute across every chat
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


ASK_STEP_UP = ("Para mover dinero desde este chat necesito confirmar que eres tú: escribe el PIN de verificación de "
               "tu Cuenta de Prepago, o «cancelar».")
STEP_UP_CANCELLED = "Cancelé la verificación; no se movió dinero de tu cuenta."
STEPPED_UP = ("PIN correcto. Por unos minutos puedes hacer pagos desde este chat: vuelve a pedirme lo que querías "
              "(por ejemplo «recárgale $500 al prepago») y te pido la confirmación.")


STEP_EXPIRED = ("La vinculación se canceló porque pasaron más de 10 minutos; por seguridad no usé lo que "
                "escribiste. Si quieres vincular este chat, pídeme tu saldo y empezamos de nuevo.")
BUSY = "Hay demasiados intentos de vinculación en este momento. Intenta de nuevo en un minuto."
LOCK_ALERT = ("Aviso de seguridad de tu Cuenta de Prepago {account}: alguien escribió un PIN equivocado varias "
              "veces al intentar vincular otro chat a tu cuenta. Bloqueamos la vinculación durante 30 minutos. "
              "Si no fuiste tú, no compartas tu PIN con nadie.")


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
    # Identities linked to an account whose linking just locked: the channel tells them.
    alert: Optional[str] = None
    alert_to: tuple[tuple[str, str], ...] = ()


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


@functools.lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash no PIN matches: an unknown account costs the same scrypt as a known one."""
    return hash_pin(secrets.token_hex(16))


def _bump(session: Session, key: str, now: datetime) -> int:
    """One more attempt against `key`, atomically (INSERT … ON CONFLICT DO UPDATE); the new count."""
    fresh = LinkGuard.updated_at >= now - COUNT_WINDOW
    statement = dialect_insert(session)(LinkGuard).values(key=key, failures=1, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[LinkGuard.key],
        set_={"failures": case((fresh, LinkGuard.failures + 1), else_=1), "updated_at": now},
    )
    session.execute(statement)
    return session.execute(select(LinkGuard.failures).where(LinkGuard.key == key)).scalar_one()


def _locked_until(session: Session, keys: list[str], now: datetime) -> Optional[datetime]:
    until = session.execute(select(LinkGuard.locked_until).where(
        LinkGuard.key.in_(keys), LinkGuard.locked_until > now)).scalars().all()
    return max(until) if until else None


def _lock(session: Session, keys: list[str], now: datetime) -> datetime:
    until = now + LOCK_FOR
    session.execute(update(LinkGuard).where(LinkGuard.key.in_(keys)).values(failures=0, locked_until=until)
                    .execution_options(synchronize_session=False))
    return until


def _identity_key(channel: str, user_id: str) -> str:
    return f"identity:{channel}:{user_id}"


def linked_account(channel: str, user_id: str, engine: Optional[Engine] = None) -> Optional[str]:
    with session_scope(engine) as session:
        return _linked(session, channel, user_id)


def begin(channel: str, user_id: str, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> str:
    """Start linking (called when an unlinked identity asks for account data)."""
    now = now or utcnow()
    with session_scope(engine) as session:
        locked = _locked_until(session, [_identity_key(channel, user_id)], now)
        if locked:
            return _locked_text(locked, now)
        state = _state(session, channel, user_id, now)
        state.link_step, state.pending_account, state.updated_at = "account", None, now
        return ASK_ACCOUNT


def begin_step_up(channel: str, user_id: str, resume: Optional[str], now: Optional[datetime] = None,
                  engine: Optional[Engine] = None) -> str:
    """Ask a linked chat for its account PIN again before money moves; `resume` is the request to carry on with."""
    now = now or utcnow()
    with session_scope(engine) as session:
        account = _linked(session, channel, user_id)
        if account is None:
            return begin(channel, user_id, now, engine)
        locked = _locked_until(session, [_identity_key(channel, user_id), f"account:{account}"], now)
        if locked:
            return _locked_text(locked, now)
        state = _state(session, channel, user_id, now)
        state.link_step, state.pending_account, state.updated_at = "stepup", account, now
        proof = session.get(StepUp, (channel, user_id))
        account_id = session.execute(select(Account.id).where(Account.number == account)).scalar_one()
        if proof is None:
            session.add(StepUp(channel=channel, user_id=user_id, account_id=account_id, resume=resume))
        else:
            proof.account_id, proof.resume = account_id, resume
        return ASK_STEP_UP


def stepped_up(channel: str, user_id: str, account: str, valid_for: timedelta, now: Optional[datetime] = None,
               engine: Optional[Engine] = None) -> bool:
    """Whether this chat proved `account`'s PIN within `valid_for` (and is still linked to it)."""
    now = now or utcnow()
    with session_scope(engine) as session:
        proof = session.get(StepUp, (channel, user_id))
        if proof is None or proof.verified_at is None or now - proof.verified_at > valid_for:
            return False
        return _linked(session, channel, user_id) == account and session.get(Account, proof.account_id).number == account


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
                if re.fullmatch(r"[\d\s-]{3,24}", said):
                    # Most likely a late PIN: it must not reach the assistant or its logs.
                    return Intercept(reply=STEP_EXPIRED)
            else:
                return _link_step(session, state, text.strip(), said, now)
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


def _link_step(session: Session, state: ChannelState, raw: str, said: str, now: datetime) -> Intercept:
    if said in ("cancelar", "salir", "cancela"):
        step_up = state.link_step == "stepup"
        state.link_step, state.pending_account = None, None
        return Intercept(reply=STEP_UP_CANCELLED if step_up else CANCELLED)
    identity = _identity_key(state.channel, state.user_id)
    locked = _locked_until(session, [identity], now)
    if locked:
        state.link_step = None
        return Intercept(reply=_locked_text(locked, now))
    if state.link_step == "stepup" and not re.fullmatch(r"[\d\s-]{3,24}", said):
        # Not a PIN: the customer moved on. Nothing moves and no attempt is counted.
        state.link_step, state.pending_account = None, None
        return Intercept(text=raw, account=_linked(session, state.channel, state.user_id))
    state.updated_at = now
    if state.link_step == "account":
        if not re.fullmatch(r"\d{4,20}", said):
            return Intercept(reply=ONLY_DIGITS)
        state.pending_account, state.link_step = said, "pin"
        return Intercept(reply=ASK_PIN)
    return _check_pin_step(session, state, identity, raw, now)


def _check_pin_step(session: Session, state: ChannelState, identity: str, raw: str, now: datetime) -> Intercept:
    """The PIN step: the same answer and the same cost whether the account or the PIN was wrong.
    A step-up (`link_step` "stepup") checks the linked account's PIN with the same guards."""
    number = state.pending_account or ""
    account_key = f"account:{number}"
    step_up = state.link_step == "stepup"
    state.pending_account, state.link_step = (number, "stepup") if step_up else (None, "account")
    this_minute = _bump(session, f"all:{now:%Y%m%d%H%M}", now)
    if this_minute == 1:  # a new minute: forget the old per-minute counts
        session.execute(delete(LinkGuard).where(LinkGuard.key.like("all:%"), LinkGuard.updated_at < now - LOCK_FOR)
                        .execution_options(synchronize_session=False))
    if this_minute > GLOBAL_PER_MINUTE:
        return Intercept(reply=BUSY)
    locked = _locked_until(session, [account_key, identity], now)
    if locked:
        state.link_step = None
        return Intercept(reply=_locked_text(locked, now))
    attempts = max(_bump(session, account_key, now), _bump(session, identity, now))
    if attempts > MAX_FAILURES:  # parallel attempts past the limit are never checked
        state.link_step = None
        return Intercept(reply=_locked_text(_lock(session, [account_key, identity], now), now))
    account = session.execute(select(Account).where(Account.number == number)).scalar_one_or_none()
    valid = check_pin(raw, account.pin_hash if account is not None else _decoy_hash()) and account is not None
    if valid and step_up:
        state.link_step, state.pending_account = None, None
        session.execute(update(LinkGuard).where(LinkGuard.key == account_key).values(failures=0)
                        .execution_options(synchronize_session=False))
        proof = session.get(StepUp, (state.channel, state.user_id))
        if proof is None or _linked(session, state.channel, state.user_id) != account.number:
            return Intercept(reply=NOT_LINKED)
        proof.verified_at, resume, proof.resume = now, proof.resume, None
        if resume:
            return Intercept(text=resume, account=account.number)
        return Intercept(reply=STEPPED_UP)
    if valid:
        existing = session.get(ChannelLink, (state.channel, state.user_id))
        if existing is not None:
            session.delete(existing)
            session.flush()
        session.add(ChannelLink(channel=state.channel, user_id=state.user_id, account_id=account.id, linked_at=now))
        # The holder proved the PIN: that account's count starts over (not the chat's).
        session.execute(update(LinkGuard).where(LinkGuard.key == account_key).values(failures=0)
                        .execution_options(synchronize_session=False))
        state.link_step = None
        return Intercept(reply=(f"¡Listo! Este chat quedó vinculado a la cuenta {account.number}. Ya puedes preguntarme "
                                "tu saldo o tus movimientos. Para quitar el vínculo escribe «desvincular»."))
    if attempts >= MAX_FAILURES:
        state.link_step = None
        until = _lock(session, [account_key, identity], now)
        holders = () if account is None else tuple(session.execute(
            select(ChannelLink.channel, ChannelLink.user_id).where(ChannelLink.account_id == account.id)).all())
        return Intercept(reply=_locked_text(until, now), alert=LOCK_ALERT.format(account=number),
                         alert_to=tuple((c, u) for c, u in holders))
    left = MAX_FAILURES - attempts
    if step_up:
        return Intercept(reply=(f"El PIN no coincide. Te quedan {left} {'intento' if left == 1 else 'intentos'}. "
                                "Escríbelo de nuevo, o «cancelar»."))
    return Intercept(reply=(f"El número de cuenta o el PIN no coinciden. Te quedan {left} "
                            f"{'intento' if left == 1 else 'intentos'}. Escribe tu número de cuenta, o «cancelar»."))
