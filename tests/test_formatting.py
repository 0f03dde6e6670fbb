from datetime import date, datetime
from decimal import Decimal

from bot import formatting as fmt


def test_money_has_thousands_separator_two_decimals_and_currency():
    assert fmt.money(Decimal("1234.5")) == "$1,234.50 MXN"
    assert fmt.money(Decimal("0")) == "$0.00 MXN"
    assert fmt.money(Decimal("-12")) == "-$12.00 MXN"
    assert fmt.money(Decimal("1000000.01")) == "$1,000,000.01 MXN"


def test_dates_are_spanish_and_show_the_year_only_when_needed():
    assert fmt.day(date(2026, 11, 3)) == "3 de noviembre"
    assert fmt.day(date(2026, 11, 3), today=date(2026, 11, 25)) == "3 de noviembre"
    assert fmt.day(date(2025, 12, 31), today=date(2026, 1, 2)) == "31 de diciembre de 2025"
    assert fmt.day_and_time(datetime(2026, 9, 1, 8, 5)) == "1 de septiembre, 08:05"


def test_duration():
    assert fmt.duration(45) == "45 s"
    assert fmt.duration(125) == "2 min 05 s"
