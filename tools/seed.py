"""Deterministic demo data: two accounts with 90 days of prepaid history.

Movements are generated at offsets before an anchor date with a fixed random
seed, so balances are the same on every machine while "ayer" and "la semana
pasada" always have data.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.engine import Engine

import migrations
from bot.config import BUSINESS_TIMEZONE, settings
from bot.db import session_scope
from bot.models import Account, AutoRecharge, Card, EntryKind, Extension
from bot.pins import hash_pin
from bot.store import record_entry, record_recharge_failure
from handoff import staff
from payments.models import PaymentProfile

HISTORY_DAYS = 90

# Per-minute rates of calls that the basic plan does not cover (pesos).
RATES = {
    "Estados Unidos": Decimal("0.45"),
    "Canadá": Decimal("0.50"),
    "Colombia": Decimal("1.20"),
    "Guatemala": Decimal("1.80"),
    "España (celular)": Decimal("2.10"),
    "Número premium 900": Decimal("9.90"),
}


@dataclass(frozen=True)
class DemoAccount:
    number: str
    company: str
    extensions: tuple[tuple[str, str], ...]
    card: tuple[str, str, int, int]  # brand, last 4, expiry month, years after the anchor
    auto_recharge: tuple[bool, Decimal, Decimal]
    opening_deposit: Decimal
    calls_per_day: int
    seed: int
    pin: str  # demo verification PIN (README); stored only as a salted hash


DEMO_ACCOUNTS = (
    DemoAccount(
        number="100100",
        company="Despacho Contable Ramírez",
        extensions=(("101", "Recepción"), ("102", "Ventas"), ("103", "Dirección"), ("201", "Soporte")),
        card=("Visa", "4242", 8, 2),
        auto_recharge=(True, Decimal("200.00"), Decimal("500.00")),
        opening_deposit=Decimal("1000.00"),
        calls_per_day=3,
        seed=1001,
        pin="4321",
    ),
    DemoAccount(
        number="200200",
        company="Taller Mecánico Hernández",
        extensions=(("101", "Mostrador"), ("102", "Almacén")),
        card=("Mastercard", "5454", 3, 1),
        auto_recharge=(False, Decimal("100.00"), Decimal("300.00")),
        opening_deposit=Decimal("800.00"),
        calls_per_day=1,
        seed=2002,
        pin="8765",
    ),
)


DEMO_STAFF = ("demo", "Agente Demo")


def ensure_demo_staff(engine: Engine) -> None:
    """The local demo's support agent, with the password `bot` generated into .env."""
    password = settings().demo_staff_password
    if not password:
        return
    username, name = DEMO_STAFF
    try:
        staff.create_user(username, name, password, engine)
    except staff.StaffError:  # already there: keep it in step with .env
        staff.set_password(username, password, engine)


def seed_demo(engine: Engine, anchor: date, tz: str = BUSINESS_TIMEZONE) -> None:
    """Replace the demo accounts with fresh history ending the day before `anchor`.

    The schema is migrations' (brought up to date first); this module holds only demo data.
    """
    migrations.upgrade(engine)
    zone = ZoneInfo(tz)
    with session_scope(engine) as session:
        numbers = [a.number for a in DEMO_ACCOUNTS]
        session.execute(delete(Account).where(Account.number.in_(numbers)))
    for demo in DEMO_ACCOUNTS:
        with session_scope(engine) as session:
            account = Account(number=demo.number, company=demo.company, timezone=tz, balance=Decimal("0.00"),
                              pin_hash=hash_pin(demo.pin))
            account.extensions = [Extension(number=n, label=l) for n, l in demo.extensions]
            brand, last4, month, years_ahead = demo.card
            account.card = Card(brand=brand, last4=last4, exp_month=month, exp_year=anchor.year + years_ahead)
            enabled, threshold, amount = demo.auto_recharge
            account.auto_recharge = AutoRecharge(enabled=enabled, threshold=threshold, amount=amount)
            session.add(account)
            session.flush()
            # The provider's customer and saved card behind the card on file (the stand-in accepts any).
            session.add(PaymentProfile(account_id=account.id, customer_id=f"cus_demo{demo.number}",
                                       payment_method_id=f"pm_demo{demo.number}"))
            _seed_history(session, demo, anchor, zone)


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone) + timedelta(minutes=minutes)


def _seed_history(session, demo: DemoAccount, anchor: date, zone: ZoneInfo) -> None:
    rng = random.Random(demo.seed)
    first_day = anchor - timedelta(days=HISTORY_DAYS)
    record_entry(
        session, demo.number, kind=EntryKind.DEPOSIT, amount=demo.opening_deposit,
        occurred_at=_local(first_day, 9 * 60, zone),
    )
    enabled, threshold, top_up = demo.auto_recharge
    balance = demo.opening_deposit
    ext_numbers = [n for n, _ in demo.extensions]
    countries = list(RATES)
    for offset in range(HISTORY_DAYS):
        day = first_day + timedelta(days=offset)
        if day.weekday() == 6:  # offices closed on Sunday
            continue
        minutes = sorted(rng.sample(range(9 * 60 + 5, 19 * 60), demo.calls_per_day))
        for minute in minutes:
            country = rng.choices(countries, weights=[40, 15, 15, 10, 12, 8])[0]
            seconds = rng.randint(30, 1500)
            cost = (RATES[country] * Decimal(seconds) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if cost > balance:
                continue  # a real switch would refuse the call
            record_entry(
                session, demo.number, kind=EntryKind.CALL_CHARGE, amount=-cost,
                occurred_at=_local(day, minute, zone), extension_number=rng.choice(ext_numbers),
                destination_country=country, duration_seconds=seconds,
            )
            balance -= cost
            if enabled and balance < threshold:
                record_entry(
                    session, demo.number, kind=EntryKind.AUTO_RECHARGE, amount=top_up,
                    occurred_at=_local(day, minute + 1, zone),
                )
                balance += top_up
        if enabled and offset == HISTORY_DAYS - 7:
            # The card once refused the automatic recharge (the next call's recharge went through).
            record_recharge_failure(session, demo.number, amount=top_up, occurred_at=_local(day, 8 * 60, zone),
                                    reason="tarjeta rechazada por el banco")
        if not enabled and offset % 30 == 29:
            record_entry(
                session, demo.number, kind=EntryKind.DEPOSIT, amount=Decimal("300.00"),
                occurred_at=_local(day, 19 * 60 + 30, zone),
            )
            balance += Decimal("300.00")

