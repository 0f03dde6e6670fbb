"""What the assistant says about a customer's own account, built from the store.

Each function opens its own short session, reads, and returns a `Reply`; the
Rasa actions only pick the function and send the result.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot import formatting as fmt
from bot.db import session_scope
from bot.identity import EXPIRED, INVALID, AuthError
from bot.models import Account, EntryKind
from bot.language import names_period
from bot.periods import FuturePeriod, InvalidPeriod, Period, extension_in, resolve_period, today_in
from bot.store import Movement, find_extension, first_movement_at, get_account, movements, spending_by_extension

PAGE_SIZE = 5
SPENDING_DEFAULT_DAYS = 30
MAX_EXTENSION_DIGITS = 5

# What a lookup asks for; kept in the `last_query` slot so that "ver más" and
# follow-ups ("¿y en septiembre?", "¿y nomás la 103?") continue it.
ACTIVITY, SPENDING, DEPOSITS = "activity", "spending", "deposits"
FUNDING = (EntryKind.DEPOSIT, EntryKind.AUTO_RECHARGE)


@dataclass
class Reply:
    text: str
    buttons: list[dict] = field(default_factory=list)
    # Offset of the next page of the same lookup, for "ver más"; None: no more.
    next_offset: Optional[int] = None


def sign_in_needed(error: Optional[AuthError]) -> Reply:
    if error == EXPIRED:
        opening = "Tu sesión expiró, así que por seguridad no puedo mostrarte datos de tu cuenta."
    elif error == INVALID:
        opening = "No pude verificar tu sesión, así que por seguridad no puedo mostrarte datos de tu cuenta."
    else:
        opening = "Para consultar tu saldo o tus movimientos necesito saber que eres tú."
    return Reply(
        f"{opening} Inicia sesión en tu Administrador de Ooma Office y vuelve a abrir este chat "
        "desde ahí. Mientras tanto, con gusto respondo tus dudas sobre la Cuenta de Prepago."
    )


def card_label(account: Account) -> Optional[str]:
    """«Visa terminada en 4242 (vence 08/2028)», the one way a card is named to customers and staff."""
    card = account.card
    return f"{card.brand} terminada en {card.last4} (vence {card.exp_month:02d}/{card.exp_year})" if card else None


def card_text(account: Account) -> str:
    return card_label(account) or "no tienes una tarjeta registrada"


def _auto_recharge_text(account: Account) -> str:
    settings = account.auto_recharge
    if settings is None or not settings.enabled:
        return "La recarga automática está desactivada."
    return (
        f"La recarga automática está activada: cuando tu saldo baja de {fmt.money(settings.threshold)} "
        f"se cargan {fmt.money(settings.amount)} a tu tarjeta {card_text(account)}."
    )


def balance(account_number: str, engine: Optional[Engine] = None) -> Reply:
    with session_scope(engine) as session:
        account = get_account(session, account_number)
        return Reply(
            f"El saldo de tu Cuenta de Prepago es de **{fmt.money(account.balance)}**. "
            + _auto_recharge_text(account)
        )


def movement_line(m: Movement, zone: ZoneInfo, today: date) -> str:
    when = fmt.day_and_time(m.occurred_at.astimezone(zone), today)
    amount = ("+" if m.amount > 0 else "") + fmt.money(m.amount)
    if m.kind == EntryKind.CALL_CHARGE:
        what = f"Llamada a {m.destination_country}"
        if m.extension:
            what += f" desde la ext. {m.extension} ({m.extension_label})"
        if m.duration_seconds:
            what += f", {fmt.duration(m.duration_seconds)}"
    elif m.kind == EntryKind.AUTO_RECHARGE:
        what = "Recarga automática"
    else:
        what = "Depósito"
    return f"• {when}: {what}: {amount}"


@dataclass
class _Page:
    zone: ZoneInfo
    today: date
    movements: list[Movement]
    has_more: bool
    scope: str  # " de la ext. 102 (Ventas) en octubre"
    period: Optional[Period] = None

    def lines(self) -> list[str]:
        return [movement_line(m, self.zone, self.today) for m in self.movements]


def _filters(session, account, extension: Optional[str], period_text: Optional[str], today: date):
    """(extension, period) the customer named, or the Reply that says why one cannot be used."""
    ext, problem = _extension_filter(account, extension)
    if problem:
        return problem
    period, problem = _period_filter(period_text, today, session, account)
    return problem or (ext, period)


def _load_page(account_number: str, *, extension: Optional[str], period_text: Optional[str], offset: int,
               kinds: Optional[tuple[EntryKind, ...]], now: Optional[datetime], engine: Optional[Engine]):
    """One page of movements with the filters applied, or the Reply that says why a filter cannot be."""
    with session_scope(engine) as session:
        account = get_account(session, account_number)
        zone, today = ZoneInfo(account.timezone), today_in(account.timezone, now)
        filters = _filters(session, account, extension, period_text, today)
        if isinstance(filters, Reply):
            return filters
        ext, period = filters
        start, end = period.utc_bounds(account.timezone) if period else (None, None)
        page, has_more = movements(session, account, start=start, end=end, extension=ext, kinds=kinds,
                                   limit=PAGE_SIZE, offset=offset)
        return _Page(zone, today, page, has_more, _scope_text(ext, period), period)


@dataclass(frozen=True)
class _Listing:
    """What a paged list of movements calls itself when it is empty or continues."""

    kinds: Optional[tuple[EntryKind, ...]]
    no_more: str
    nothing: str
    more: str


ACTIVITY_LIST = _Listing(None, "Ya no hay más movimientos", "No encontré movimientos", "Más movimientos")
DEPOSIT_LIST = _Listing(FUNDING, "Ya no hay más depósitos ni recargas", "No encontré depósitos ni recargas automáticas",
                    "Más depósitos y recargas")


def _first_page(listing: _Listing, account_number: str, *, extension: Optional[str], period_text: Optional[str],
                offset: int, now: Optional[datetime], engine: Optional[Engine]):
    """The first page to be introduced by its caller, or the whole Reply: a filter refused, nothing
    found, or a later page (which only continues the list)."""
    page = _load_page(account_number, extension=extension, period_text=period_text, offset=offset,
                      kinds=listing.kinds, now=now, engine=engine)
    if isinstance(page, Reply):
        return page
    if not page.movements:
        return Reply(f"{listing.no_more}{page.scope}." if offset else
                     f"{listing.nothing}{page.scope}.{_just_started(page.period, page.today)}")
    if offset:
        return _paged(Reply("\n".join([f"{listing.more}{page.scope}:"] + page.lines())), page.has_more, offset)
    return page


def activity(
    account_number: str,
    *,
    extension: Optional[str] = None,
    period_text: Optional[str] = None,
    offset: int = 0,
    now: Optional[datetime] = None,
    engine: Optional[Engine] = None,
) -> Reply:
    """Movements newest first, filtered by extension and period, one page at a time."""
    page = _first_page(ACTIVITY_LIST, account_number, extension=extension, period_text=period_text, offset=offset,
                       now=now, engine=engine)
    if isinstance(page, Reply):
        return page
    heading = f"Tus movimientos{page.scope}, del más reciente al más antiguo:"
    return _paged(Reply("\n".join([heading] + page.lines())), page.has_more, offset)


def _paged(reply: Reply, has_more: bool, offset: int) -> Reply:
    if has_more:
        reply.next_offset = offset + PAGE_SIZE
        reply.buttons = [{"title": "Ver más", "payload": "/show_more_activity"}]
        reply.text += "\n\nEscribe «ver más» para ver los siguientes, o consulta el historial completo en «Actividad de Prepago» de tu Administrador."
    return reply


def deposits(
    account_number: str,
    *,
    period_text: Optional[str] = None,
    offset: int = 0,
    now: Optional[datetime] = None,
    engine: Optional[Engine] = None,
) -> Reply:
    """Deposits and automatic recharges only, newest first; the first page answers "when was the last"."""
    page = _first_page(DEPOSIT_LIST, account_number, extension=None, period_text=period_text, offset=offset,
                       now=now, engine=engine)
    if isinstance(page, Reply):
        return page
    last = page.movements[0]
    what = "Tu última recarga automática" if last.kind == EntryKind.AUTO_RECHARGE else "Tu último depósito"
    when = fmt.day_and_time(last.occurred_at.astimezone(page.zone), page.today)
    heading = f"{what}{page.scope} fue el {when}, por **{fmt.money(last.amount)}**."
    listing = f"Depósitos y recargas{page.scope}, del más reciente al más antiguo:"
    return _paged(Reply("\n".join([heading, listing] + page.lines())), page.has_more, offset)


def spending(
    account_number: str,
    *,
    period_text: Optional[str] = None,
    extension: Optional[str] = None,
    now: Optional[datetime] = None,
    engine: Optional[Engine] = None,
) -> Reply:
    """What calls cost in a period: the total first, then per extension, biggest first."""
    with session_scope(engine) as session:
        account = get_account(session, account_number)
        today = today_in(account.timezone, now)
        filters = _filters(session, account, extension, period_text, today)
        if isinstance(filters, Reply):
            return filters
        ext, period = filters
        period = period or _recent(today)
        start, end = period.utc_bounds(account.timezone)
        rows = spending_by_extension(session, account, start=start, end=end)
    if ext is not None:
        row = next((r for r in rows if r.extension == ext.number), None)
        if row is None:
            return Reply(f"La ext. {ext.number} ({ext.label}) no usó fondos de la Cuenta de Prepago {period.label}."
                         f"{_just_started(period, today)}")
        return Reply(f"La ext. {ext.number} ({ext.label}) gastó **{fmt.money(row.total)}** {period.label} "
                     f"en {_calls(row.calls)}.")
    if not rows:
        return Reply(f"Ninguna extensión usó fondos de la Cuenta de Prepago {period.label}.{_just_started(period, today)}")
    total, calls = sum(r.total for r in rows), sum(r.calls for r in rows)
    return Reply("\n".join(
        [f"En llamadas se gastaron **{fmt.money(total)}** {period.label} ({_calls(calls)}).",
         f"Gasto en llamadas por extensión, {period.label}:"] + _spending_lines(rows)))


def _just_started(period: Optional[Period], today: date) -> str:
    """On the 1st, «este mes» is a few hours old: say so, and how to see the one before."""
    if period is None or period.start != today or period.label == "hoy":
        return ""
    return " Ese periodo apenas empieza hoy; para ver el anterior escribe, por ejemplo, «el mes pasado» o «la semana pasada»."


def _calls(n: int) -> str:
    return f"{n} llamada" if n == 1 else f"{n} llamadas"


def _recent(today: date) -> Period:
    start = today - timedelta(days=SPENDING_DEFAULT_DAYS - 1)
    return Period(start, today, f"en los últimos {SPENDING_DEFAULT_DAYS} días")


def _spending_lines(rows) -> list[str]:
    lines = []
    for row in rows:
        lines.append(f"• Ext. {row.extension} ({row.label}): {fmt.money(row.total)} en {_calls(row.calls)}")
    lines.append(f"Total: {fmt.money(sum(r.total for r in rows))}")
    return lines


def faq_details(faq_key: str, account_number: str, now: Optional[datetime] = None,
                engine: Optional[Engine] = None) -> Optional[Reply]:
    """The customer's own data that completes an FAQ answer, when there is any."""
    with session_scope(engine) as session:
        account = get_account(session, account_number)
        refills = account.auto_recharge is not None and account.auto_recharge.enabled
        if faq_key == "change_card":
            uses = ("tus depósitos y tu recarga automática" if refills
                    else "tus depósitos (tu recarga automática está desactivada)")
            return Reply(f"Hoy tu tarjeta registrada es {card_text(account)}. Con ella se pagan {uses}.")
        if faq_key == "auto_recharge":
            return Reply(_auto_recharge_text(account) + ("" if refills else " Para activarla, sigue los pasos de arriba."))
        if faq_key == "add_funds":
            # Never "it refills itself" to an account whose auto-recharge is off.
            paid_by = f"tu tarjeta {card_text(account)}" if account.card is not None else None
            if refills:
                after = _auto_recharge_text(account) + (" Esa misma tarjeta paga los fondos que agregues." if paid_by else "")
            else:
                after = ("La recarga automática está desactivada, así que tu cuenta no se recarga sola: cuando el saldo "
                         "se acabe tendrás que agregar fondos de nuevo (o activar la recarga en «Configuraciones»)."
                         + (f" Los fondos que agregues se pagan con {paid_by}." if paid_by else ""))
            return Reply(f"Tu saldo actual es de {fmt.money(account.balance)}. {after}")
        if faq_key == "prepaid_coverage":
            return Reply(f"Tu saldo actual es de {fmt.money(account.balance)}.")
        if faq_key == "restrict_extensions":
            start, end = _recent(today_in(account.timezone, now)).utc_bounds(account.timezone)
            rows = spending_by_extension(session, account, start=start, end=end)
            if not rows:
                return Reply(f"En los últimos {SPENDING_DEFAULT_DAYS} días ninguna extensión usó tus fondos.")
            return Reply("\n".join([f"Quién usó tus fondos en los últimos {SPENDING_DEFAULT_DAYS} días:"] + _spending_lines(rows)))
    return None


def _extension_filter(account: Account, extension: Optional[str]):
    if not extension:
        return None, None
    wanted = "".join(c for c in str(extension) if c.isdigit())
    ext = find_extension(account, wanted) if wanted else None
    if ext is None:
        known = ", ".join(f"{e.number} ({e.label})" for e in account.extensions)
        shown = extension if len(str(extension)) <= 12 else str(extension)[:12] + "…"
        why = (f" Los números de extensión tienen como máximo {MAX_EXTENSION_DIGITS} dígitos."
               if len(wanted) > MAX_EXTENSION_DIGITS else "")
        return None, Reply(f"No encontré la extensión {shown} en tu cuenta.{why} Tus extensiones son: {known}.")
    return ext, None


def _period_filter(period_text: Optional[str], today: date, session, account):
    """The period a message names, or the Reply that says why it cannot be searched:
    a future or impossible date, or one before the account's history starts."""
    if not period_text:
        return None, None
    try:
        period = resolve_period(period_text, today)
        if period is not None:
            first = first_movement_at(session, account)
            first_day = first.astimezone(ZoneInfo(account.timezone)).date() if first else today
            if period.end < first_day:
                return None, Reply(f"No hay movimientos {period.label}: el historial de tu Cuenta de Prepago "
                                   f"empieza el {fmt.day(first_day, today)}. " + PERIOD_EXAMPLES)
        return period, None
    except FuturePeriod:
        return None, Reply(
            "Esa fecha todavía no llega, así que no hay movimientos que mostrar. " + PERIOD_EXAMPLES
        )
    except InvalidPeriod:
        return None, Reply("Esa fecha no existe en el calendario (revisa el día y el mes), "
                           "así que no puedo buscar en ella. " + PERIOD_EXAMPLES)


PERIOD_EXAMPLES = "Puedo buscar en fechas pasadas, por ejemplo «ayer», «la semana pasada», «en octubre» o «del 3 al 10 de noviembre»."


def new_query(kind: str, text: str) -> dict:
    """The lookup a message asks for, with the filters it names."""
    return {"kind": kind, "extension": extension_in(text), "period_text": text if names_period(text) else None}


def refined_query(previous: Optional[dict], text: str) -> dict:
    """A follow-up: the filters the message names replace the previous ones; the rest stay."""
    query = dict(previous or {"kind": ACTIVITY, "extension": None, "period_text": None})
    query.pop("offset", None)
    if extension := extension_in(text):
        query["extension"] = extension
    elif re.search(r"\btodas\b", text.lower()):
        query["extension"] = None  # "¿y todas las extensiones?"
    if names_period(text):
        query["period_text"] = text
    return query


def lookup(account_number: str, query: dict, *, offset: int = 0, now: Optional[datetime] = None,
           engine: Optional[Engine] = None) -> Reply:
    """Answer a lookup (`new_query`/`refined_query`) from the account store."""
    kind, extension, period_text = query.get("kind"), query.get("extension"), query.get("period_text")
    if kind == SPENDING:
        return spending(account_number, period_text=period_text, extension=extension, now=now, engine=engine)
    if kind == DEPOSITS:
        return deposits(account_number, period_text=period_text, offset=offset, now=now, engine=engine)
    return activity(account_number, extension=extension, period_text=period_text, offset=offset,
                    now=now, engine=engine)


def _scope_text(ext, period: Optional[Period]) -> str:
    text = f" de la ext. {ext.number} ({ext.label})" if ext is not None else ""
    return text + (f" {period.label}" if period is not None else "")
