"""A complaint about a charge, explained from the customer's own ledger before anyone opens a case.

Most «me cobraron otra vez sin recargar» or «me falta dinero» are the automatic
recharge doing its job, or calls that no plan covers: the answer names the
last recharge (when, how much, the threshold that set it off), the calls that
brought the balance down to it and what they cost, and then offers a person.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot import formatting as fmt
from bot.db import session_scope
from bot.models import Account, EntryKind
from bot.periods import today_in
from bot.replies import FUNDING, Reply, card_text, movement_line
from bot.store import Movement, get_account, movements

# How many of the calls that lowered the balance are listed (the costliest); the rest are summed.
LISTED_CALLS = 3
# Calls between two fundings: a generous bound (the demo's busiest account makes ~3 a day).
MAX_CALLS = 500

PERSON_BUTTON = {"title": "Que lo revise una persona", "payload": "/report_charge_problem"}
MOVEMENTS_BUTTON = {"title": "Ver mis movimientos", "payload": "/show_activity"}
OFFER_PERSON = "Si algo de esto no cuadra con lo que esperabas, una persona de Soporte lo revisa contigo."
# For a customer without a session, after the article's general explanation and how to sign in.
SIGNED_IN_SHOWS = "Con tu sesión iniciada te muestro aquí tu última recarga y las llamadas que bajaron tu saldo. "


def offer_person() -> Reply:
    """The offer of a person for a customer whose account the assistant cannot read."""
    return Reply(SIGNED_IN_SHOWS + OFFER_PERSON, [PERSON_BUTTON])


def explain(account_number: str, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> Reply:
    """What moved the balance and the card lately, from the ledger, ending with the offer of a person."""
    with session_scope(engine) as session:
        account = get_account(session, account_number)
        zone, today = ZoneInfo(account.timezone), today_in(account.timezone, now)
        line = lambda m: movement_line(m, zone, today)  # noqa: E731
        when = lambda m: fmt.day_and_time(m.occurred_at.astimezone(zone), today)  # noqa: E731
        parts = [_setting_text(account)]
        # The recharge explains an automatic charge; without one, the last deposit is where the balance last rose.
        last = (_latest(session, account, (EntryKind.AUTO_RECHARGE,))
                or _latest(session, account, (EntryKind.DEPOSIT,)))
        if last is not None:
            before = last.balance_after - last.amount
            if last.kind == EntryKind.AUTO_RECHARGE:
                parts.append(f"Tu última recarga automática fue el {when(last)}, por **{fmt.money(last.amount)}**"
                             f"{_other_amount(account, last.amount)}: tu saldo había bajado a {fmt.money(before)}"
                             f"{_below_threshold(account, before)}.")
            else:
                parts.append(f"Tu último depósito fue el {when(last)}, por **{fmt.money(last.amount)}**; "
                             f"antes tu saldo era de {fmt.money(before)}.")
            name = "esa recarga" if last.kind == EntryKind.AUTO_RECHARGE else "ese depósito"
            previous = _latest(session, account, FUNDING, before=last.occurred_at)
            calls = _calls(session, account, start=previous.occurred_at if previous else None, end=last.occurred_at)
            if calls:
                since = f"Entre {_funding_name(previous)} ({when(previous)}) y {name}" if previous else f"Antes de {name}"
                parts.append(_calls_text(calls, f"{since}, {_count(calls)} usaron", line))
            after = _calls(session, account, start=last.occurred_at, end=None)
            if after:
                parts.append(f"Desde {name}, {_count(after)} usaron {fmt.money(_total(after))}.")
        parts.append(f"Hoy tu saldo es de **{fmt.money(account.balance)}**.")
    parts.append(OFFER_PERSON)
    return Reply("\n\n".join(parts), [PERSON_BUTTON, MOVEMENTS_BUTTON])


def _setting_text(account: Account) -> str:
    settings = account.auto_recharge
    if settings is None or not settings.enabled:
        return ("Revisé tu cuenta. Tu recarga automática está **desactivada**, así que a tu tarjeta "
                f"{card_text(account)} no se le hace ningún cargo automático: tu saldo solo sube cuando tú "
                "agregas fondos, y baja con cada llamada que tu plan no cubre.")
    return ("Revisé tu cuenta. Tu recarga automática está **activada**: cada vez que tu saldo baja de "
            f"{fmt.money(settings.threshold)}, se cargan {fmt.money(settings.amount)} a tu tarjeta {card_text(account)}, "
            "sin que tengas que recargar tú. Eso explica la mayoría de los cargos que no se esperan.")


def _other_amount(account: Account, amount: Decimal) -> str:
    """A recharge for another amount than today's setting: the setting changed since (say both)."""
    settings = account.auto_recharge
    if settings is not None and settings.amount != amount:
        return f" (hoy tu recarga está configurada por {fmt.money(settings.amount)})"
    return ""


def _below_threshold(account: Account, before: Decimal) -> str:
    settings = account.auto_recharge
    if settings is not None and settings.enabled and before < settings.threshold:
        return f", menos de tu límite de {fmt.money(settings.threshold)}"
    return ""


def _latest(session, account: Account, kinds, before: Optional[datetime] = None) -> Optional[Movement]:
    page, _ = movements(session, account, end=before, kinds=kinds, limit=1)
    return page[0] if page else None


def _calls(session, account: Account, *, start: Optional[datetime], end: Optional[datetime]) -> list[Movement]:
    page, _ = movements(session, account, start=start, end=end, kinds=(EntryKind.CALL_CHARGE,), limit=MAX_CALLS)
    return [m for m in page if start is None or m.occurred_at > start]


def _funding_name(m: Movement) -> str:
    return "la recarga anterior" if m.kind == EntryKind.AUTO_RECHARGE else "el depósito anterior"


def _count(calls: list[Movement]) -> str:
    return "1 llamada" if len(calls) == 1 else f"{len(calls)} llamadas"


def _total(calls: list[Movement]) -> Decimal:
    return -sum((m.amount for m in calls), Decimal("0.00"))


def _calls_text(calls: list[Movement], opening: str, line) -> str:
    costliest = sorted(calls, key=lambda m: (m.amount, m.occurred_at))[:LISTED_CALLS]
    heading = (f"{opening} {fmt.money(_total(calls))} de tu saldo"
               + (":" if len(calls) <= LISTED_CALLS else f"; las {len(costliest)} que más costaron:"))
    return "\n".join([heading] + [line(m) for m in costliest])
