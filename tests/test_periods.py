from datetime import date

import pytest

from bot.periods import FuturePeriod, InvalidPeriod, extension_in, resolve_period

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("ayer", date(2026, 11, 24), date(2026, 11, 24)),
        ("movimientos de HOY", TODAY, TODAY),
        ("antier", date(2026, 11, 23), date(2026, 11, 23)),
        ("la semana pasada", date(2026, 11, 16), date(2026, 11, 22)),
        ("cargos de esta semana", date(2026, 11, 23), TODAY),
        ("en octubre", date(2026, 10, 1), date(2026, 10, 31)),
        ("qué gasté en diciembre", date(2025, 12, 1), date(2025, 12, 31)),  # toward the past
        ("desde el 1 de noviembre", date(2026, 11, 1), TODAY),
        ("del 3 al 10 de noviembre", date(2026, 11, 3), date(2026, 11, 10)),
        ("entre el 3 y el 10 de nov", date(2026, 11, 3), date(2026, 11, 10)),
        ("del 28 de diciembre al 3 de enero", date(2025, 12, 28), date(2026, 1, 3)),
        ("el mes pasado", date(2026, 10, 1), date(2026, 10, 31)),
        ("este mes", date(2026, 11, 1), TODAY),
        ("los ultimos 7 dias", date(2026, 11, 19), TODAY),
        ("el 5 de noviembre", date(2026, 11, 5), date(2026, 11, 5)),
        ("5/11", date(2026, 11, 5), date(2026, 11, 5)),
        ("octubre de 2025", date(2025, 10, 1), date(2025, 10, 31)),
        ("desde octubre", date(2026, 10, 1), TODAY),
    ],
)
def test_periods_resolve_toward_the_past(text, start, end):
    period = resolve_period(text, TODAY)
    assert (period.start, period.end) == (start, end)


def test_labels_are_spanish():
    assert resolve_period("del 3 al 10 de noviembre", TODAY).label == "del 3 al 10 de noviembre"
    assert resolve_period("ayer", TODAY).label == "ayer (24 de noviembre)"


@pytest.mark.parametrize("text", ["mañana", "la próxima semana", "del 1 al 5 de diciembre de 2030", "en diciembre de 2027",
                                  "en el año 3000", "en 2027"])
def test_future_periods_are_refused(text):
    with pytest.raises(FuturePeriod):
        resolve_period(text, TODAY)


@pytest.mark.parametrize("text", ["del 31 de febrero", "movimientos del 30 de febrero al 2 de marzo", "del año 1200"])
def test_dates_that_do_not_exist_are_refused(text):
    with pytest.raises(InvalidPeriod):
        resolve_period(text, TODAY)


def test_a_whole_year():
    period = resolve_period("cuánto gasté en 2025", TODAY)
    assert (period.start, period.end, period.label) == (date(2025, 1, 1), date(2025, 12, 31), "en 2025")


@pytest.mark.parametrize("text", ["", "mis movimientos", "la extensión 101", "cuánto gasté"])
def test_text_without_a_period(text):
    assert resolve_period(text, TODAY) is None


def test_utc_bounds_use_the_account_time_zone():
    start, end = resolve_period("ayer", TODAY).utc_bounds("America/Mexico_City")
    assert start.isoformat() == "2026-11-24T06:00:00+00:00"
    assert end.isoformat() == "2026-11-25T06:00:00+00:00"


@pytest.mark.parametrize("text, extension", [
    ("movimientos de la extensión 102", "102"),
    ("llamadas de la ext. 201 ayer", "201"),
    ("qué llamadas hizo la 103 en octubre de 2025", "103"),
    ("llamadas de la 102 del 3 al 10 de noviembre", "102"),
    ("movimientos del 1 al 5 de diciembre de 2030", None),
    ("cargos de la extension 999", "999"),
    ("movimientos de la 5 de noviembre", None),
    ("mis movimientos", None),
    ("llamadas de la extensión 12345678901234567890", "12345678901234567890"),  # answered as unknown, never ignored
])
def test_extension_mentions(text, extension):
    assert extension_in(text) == extension
