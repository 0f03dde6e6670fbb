"""Turn Spanish period expressions into date ranges, always toward the past.

The range grammar ("del 3 al 10 de noviembre", "desde el 1 de noviembre",
"la semana pasada") is ours; each date inside it is parsed by `dateparser`
with PREFER_DATES_FROM=past relative to the account's local "today".
"""
from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

import dateparser

from bot import formatting

MONTHS = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
).split()
_MONTH = r"(?P<{name}>ene(?:ro)?|feb(?:rero)?|mar(?:zo)?|abr(?:il)?|may(?:o)?|jun(?:io)?|jul(?:io)?|ago(?:sto)?|sep(?:t(?:iembre)?)?|set(?:iembre)?|oct(?:ubre)?|nov(?:iembre)?|dic(?:iembre)?)"
_YEAR = r"(?:\s+(?:de|del)\s+(?P<{name}>\d{{4}}))?"
_DATE = r"(?P<{d}>\d{{1,2}})(?:\s+de)?\s+" + _MONTH.replace("{name}", "{m}") + _YEAR.replace("{name}", "{y}")


def _date_re(prefix: str) -> str:
    return _DATE.format(d=f"{prefix}d", m=f"{prefix}m", y=f"{prefix}y")


_RANGE_SAME_MONTH = re.compile(
    r"\b(?:del|de|entre(?:\s+el)?)\s+(?P<d1>\d{1,2})\s+(?:al|a|y\s+el|y|hasta\s+el)\s+" + _date_re("b") + r"\b"
)
_RANGE = re.compile(
    r"\b(?:del|de|entre(?:\s+el)?)\s+" + _date_re("a") + r"\s+(?:al|a|y\s+el|y|hasta\s+el)\s+" + _date_re("b") + r"\b"
)
_SINCE = re.compile(r"\b(?:desde|a\s+partir\s+del?)\s+(?:el\s+)?(?P<what>.+?)(?:\s+(?:a\s+la\s+fecha|hasta\s+hoy))?$")
_ONE_DATE = re.compile(r"\b" + _date_re("a") + r"\b")
_SLASH_DATE = re.compile(r"\b(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{2,4}))?\b")
_MONTH_ONLY = re.compile(
    r"\b(?:(?:en|de|durante|del\s+mes\s+de|mes\s+de)\s+" + _MONTH.format(name="m")
    + r"|(?P<full>" + "|".join(MONTHS) + r"|setiembre))" + _YEAR.format(name="y") + r"\b"
)
# A whole year ("en 2025", "del año 2024"); checked after every full date, so
# the year of "3 de octubre de 2025" never reads as one.
_YEAR_ONLY = re.compile(r"\b(?:(?:en|del?|durante)\s+(?:el\s+)?(?:ano\s+)?|ano\s+)(?P<y>\d{4,})\b")
_LAST_N_DAYS = re.compile(r"\bultim[oa]s\s+(?P<n>\d{1,3})\s+dias\b")
_FUTURE = re.compile(r"\b(manana|pasado\s+manana|proxim[oa]s?|siguiente\s+(?:semana|mes)|que\s+viene|futuro)\b")


# "ext. 102", "extensión 102", "la 102", "interno 102"; a number followed by a
# month is a day and one after "de" + month a year, so neither can match here.
_EXTENSION = re.compile(
    # Any length: a number we do not have is answered as such, never ignored.
    r"\b(?:ext(?:ension)?\.?|extensiones?|la|interno|anexo)\s*(?:#|no\.?|num(?:ero)?\.?)?\s*(?P<n>\d{2,})\b"
    r"(?!\s*(?:de\s+)?(?:ene|feb|mar|abr|may|jun|jul|ago|sep|set|oct|nov|dic)[a-z]*\b)(?!/)"
)


def extension_in(text: str) -> Optional[str]:
    """The extension number a message names ("de la 102", "ext. 201"), if any."""
    m = _EXTENSION.search(normalize(text))
    return m.group("n") if m else None


class FuturePeriod(ValueError):
    """The customer asked about a period that has not happened yet."""


class InvalidPeriod(ValueError):
    """The customer named a date that does not exist ("31 de febrero")."""


@dataclass(frozen=True)
class Period:
    start: date  # inclusive, local date
    end: date  # inclusive, local date
    label: str  # Spanish, e.g. "del 3 al 10 de noviembre"

    def utc_bounds(self, tz: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC, from local midnights of the account's time zone."""
        zone = ZoneInfo(tz)
        start = datetime.combine(self.start, time(0), tzinfo=zone)
        end = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=zone)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def normalize(text: str) -> str:
    """Lower case, no accents, single spaces: how the grammar below is written."""
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn"
    )
    return re.sub(r"\s+", " ", stripped).strip()


def today_in(tz: str, now: Optional[datetime] = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz)).date()


def _parse_date(fragment: str, today: date) -> date:
    parsed = dateparser.parse(
        fragment,
        languages=["es"],
        settings={
            "PREFER_DATES_FROM": "past",
            "RELATIVE_BASE": datetime.combine(today, time(12)),
            "DATE_ORDER": "DMY",
        },
    )
    if parsed is None:
        raise InvalidPeriod(fragment)
    return parsed.date()


def _date_from(match: re.Match, prefix: str, today: date, month: Optional[str] = None) -> date:
    year = match.group(f"{prefix}y")
    month_text = month or match.group(f"{prefix}m")
    return _parse_date(f"{match.group(f'{prefix}d')} de {month_text}" + (f" de {year}" if year else ""), today)


def _checked(start: date, end: date, today: date, label: str) -> Period:
    if start > today:
        raise FuturePeriod(label)
    if end < start:
        start, end = end, start
    return Period(start, min(end, today), label)


def _label(start: date, end: date, today: date) -> str:
    if start == end:
        return f"el {formatting.day(start, today)}"
    if start.year == end.year and start.month == end.month:
        return f"del {start.day} al {formatting.day(end, today)}"
    return f"del {formatting.day(start, today)} al {formatting.day(end, today)}"


def resolve_period(text: str, today: date) -> Optional[Period]:
    """The period that `text` names, or None when it names none.

    Raises FuturePeriod for periods that start after `today` and
    InvalidPeriod for dates that do not exist.
    """
    t = normalize(text)
    if not t:
        return None
    if _FUTURE.search(t):
        raise FuturePeriod(text)

    if m := _RANGE.search(t):
        b = _date_from(m, "b", today)
        a = _date_from(m, "a", today)
        if a > b:  # "del 28 de diciembre al 3 de enero": the start belongs to the year before
            a = a.replace(year=b.year - 1) if a.replace(year=b.year) > b else a.replace(year=b.year)
        return _checked(a, b, today, _label(a, b, today))
    if m := _RANGE_SAME_MONTH.search(t):
        b = _date_from(m, "b", today)
        a = b.replace(day=min(int(m.group("d1")), monthrange(b.year, b.month)[1]))
        return _checked(a, b, today, _label(a, b, today))
    if m := _SINCE.search(t):
        start = _single_date(m.group("what"), today) or _month(m.group("what"), today)[0]
        if start is not None:
            return _checked(start, today, today, f"desde el {formatting.day(start, today)}")
    if m := _LAST_N_DAYS.search(t):
        n = max(1, int(m.group("n")))
        return Period(today - timedelta(days=n - 1), today, f"los últimos {n} días")

    if re.search(r"\bhoy\b", t):
        return Period(today, today, "hoy")
    if re.search(r"\b(antier|anteayer|antes\s+de\s+ayer)\b", t):
        d = today - timedelta(days=2)
        return Period(d, d, f"antier ({formatting.day(d, today)})")
    if re.search(r"\bayer\b", t):
        d = today - timedelta(days=1)
        return Period(d, d, f"ayer ({formatting.day(d, today)})")
    if re.search(r"\b(semana\s+(pasada|anterior)|ultima\s+semana)\b", t):
        monday = today - timedelta(days=today.weekday() + 7)
        sunday = monday + timedelta(days=6)
        return Period(monday, sunday, f"la semana pasada ({_label(monday, sunday, today)})")
    if re.search(r"\besta\s+semana\b", t):
        return Period(today - timedelta(days=today.weekday()), today, "esta semana")
    if re.search(r"\b(mes\s+(pasado|anterior)|ultimo\s+mes)\b", t):
        last = today.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last, f"el mes pasado ({MONTHS[last.month - 1]})")
    if re.search(r"\beste\s+mes\b", t):
        return Period(today.replace(day=1), today, "este mes")
    if re.search(r"\b(ano\s+(pasado|anterior)|ultimo\s+ano)\b", t):
        year = today.year - 1
        return Period(date(year, 1, 1), date(year, 12, 31), f"el año pasado ({year})")
    if re.search(r"\beste\s+ano\b", t):
        return Period(date(today.year, 1, 1), today, f"este año ({today.year})")

    single = _single_date(t, today)
    if single is not None:
        return _checked(single, single, today, f"el {formatting.day(single, today)}")
    first, last = _month(t, today)
    if first is not None:
        name = MONTHS[first.month - 1] + (f" de {first.year}" if first.year != today.year else "")
        return _checked(first, last, today, f"en {name}")
    if m := _YEAR_ONLY.search(t):
        year = int(m.group("y"))
        if year > today.year:
            raise FuturePeriod(text)
        if year < 1900:
            raise InvalidPeriod(text)
        return _checked(date(year, 1, 1), date(year, 12, 31), today, f"en {year}")
    return None


def _month(t: str, today: date) -> tuple[Optional[date], Optional[date]]:
    """First and last day of the month that `t` names, most recent first."""
    m = _MONTH_ONLY.search(t)
    if m is None:
        return None, None
    year = m.group("y")
    first = _parse_date(f"1 de {m.group('m') or m.group('full')}" + (f" de {year}" if year else ""), today)
    return first, first.replace(day=monthrange(first.year, first.month)[1])


def _single_date(t: str, today: date) -> Optional[date]:
    if m := _ONE_DATE.search(t):
        return _date_from(m, "a", today)
    if m := _SLASH_DATE.search(t):
        return _parse_date(m.group(0), today)
    if m := re.search(r"\b(?:el\s+)?(lunes|martes|miercoles|jueves|viernes|sabado|domingo)\b", t):
        return _parse_date(m.group(1), today)
    if m := re.search(r"\bhace\s+(\d{1,3}|un|una|dos|tres)\s+(dias?|semanas?)\b", t):
        return _parse_date(m.group(0), today)
    return None
