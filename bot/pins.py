"""Verification PINs: salted scrypt over an HMAC with a server-side pepper.

A 4-digit PIN has only 10,000 values, so no hash cost alone makes offline
guessing expensive once the database is copied. The pepper
(`PREPAGO_PIN_PEPPER`, kept in the environment and never in the database)
is what does: without it, a stolen `pin_hash` cannot be tested at all.
Hashes made before the pepper existed (`scrypt$…`) still verify.
"""
from __future__ import annotations

import hashlib
import hmac
import os

from bot.config import settings

_N, _R, _P = 2**14, 8, 1
PEPPERED = "scrypt-hmac"


def _peppered(pin: str) -> bytes:
    return hmac.new(settings().require_pin_pepper().encode(), pin.encode(), hashlib.sha256).digest()


def hash_pin(pin: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(_peppered(pin), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"{PEPPERED}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        secret = _peppered(pin) if scheme == PEPPERED else pin.encode()
        candidate = hashlib.scrypt(secret, salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                   dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)
