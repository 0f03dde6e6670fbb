"""Who is writing, and what may reach the assistant: the rules every channel shares.

`bind` (a web token and the client's session key) and `bind_messaging` (a
chat identity and the account linked to it) are the only places that decide
who is writing; both return the same `Binding`, which signs the identity for
the actions per message. Kept free of Sanic/socket.io.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Optional

from bot.config import settings
from stores.rate_limits import client_key
from bot.identity import UNLINKED, Identity, channel_conversation_id, conversation_id, identity_metadata, verify_token

MAX_MESSAGE_CHARS = 2000
# Metadata key for what the customer saw themselves send (a button's title
# rather than its /payload), so history shows what they chose.
DISPLAY_KEY = "display_text"
# Metadata key, on a bot event, of the support agent who wrote it (their display name).
AGENT_KEY = "prepago_agent"
_SESSION_RE = re.compile(r"[A-Za-z0-9_-]{8,128}")  # fullmatch: "$" would accept a trailing newline
# The client's id for one message, so a retry after a lost reply (a replica
# died mid-turn) is answered from the conversation instead of twice.
MESSAGE_ID_KEY = "prepago_message_id"
_MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")

EMPTY_MESSAGE = "No recibí ningún texto. ¿En qué te puedo ayudar con tu Cuenta de Prepago?"
TOO_LONG = (
    "Tu mensaje es muy largo para mí (máximo 2,000 caracteres). "
    "¿Me lo puedes escribir en pocas palabras? Por ejemplo: «¿cuánto saldo tengo?»."
)

UNREADABLE = "No pude leer tu mensaje: trae caracteres inválidos. ¿Me lo escribes de nuevo?"

NO_ANSWER = (
    "Perdón, no pude responderte en este momento. Intenta de nuevo en unos minutos; "
    "si el problema sigue, escribe «agente» y te comunico con una persona de Soporte."
)


class BadRequest(ValueError):
    """The client sent something our channel cannot accept (HTTP 400)."""


@dataclass(frozen=True)
class Binding:
    sender_id: str  # server-derived conversation id
    identity: Identity  # what the token proved (never the token itself)

    @property
    def account(self) -> Optional[str]:
        return self.identity.account

    @property
    def client(self) -> str:
        """Whose budget a message spends (stores/rate_limits.py): address, plus the account when verified."""
        return client_key(self.identity.client or "?", self.account)

    def metadata(self) -> dict[str, Any]:
        """The identity for the actions, signed now: MAC-bound to the conversation and
        good for this turn only, or until the token expires if that is sooner. A
        long-lived socket therefore stops carrying the account once its token expires."""
        return identity_metadata(settings(), self.identity, self.sender_id)


def bind(token: Optional[str], client_session: Any, client: Optional[str] = None) -> Binding:
    """Verify the token and derive the conversation the client (at address `client`) may use."""
    if not isinstance(client_session, str) or not _SESSION_RE.fullmatch(client_session):
        raise BadRequest("session must be 8-128 characters of [A-Za-z0-9_-]")
    cfg = settings()
    who = replace(verify_token(cfg, token), client=client)
    sender_id = conversation_id(cfg, who, client_session)
    return Binding(sender_id, who)


def bind_messaging(channel: str, user_id: str, linked_account: Optional[str]) -> Binding:
    """A messaging identity's conversation; its account only once linking proved it."""
    cfg = settings()
    who = Identity(linked_account, None if linked_account else UNLINKED, subject=f"{channel}:{user_id}")
    return Binding(channel_conversation_id(cfg, channel, user_id), who)


def message_key(value: Any) -> Optional[dict[str, str]]:
    """Metadata for the client's message id, if it sent one (optional everywhere)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _MESSAGE_ID_RE.fullmatch(value):
        raise BadRequest("message_id must be 8-64 characters of [A-Za-z0-9_-]")
    return {MESSAGE_ID_KEY: value}


def screen_text(text: Any) -> Optional[str]:
    """A polite reply for text that must not reach the NLU, or None if it may."""
    if not isinstance(text, str) or not text.strip():
        return EMPTY_MESSAGE
    if len(text) > MAX_MESSAGE_CHARS:
        return TOO_LONG
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") that JSON allows and nothing downstream can store
        return UNREADABLE
    return None
