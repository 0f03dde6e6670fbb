"""Who is writing: signed customer tokens and conversations bound to them.

The host page (or the local demo issuer) gives the customer a short-lived JWT
naming their account. Channels verify it with `verify_token`, then
`bind_conversation` derives the conversation id from the verified account, so
a client can never read or write another identity's conversation, and signs
the account it hands to the actions. The raw token is never stored.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import jwt

from bot.config import Settings

ALGORITHM = "HS256"
METADATA_KEY = "prepago_identity"


class AuthError(str):
    """Why a token was refused, as a short code the assistant can explain."""


MISSING, EXPIRED, INVALID = AuthError("missing"), AuthError("expired"), AuthError("invalid")
UNLINKED = AuthError("unlinked")  # a messaging identity not (yet) linked to an account
# What an action sends when it needs an account that the chat has not linked:
# the messaging channel, not the action, then starts linking (actions never see PINs).
LINK_REQUIRED = {"prepago": "link_required"}
# Likewise before money moves from a linked chat: the channel asks for the PIN again
# (bot/linking.py, `begin_step_up`), then carries on with the message in "resume".
STEP_UP_REQUIRED = {"prepago": "step_up_required"}


@dataclass(frozen=True)
class Identity:
    account: Optional[str]  # None: anonymous (FAQ only)
    error: Optional[AuthError] = None  # why there is no account
    subject: Optional[str] = None  # messaging identity, e.g. "whatsapp:+5215512345678"
    expires: Optional[int] = None  # the token's expiry (Unix seconds), when there is a token
    client: Optional[str] = None  # the web client's address as the channel saw it (its budgets: stores/rate_limits.py)
    role: Optional[str] = None  # the signed-in user's role on the account (token claim "role"), e.g. "billing"

    def expired(self) -> bool:
        """Whether the token behind this identity has expired (a socket outlives its token)."""
        return self.expires is not None and self.expires <= _now()


# The signed identity in a message's metadata is stored in the tracker and may
# be copied into logs: it is good for the turn that carries it, not beyond.
TURN_TTL_SECONDS = 300


def issue_token(cfg: Settings, account: str, ttl: timedelta = timedelta(hours=8), role: Optional[str] = None) -> str:
    now = datetime.now(timezone.utc)
    claims = {"sub": account, "iss": cfg.jwt_issuer, "aud": cfg.jwt_audience, "iat": now, "exp": now + ttl}
    if role:
        claims["role"] = role
    return jwt.encode(claims, cfg.require_jwt_secret(), algorithm=ALGORITHM)


def verify_token(cfg: Settings, token: Optional[str]) -> Identity:
    if not token:
        return Identity(None, MISSING)
    try:
        claims = jwt.decode(
            token,
            cfg.require_jwt_secret(),
            algorithms=[ALGORITHM],  # never trust the token's own "alg"
            audience=cfg.jwt_audience,
            issuer=cfg.jwt_issuer,
            options={"require": ["sub", "exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        return Identity(None, EXPIRED)
    except jwt.PyJWTError:
        return Identity(None, INVALID)
    account = claims["sub"]
    if not isinstance(account, str) or not account.isalnum() or len(account) > 20:
        return Identity(None, INVALID)
    role = claims.get("role")
    if role is not None and (not isinstance(role, str) or not role.isalnum() or len(role) > 20):
        return Identity(None, INVALID)
    return Identity(account, expires=int(claims["exp"]), role=role)


def _mac(cfg: Settings, *parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(cfg.require_jwt_secret().encode(), message, hashlib.sha256).hexdigest()


def conversation_id(cfg: Settings, identity: Identity, client_session: str) -> str:
    """Server-side conversation id: the same account and client session always
    map to the same conversation; another account never does."""
    owner = identity.account or "anon"
    # Without an account, why there is none is part of the key: a client with a
    # forged or expired token never lands in an anonymous client's conversation.
    reason = "" if identity.account else (identity.error or MISSING)
    return f"{owner}-{_mac(cfg, 'conversation', owner, reason, client_session)[:32]}"


def channel_conversation_id(cfg: Settings, channel: str, user_id: str) -> str:
    """Conversation of a messaging identity: stable, and not guessable from the number."""
    return f"{channel}-{_mac(cfg, 'conversation', channel, user_id)[:32]}"


def _identity_mac(cfg: Settings, sender_id: str, account, error, subject, expires, client=None, role=None) -> str:
    parts = [account or "", error or "", subject or "", str(expires), client or ""]
    if role:  # only then: signatures of identities without a role stay what they were
        parts.append(role)
    return _mac(cfg, "identity", sender_id, *parts)


def _now() -> int:
    return int(datetime.now(timezone.utc).timestamp())


def identity_metadata(cfg: Settings, identity: Identity, sender_id: str) -> dict[str, Any]:
    """Metadata for the UserMessage: the verified account, MAC-bound to the
    conversation and good until the turn is over (or the token expires)."""
    expires = _now() + TURN_TTL_SECONDS
    if identity.expires is not None:
        expires = min(expires, identity.expires)
    return {
        METADATA_KEY: {
            "account": identity.account,
            "error": identity.error,
            "subject": identity.subject,
            "expires": expires,
            "client": identity.client,
            "role": identity.role,
            "mac": _identity_mac(cfg, sender_id, identity.account, identity.error, identity.subject, expires,
                                 identity.client, identity.role),
        }
    }


def identity_from_metadata(cfg: Settings, metadata: Optional[dict], sender_id: str) -> Identity:
    """The identity a channel verified for this message; anonymous if absent,
    forged, or replayed after its turn."""
    data = (metadata or {}).get(METADATA_KEY)
    if not isinstance(data, dict):
        return Identity(None, MISSING)
    account, error, subject, expires = data.get("account"), data.get("error"), data.get("subject"), data.get("expires")
    client, role = data.get("client"), data.get("role")
    expected = _identity_mac(cfg, sender_id, account, error, subject, expires, client, role)
    if not isinstance(data.get("mac"), str) or not hmac.compare_digest(expected, data["mac"]):
        return Identity(None, INVALID)
    if not isinstance(expires, int) or expires <= _now():
        return Identity(None, EXPIRED)
    return Identity(account, AuthError(error) if error else None, subject, expires, client, role)
