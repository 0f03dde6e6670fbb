"""Staff accounts of the support console: Argon2id passwords, lockout, server-side sessions.

The console's cookie carries a random session token; the database keeps only
its SHA-256, with the session's CSRF token, so a copy of the database opens
nothing and signing out (or disabling the user) ends the session at once.
Customers' tokens are JWTs of another kind and are never looked up here.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.models import utcnow
from handoff.models import StaffSession, StaffUser

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=10)  # one shift
MIN_PASSWORD = 10
_USERNAME = re.compile(r"[a-z0-9._-]{3,60}")
_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Checked when the username does not exist, so both answers take as long.
_DECOY = _hasher.hash(secrets.token_urlsafe(16))

WRONG = "Usuario o contraseña incorrectos."
LOCKED = "Demasiados intentos fallidos: la cuenta quedó bloqueada 15 minutos. Pide ayuda a un administrador si no fuiste tú."


class StaffError(ValueError):
    """A staff account cannot be created or used; the text says why, in Spanish."""


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class SignedIn:
    staff: Staff
    token: str  # for the cookie; never stored
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _staff(user: StaffUser) -> Staff:
    return Staff(user.id, user.username, user.display_name)


def create_user(username: str, display_name: str, password: str, engine: Optional[Engine] = None) -> Staff:
    username = username.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise StaffError("El usuario debe tener de 3 a 60 letras minúsculas, números, puntos, guiones o guiones bajos.")
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.")
    display_name = display_name.strip()[:80] or username
    with session_scope(engine) as session:
        if session.execute(select(StaffUser.id).where(StaffUser.username == username)).scalar() is not None:
            raise StaffError(f"Ya existe el usuario «{username}».")
        user = StaffUser(username=username, display_name=display_name, password_hash=_hasher.hash(password),
                         created_at=utcnow())
        session.add(user)
        session.flush()
        return _staff(user)


def set_password(username: str, password: str, engine: Optional[Engine] = None) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.")
    with session_scope(engine) as session:
        user = session.execute(select(StaffUser).where(StaffUser.username == username.lower())).scalar()
        if user is None:
            raise StaffError(f"No existe el usuario «{username}».")
        user.password_hash, user.failed_logins, user.locked_until = _hasher.hash(password), 0, None
        session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))


def set_active(username: str, active: bool, engine: Optional[Engine] = None) -> None:
    with session_scope(engine) as session:
        user = session.execute(select(StaffUser).where(StaffUser.username == username.lower())).scalar()
        if user is None:
            raise StaffError(f"No existe el usuario «{username}».")
        user.active = active
        if not active:
            session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))


def list_users(engine: Optional[Engine] = None) -> list[tuple[str, str, bool]]:
    with session_scope(engine) as session:
        return [(u.username, u.display_name, u.active)
                for u in session.execute(select(StaffUser).order_by(StaffUser.username)).scalars()]


def sign_in(username: object, password: object, now: Optional[datetime] = None,
            engine: Optional[Engine] = None) -> SignedIn:
    """Check a password and open a session; raises StaffError(WRONG or LOCKED).

    The failure is counted before the password is checked, in the same locked
    row, so parallel guesses cannot get past MAX_FAILURES.
    """
    now = now or utcnow()
    username = username.strip().lower() if isinstance(username, str) else ""
    password = password if isinstance(password, str) else ""
    with session_scope(engine) as session:
        # The count goes up first, in one UPDATE (a write lock on SQLite, a row lock on
        # PostgreSQL), so parallel guesses each see their own number.
        session.execute(
            update(StaffUser)
            .where(StaffUser.username == username, StaffUser.active.is_(True),
                   or_(StaffUser.locked_until.is_(None), StaffUser.locked_until <= now))
            .values(failed_logins=StaffUser.failed_logins + 1))
        user = session.execute(select(StaffUser).where(StaffUser.username == username)).scalar()
        if user is None or not user.active:
            outcome = "unknown"
        elif user.locked_until is not None and user.locked_until > now:
            outcome = "locked"
        elif user.failed_logins > MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
            outcome = "locked"
        else:
            outcome = "check"
        user_id, stored = (user.id, user.password_hash) if user is not None else (None, _DECOY)
    # Raised outside the transactions: an exception inside one would roll the count back.
    if outcome == "unknown":
        _check(_DECOY, password)
        raise StaffError(WRONG)
    if outcome == "locked":
        raise StaffError(LOCKED)
    if not _check(stored, password):
        with session_scope(engine) as session:
            locked = session.execute(
                update(StaffUser).where(StaffUser.id == user_id, StaffUser.failed_logins >= MAX_FAILURES)
                .values(locked_until=now + LOCKOUT, failed_logins=0)).rowcount
        raise StaffError(LOCKED if locked else WRONG)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        session.execute(update(StaffUser).where(StaffUser.id == user_id).values(failed_logins=0, locked_until=None))
        session.add(StaffSession(token_hash=_digest(token), staff_id=user_id, csrf=csrf, created_at=now,
                                 expires_at=now + SESSION_LIFETIME))
        session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        return SignedIn(Staff(user_id, user.username, user.display_name), token, csrf)


def _check(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def session_for(token: Optional[str], now: Optional[datetime] = None,
                engine: Optional[Engine] = None) -> Optional[tuple[Staff, str]]:
    """The staff member and CSRF token of a live session cookie, or None."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    with session_scope(engine) as session:
        row = session.execute(
            select(StaffSession, StaffUser).join(StaffUser, StaffSession.staff_id == StaffUser.id)
            .where(StaffSession.token_hash == _digest(token))
        ).first()
        if row is None or row[0].expires_at <= now or not row[1].active:
            return None
        return _staff(row[1]), row[0].csrf


def sign_out(token: Optional[str], engine: Optional[Engine] = None) -> None:
    if token:
        with session_scope(engine) as session:
            session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def same_token(given: Optional[str], expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())
