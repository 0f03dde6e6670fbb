"""Lookups at the calendar's edges, each at its own injected instant.

The demo history is seeded to end the day before each instant (as `bot seed`
does), so every answer below is what a customer would read at that moment.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import replies
from bot.db import engine_for, session_scope
from bot.periods import resolve_period, today_in
from bot.store import get_account, movements
from tools.seed import HISTORY_DAYS, seed_demo

MEXICO = ZoneInfo("America/Mexico_City")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=MEXICO).astimezone(timezone.utc)


@pytest.fixture
def store_at(tmp_path):
    """A store whose demo history ends the day before `now` (local), like `bot seed` at that moment."""
    def seeded(now: datetime):
        engine = engine_for(f"sqlite:///{tmp_path / f'prepago-{now:%Y%m%d%H%M}.db'}")
        seed_demo(engine, today_in("America/Mexico_City", now))
        return engine
    return seeded


def test_a_month_before_the_history_says_where_the_history_starts(store_at):
    now = local(2026, 3, 1, 1, 0)  # 07:00 UTC: October is October of 2025, long before the history
    engine = store_at(now)
    first_day = date(2026, 3, 1) - timedelta(days=HISTORY_DAYS)
    for ask in (replies.spending, replies.activity):
        text = ask("100100", period_text="¿cuánto gasté en octubre?", now=now, engine=engine).text
        assert text.startswith("No hay movimientos en octubre de 2025: el historial de tu Cuenta de Prepago empieza el ")
        assert replies.fmt.day(first_day, date(2026, 3, 1)) in text
        assert "Ext." not in text


def test_this_month_on_the_first_says_it_just_started(store_at):
    now = local(2026, 3, 1, 0, 30)
    engine = store_at(now)
    text = replies.spending("100100", period_text="¿cuánto gasté este mes?", now=now, engine=engine).text
    assert text.startswith("Ninguna extensión usó fondos de la Cuenta de Prepago este mes.")
    assert "apenas empieza hoy" in text and "«el mes pasado»" in text
    # The month before is there, whole: February 2026 has its 28 days of calls.
    february = replies.spending("100100", period_text="¿y el mes pasado?", now=now, engine=engine).text
    assert february.startswith("En llamadas se gastaron **$") and "el mes pasado (febrero)" in february


def test_last_week_on_a_monday_just_after_midnight_is_the_local_week_before(store_at):
    now = local(2026, 11, 30, 0, 10)  # Monday 00:10 in Mexico City (06:10 UTC)
    assert now.astimezone(MEXICO).weekday() == 0
    engine = store_at(now)
    text = replies.activity("100100", period_text="movimientos de la semana pasada", now=now, engine=engine).text
    assert text.startswith("Tus movimientos la semana pasada (del 23 al 29 de noviembre), del más reciente")
    with session_scope(engine) as session:
        account = get_account(session, "100100")
        start, end = resolve_period("la semana pasada", date(2026, 11, 30)).utc_bounds(account.timezone)
        week, _ = movements(session, account, start=start, end=end, limit=500, offset=0)
    days = {m.occurred_at.astimezone(MEXICO).date() for m in week}
    assert days and min(days) >= date(2026, 11, 23) and max(days) <= date(2026, 11, 29)


def test_a_period_across_new_year_lists_both_years(store_at):
    now = local(2027, 1, 5, 12, 0)
    engine = store_at(now)
    text = replies.activity("100100", period_text="del 28 de diciembre al 3 de enero", now=now, engine=engine).text
    assert text.startswith("Tus movimientos del 28 de diciembre de 2026 al 3 de enero")
    assert "de enero" in text.splitlines()[1]  # newest first: 2027 opens the list
    with session_scope(engine) as session:
        account = get_account(session, "100100")
        start, end = resolve_period("del 28 de diciembre al 3 de enero", date(2027, 1, 5)).utc_bounds(account.timezone)
        span, _ = movements(session, account, start=start, end=end, limit=500, offset=0)
    years = {m.occurred_at.astimezone(MEXICO).year for m in span}
    assert years == {2026, 2027}


def test_new_years_eve_at_night_is_still_the_old_year(store_at):
    now = local(2026, 12, 31, 23, 30)  # 05:30 UTC on 1 January 2027
    engine = store_at(now)
    text = replies.spending("100100", period_text="¿cuánto gasté este año?", now=now, engine=engine).text
    assert "este año (2026)" in text and text.startswith("En llamadas se gastaron **$")
    december = replies.spending("100100", period_text="¿cuánto gasté en diciembre?", now=now, engine=engine).text
    assert "en diciembre:" in december  # this December, not the one of 2025


def test_a_leap_day_is_a_day_like_any_other(store_at):
    now = local(2028, 2, 29, 12, 0)
    engine = store_at(now)
    text = replies.activity("100100", period_text="¿qué hubo el 28 de febrero?", now=now, engine=engine).text
    assert text.startswith("Tus movimientos el 28 de febrero, del más reciente")
    later = local(2028, 3, 2, 12, 0)
    engine = store_at(later)
    text = replies.spending("100100", period_text="gasto del 29 de febrero", now=later, engine=engine).text
    assert "el 29 de febrero" in text
