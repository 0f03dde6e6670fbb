"""Updating the card on file without ever seeing it: a one-time, expiring hosted link of the provider.

Card numbers never pass through the chat (a number typed there is redacted,
bot/privacy.py). The customer saves the new card on the provider's page; once
the provider says the setup is complete, the new card is put on file here,
exactly once, and the chat confirms it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot import formatting as fmt
from bot.config import settings
from bot.db import session_scope
from bot.models import Account, Card, utcnow
from bot.store import get_account
from payments import provider
from payments.funds import Actor, Answer, card_text, operation_key, record
from payments.models import CardSetup, Operation, OperationKind, PaymentProfile, Status
from payments.settings import payment_settings

# Stripe's brand codes as customers read them.
BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}
NO_LINK = "No tengo ningún enlace de cambio de tarjeta abierto para tu cuenta. Si quieres uno, pídemelo."


def request_link(actor: Actor, turn: str, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> Answer:
    """A new one-time link (an earlier open one stops counting: only the newest is applied)."""
    cfg, now = payment_settings(), now or utcnow()
    key = operation_key(actor.conversation, turn)
    with session_scope(engine) as session:
        account = get_account(session, actor.account)
        profile = session.get(PaymentProfile, account.id)
        if profile is None:
            return Answer("Tu cuenta todavía no tiene un perfil de pago con nosotros; para registrar tu tarjeta escribe "
                          "«agente» y te ayuda una persona.")
        customer, zone = profile.customer_id, account.timezone
        operation = record(session, account, actor, OperationKind.CARD_UPDATE, Status.PENDING_LINK, now,
                           card=card_text(account), idempotency_key=key)
        operation_id = operation.id
    link = provider.create_setup_link(customer, actor.account, now + timedelta(minutes=cfg.card_link_minutes), key,
                                      f"{settings().portal_url}/#billing")
    with session_scope(engine) as session:
        session.execute(update(CardSetup).where(CardSetup.account_id == get_account(session, actor.account).id,
                                                CardSetup.applied_at.is_(None), CardSetup.expires_at > now)
                        .values(expires_at=now).execution_options(synchronize_session=False))
        session.add(CardSetup(session_id=link.session_id, account_id=get_account(session, actor.account).id,
                              operation_id=operation_id, url=link.url, expires_at=link.expires_at))
        session.get(Operation, operation_id).provider_ref = link.session_id
    until = link.expires_at.astimezone(ZoneInfo(zone))
    return Answer(f"Aquí tienes un enlace seguro para registrar tu nueva tarjeta: [Actualizar mi tarjeta]({link.url}).\n"
                  f"Funciona una sola vez y vence a las {until:%H:%M} ({fmt.day(until.date(), now.date())}). "
                  "Por seguridad nunca escribas los datos de tu tarjeta en este chat. Cuando termines, escribe "
                  "«listo» y lo confirmo.", [{"title": "Listo, ya la registré", "payload": "/affirm"}])


def check(actor: Actor, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> Answer:
    """Whether the newest link saved a card: put it on file (once) and confirm, or say what is missing."""
    now = now or utcnow()
    with session_scope(engine) as session:
        account = get_account(session, actor.account)
        setup = session.execute(select(CardSetup).where(CardSetup.account_id == account.id)
                                .order_by(CardSetup.expires_at.desc())).scalars().first()
        if setup is None:
            return Answer(NO_LINK)
        if setup.applied_at is not None:
            return Answer(f"Tu tarjeta registrada es {card_text(account)}; ese enlace ya se usó.")
        session_id, expires_at, zone = setup.session_id, setup.expires_at, account.timezone
    status, saved = provider.setup_result(session_id)
    if saved is None:
        if status == "expired" or now >= expires_at:
            _close(session_id, Status.CANCELLED, "expired", now, engine)
            return Answer("El enlace venció sin que se guardara una tarjeta nueva, así que tu tarjeta registrada no "
                          "cambió. Si todavía quieres cambiarla, pídeme un enlace nuevo.")
        until = expires_at.astimezone(ZoneInfo(zone))
        return Answer(f"Todavía no veo la tarjeta nueva. El enlace sigue activo hasta las {until:%H:%M}; cuando "
                      "termines de registrarla, escribe «listo».")
    return apply(session_id, saved, now, engine)


def apply(session_id: str, saved: provider.SavedCard, now: datetime, engine: Optional[Engine] = None) -> Answer:
    with session_scope(engine) as session:
        won = session.execute(update(CardSetup).where(CardSetup.session_id == session_id,
                                                      CardSetup.applied_at.is_(None))
                              .values(applied_at=now).execution_options(synchronize_session=False)).rowcount
        setup = session.get(CardSetup, session_id)
        account = session.get(Account, setup.account_id)
        if won:
            brand = BRANDS.get(saved.brand, saved.brand.title())
            if account.card is None:
                account.card = Card(account_id=account.id, brand=brand, last4=saved.last4, exp_month=saved.exp_month,
                                    exp_year=saved.exp_year)
            else:
                account.card.brand, account.card.last4 = brand, saved.last4
                account.card.exp_month, account.card.exp_year = saved.exp_month, saved.exp_year
            session.get(PaymentProfile, account.id).payment_method_id = saved.payment_method
            operation = session.get(Operation, setup.operation_id)
            operation.status, operation.card, operation.updated_at = Status.SUCCEEDED, card_text(account), now
        session.flush()
        card = account.card
        return Answer(f"¡Listo! Tu nueva tarjeta **{card.brand} terminada en {card.last4}** (vence "
                      f"{card.exp_month:02d}/{card.exp_year}) ya está registrada: de ahora en adelante los fondos y la "
                      "recarga automática se cobran a ella.")


def _close(session_id: str, status: Status, reason: str, now: datetime, engine: Optional[Engine]) -> None:
    with session_scope(engine) as session:
        setup = session.get(CardSetup, session_id)
        operation = session.get(Operation, setup.operation_id)
        if operation.status == Status.PENDING_LINK:
            operation.status, operation.reason, operation.updated_at = status, reason, now
