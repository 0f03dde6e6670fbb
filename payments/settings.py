"""Self-service payment settings: the payment fields of the one settings object (bot/config.py), parsed."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.config import Settings, settings

# tools/stripe_standin.py, which `make run` starts when no other provider is configured.
DEFAULT_API_BASE = Settings.__fields__["stripe_api_base"].default


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
    c = settings()
    return PaymentSettings(
        amounts=_amounts(c.add_funds_amounts),
        daily_limit=c.add_funds_daily_limit,
        roles=frozenset(r.strip() for r in c.money_roles.split(",") if r.strip()),
        api_base=c.stripe_api_base.rstrip("/"),
        # The stand-in accepts any test key; a real deployment sets its own.
        api_key=c.stripe_secret_key,
        timeout=c.stripe_timeout,
        step_up_minutes=c.step_up_minutes,
        proposal_minutes=c.payment_proposal_minutes,
        card_link_minutes=c.card_link_minutes,
        min_threshold=c.auto_recharge_min_threshold,
        max_threshold=c.auto_recharge_max_threshold,
    )
