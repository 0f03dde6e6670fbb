"""The payment provider at our edge: Stripe, through its Python SDK.

`stripe.api_base` points at `PREPAGO_STRIPE_API_BASE`: the local stand-in
(tools/stripe_standin.py) in tests and in `make run`, Stripe in production.
The SDK itself retries connection errors, 409s and 5xx with the same
Idempotency-Key, so a lost answer is found again by that key and never
charged twice.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterator, Optional

import stripe

from payments.settings import PaymentSettings, payment_settings

_configure_lock = threading.Lock()


def _configured(cfg: Optional[PaymentSettings] = None) -> PaymentSettings:
    cfg = cfg or payment_settings()
    with _configure_lock:
        stripe.api_key = cfg.api_key
        stripe.api_base = cfg.api_base
        stripe.max_network_retries = 2
        client = stripe.default_http_client
        if not isinstance(client, stripe.RequestsClient) or getattr(client, "_timeout", None) != cfg.timeout:
            stripe.default_http_client = stripe.RequestsClient(timeout=cfg.timeout)
    return cfg


@dataclass(frozen=True)
class ChargeResult:
    """What the provider said about one charge. `outcome`: succeeded, declined,
    needs_authentication or unverified (no answer we can trust)."""

    outcome: str
    reference: Optional[str] = None  # the PaymentIntent id, when there is one
    reason: Optional[str] = None  # card_declined, expired_card, authentication_required, timeout, provider_error


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def charge(customer: str, payment_method: str, amount: Decimal, key: str, metadata: dict) -> ChargeResult:
    """Charge the saved payment method now, off-session, confirmed at once."""
    _configured()
    try:
        intent = stripe.PaymentIntent.create(
            amount=_cents(amount), currency="mxn", customer=customer, payment_method=payment_method,
            off_session=True, confirm=True, metadata=metadata, idempotency_key=key)
    except stripe.CardError as exc:
        code = exc.code or "card_declined"
        intent = getattr(exc.error, "payment_intent", None) if exc.error else None
        outcome = "needs_authentication" if code == "authentication_required" else "declined"
        return ChargeResult(outcome, getattr(intent, "id", None), code)
    except stripe.APIConnectionError:
        return ChargeResult("unverified", reason="timeout")
    except stripe.StripeError:
        return ChargeResult("unverified", reason="provider_error")
    if intent.status == "succeeded":
        return ChargeResult("succeeded", intent.id)
    if intent.status == "requires_action":
        return ChargeResult("needs_authentication", intent.id, "authentication_required")
    return ChargeResult("declined", intent.id, intent.status)


def find_charge(key: str) -> Optional[ChargeResult]:
    """The charge made under this idempotency key (saved in its metadata), or None if the provider has none.
    Raises stripe.StripeError if the provider cannot be asked."""
    _configured()
    found = stripe.PaymentIntent.search(query=f"metadata['idempotency_key']:'{key}'")
    for intent in found.data:
        if intent.status == "succeeded":
            return ChargeResult("succeeded", intent.id)
    if found.data:
        intent = found.data[0]
        return ChargeResult("declined", intent.id, getattr(getattr(intent, "last_payment_error", None), "code", None))
    return None


@dataclass(frozen=True)
class ProviderCharge:
    reference: str
    amount: Decimal
    key: Optional[str]
    account: Optional[str]
    created: datetime


def succeeded_charges(since: datetime) -> Iterator[ProviderCharge]:
    """Every succeeded PaymentIntent created since `since` (the reconciliation's provider side)."""
    _configured()
    page = stripe.PaymentIntent.list(created={"gte": int(since.timestamp())}, limit=100)
    for intent in page.auto_paging_iter():
        if intent.status != "succeeded":
            continue
        metadata = intent.metadata.to_dict() if getattr(intent, "metadata", None) else {}
        yield ProviderCharge(intent.id, Decimal(intent.amount) / 100, metadata.get("idempotency_key"),
                             metadata.get("account"), datetime.fromtimestamp(intent.created, timezone.utc))


@dataclass(frozen=True)
class SetupLink:
    session_id: str
    url: str
    expires_at: datetime


def create_setup_link(customer: str, account: str, expires_at: datetime, key: str, return_url: str) -> SetupLink:
    """A hosted, one-time page of the provider where the customer saves a new card (Checkout in setup mode)."""
    _configured()
    session = stripe.checkout.Session.create(
        mode="setup", customer=customer, currency="mxn", payment_method_types=["card"],
        success_url=return_url, expires_at=int(expires_at.timestamp()), metadata={"account": account},
        idempotency_key=key)
    return SetupLink(session.id, session.url, datetime.fromtimestamp(session.expires_at, timezone.utc))


@dataclass(frozen=True)
class SavedCard:
    payment_method: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def setup_result(session_id: str) -> tuple[str, Optional[SavedCard]]:
    """(status of the setup session: open, complete or expired; the card it saved, once complete)."""
    _configured()
    session = stripe.checkout.Session.retrieve(session_id)
    if session.status != "complete" or not session.setup_intent:
        return session.status, None
    setup = stripe.SetupIntent.retrieve(session.setup_intent)
    method = stripe.PaymentMethod.retrieve(setup.payment_method)
    card = method.card
    return "complete", SavedCard(method.id, card.brand, card.last4, int(card.exp_month), int(card.exp_year))
