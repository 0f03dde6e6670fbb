"""Support's business hours, in the customer's account time zone.

Configured with `PREPAGO_SUPPORT_HOURS`, in the words a support lead would
write: "lun-vie 09:00-18:00; sáb 10:00-14:00" (days in Spanish, accents
optional; "24/7" for always open). Outside those hours a case is kept and the
customer is told when a person will answer (`next_opening`).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.config import BUSINESS_TIMEZONE, settings
from bot.formatting import LOCALE
from bot.models import utcnow

DEFAULT_HOURS = "lun-vie 09:00-18:00"
DEFAULT_TIMEZONE = BUSINESS_TIMEZONE  # customers without a session
DAYS = ("lun", "mar", "mie", "jue", "vie", "sab", "dom")
DAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_PART = re.compile(r"^(\w{3})(?:\s*-\s*(\w{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class HoursError(ValueError):
    """`PREPAGO_SUPPORT_HOURS` cannot be read."""


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


@dataclass(frozen=True)
class BusinessHours:
    # For each weekday (0 = Monday), the (open, close) minutes of the day; close may be 1440.
    windows: tuple[tuple[tuple[int, int], ...], ...]
    text: str

    @classmethod
    def parse(cls, text: str) -> "BusinessHours":
        if _fold(text.strip()) in ("24/7", "siempre"):
            return cls(tuple(((0, 1440),) for _ in DAYS), "24/7")
        windows: list[list[tuple[int, int]]] = [[] for _ in DAYS]
        for part in filter(None, (p.strip() for p in text.split(";"))):
            match = _PART.match(_fold(part))
            if not match or match.group(1)[:3] not in DAYS or (match.group(2) and match.group(2)[:3] not in DAYS):
                raise HoursError(f"no entiendo el horario «{part}»; ejemplo: «lun-vie 09:00-18:00; sáb 10:00-14:00»")
            first = DAYS.index(match.group(1)[:3])
            last = DAYS.index(match.group(2)[:3]) if match.group(2) else first
            start = int(match.group(3)) * 60 + int(match.group(4))
            end = int(match.group(5)) * 60 + int(match.group(6))
            if not 0 <= start < end <= 1440 or last < first:
                raise HoursError(f"horario imposible en «{part}»")
            for day in range(first, last + 1):
                windows[day].append((start, end))
        if not any(windows):
            raise HoursError("el horario de Soporte está vacío")
        return cls(tuple(tuple(sorted(w)) for w in windows), text.strip())

    def is_open(self, moment: datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        return any(start <= minute < end for start, end in self.windows[moment.weekday()])

    def next_opening(self, moment: datetime) -> datetime:
        """The first moment, at or after `moment` (aware, local), when Support is open."""
        if self.is_open(moment):
            return moment
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        for offset in range(8):
            candidate_day = day + timedelta(days=offset)
            for start, _end in self.windows[candidate_day.weekday()]:
                opening = candidate_day + timedelta(minutes=start)
                if opening > moment:
                    return opening
        raise HoursError("el horario de Soporte está vacío")  # unreachable: parse refuses an empty week


def configured() -> BusinessHours:
    return BusinessHours.parse(settings().support_hours)


def when_text(opening: datetime, now: datetime) -> str:
    """«hoy a las 9:00», «mañana a las 9:00», «el lunes 30 de noviembre a las 9:00»."""
    clock = f"{opening.hour}:{opening.minute:02d}"
    days = (opening.date() - now.date()).days
    if days == 0:
        return f"hoy a partir de las {clock}"
    if days == 1:
        return f"mañana a partir de las {clock}"
    date_text = format_date(opening.date(), "d 'de' MMMM", locale=LOCALE)
    return f"el {DAY_NAMES[opening.weekday()]} {date_text} a partir de las {clock}"


def local_now(zone: Optional[str], now: Optional[datetime] = None) -> datetime:
    return (now or utcnow()).astimezone(ZoneInfo(zone or DEFAULT_TIMEZONE))

