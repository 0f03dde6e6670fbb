"""Spanish (Mexico) rendering of money, dates and durations, via Babel's CLDR data."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_time
from babel.numbers import format_decimal

LOCALE = "es_MX"
# What staff and customers call each channel (Rasa's input channel names as keys).
CHANNEL_LABELS = {
    "prepago_socketio": "Chat web",
    "prepago": "API",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "messenger": "Messenger",
}


def money(amount: Decimal) -> str:
    """`Decimal("1234.5")` -> `$1,234.50 MXN`; negatives as `-$12.00 MXN`."""
    sign = "-" if amount < 0 else ""
    digits = format_decimal(abs(amount), format="#,##0.00", locale=LOCALE)
    return f"{sign}${digits} MXN"


def day(value: date, today: date | None = None) -> str:
    """`3 de noviembre`; the year is added only when it is not the current one."""
    if today is not None and value.year != today.year:
        return format_date(value, "d 'de' MMMM 'de' y", locale=LOCALE)
    return format_date(value, "d 'de' MMMM", locale=LOCALE)


def day_and_time(value: datetime, today: date | None = None) -> str:
    """`3 de noviembre, 14:05` in the datetime's own time zone."""
    return f"{day(value.date(), today)}, {format_time(value, 'HH:mm', locale=LOCALE)}"


def duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    if minutes == 0:
        return f"{secs} s"
    return f"{minutes} min {secs:02d} s"
