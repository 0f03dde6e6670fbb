"""Self-service payment settings, read from the environment with the demo's defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal

DEFAULT_API_BASE = "http://127.0.0.1:12111"  # tools/stripe_standin.py, started by `make run`


def _amounts(text: str) -> tuple[Decimal, ...]:
    values = tuple(sorted(Decimal(v.strip().replace("$", "")) for v in text.split(",") if v.strip()))
    if not values or any(v <= 0 for v in values):
        raise ValueError(f"PREPAGO_ADD_FUNDS_AMOUNTS={text!r}: a comma-separated list of positive amounts")
    return values


@dataclass(frozen=True)
class PaymentSettings:
    amounts: tuple[Decimal, ...]  # the portal's «Agregar Fondos» menu
    daily_limit: Decimal  # most an account may add from the chat per day (Mexico City)
    roles: frozenset[str]  # web token roles allowed to move money
    api_base: str
    api_key: str
    timeout: float  # seconds per request to the provider
    step_up_minutes: int  # how long a PIN step-up on a messaging channel lets money move
    proposal_minutes: int  # how long a confirmation stays valid
    card_link_minutes: int  # how long the hosted card-update link works (Stripe: 30 min to 24 h)
    min_threshold: Decimal  # auto-recharge: lowest balance that may trigger it
    max_threshold: Decimal


def payment_settings() -> PaymentSettings:
    env = os.environ.get
    amounts = _amounts(env("PREPAGO_ADD_FUNDS_AMOUNTS", "200,500,1000,2000"))
    return PaymentSettings(
        amounts=amounts,
        daily_limit=Decimal(env("PREPAGO_ADD_FUNDS_DAILY_LIMIT", "5000")),
        roles=frozenset(r.strip() for r in env("PREPAGO_MONEY_ROLES", "admin,billing").split(",") if r.strip()),
        api_base=env("PREPAGO_STRIPE_API_BASE", DEFAULT_API_BASE).rstrip("/"),
        # The stand-in accepts any test key; a real deployment sets its own.
        api_key=env("STRIPE_SECRET_KEY", "sk_test_standin"),
        timeout=float(env("PREPAGO_STRIPE_TIMEOUT", "10")),
        step_up_minutes=int(env("PREPAGO_STEP_UP_MINUTES", "5")),
        proposal_minutes=int(env("PREPAGO_PAYMENT_PROPOSAL_MINUTES", "10")),
        card_link_minutes=int(env("PREPAGO_CARD_LINK_MINUTES", "30")),
        min_threshold=Decimal(env("PREPAGO_AUTO_RECHARGE_MIN_THRESHOLD", "100")),
        max_threshold=Decimal(env("PREPAGO_AUTO_RECHARGE_MAX_THRESHOLD", "1000")),
    )
