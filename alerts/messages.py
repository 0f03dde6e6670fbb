"""What an alert says, the threshold a customer asks for, and the quiet hours.

Each kind has a Spanish text (Telegram, Messenger, the widget) and, for
WhatsApp, an approved template: Meta lets a business start a conversation
only with a template, so an alert on WhatsApp is sent as its Content SID
(`PREPAGO_WA_TEMPLATE_<KIND>`) with numbered variables, never as a body.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Optional, Union
from zoneinfo import ZoneInfo

from bot.config import settings
from bot import formatting as fmt

KINDS = ("low_balance", "recharge_failed", "card_expiring")
MIN_THRESHOLD, MAX_THRESHOLD = Decimal("10.00"), Decimal("50000.00")
DEFAULT_QUIET = "22:00-08:00"
_AMOUNT = re.compile(r"(-)?\s*\$?\s*(-)?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")


class PermanentFailure(Exception):
    """A send no retry can fix (no approved template, the channel is switched off): recorded at once."""


class RetryLater(Exception):
    """The provider asked us to wait (Telegram's RetryAfter): retried after `seconds`."""

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"reintentar en {seconds} s")
        self.seconds = seconds


def texts(kind: str, v: dict) -> str:
    if kind == "low_balance":
        return (f"Aviso de tu Cuenta de Prepago: tu saldo bajó a {v['balance']}, menos de los {v['threshold']} "
                "que pediste. Agrega fondos en tu Administrador de Ooma Office para que tus llamadas internacionales "
                "y premium no fallen.")
    if kind == "recharge_failed":
        return (f"Aviso de tu Cuenta de Prepago: no se pudo hacer la recarga automática de {v['amount']} "
                f"({v['reason']}). Revisa tu tarjeta en «Facturación»; tu saldo es de {v['balance']}.")
    return (f"Aviso de tu Cuenta de Prepago: tu tarjeta {v['card']}, con la que se recarga tu cuenta, vence el "
            f"{v['expires']}. Actualízala en «Facturación» para que la recarga automática no falle.")


# The numbered variables of each approved WhatsApp template, in order.
TEMPLATE_VARIABLES = {
    "low_balance": ("balance", "threshold"),
    "recharge_failed": ("amount", "reason", "balance"),
    "card_expiring": ("card", "expires"),
}


def template(kind: str, v: dict) -> Optional[tuple[str, dict]]:
    """(Content SID, {"1": …, "2": …}) for WhatsApp, or None if no template is configured."""
    sid = getattr(settings(), f"wa_template_{kind}")
    if not sid:
        return None
    return sid, {str(i): str(v[name]) for i, name in enumerate(TEMPLATE_VARIABLES[kind], 1)}


def parse_threshold(text: str) -> Union[Decimal, str]:
    """The amount in «avísame cuando mi saldo baje de $150», or the Spanish reason it cannot be used."""
    match = _AMOUNT.search(text or "")
    if match is None:
        return ("¿De cuánto? Dime el monto en pesos, por ejemplo: «avísame cuando mi saldo baje de $150».")
    negative = bool(match.group(1) or match.group(2))
    decimals = match.group(4) or ""
    if len(decimals) > 2:
        return "El monto puede tener a lo más dos decimales, por ejemplo $150.50."
    try:
        amount = Decimal(match.group(3).replace(",", "") + (f".{decimals}" if decimals else ""))
    except InvalidOperation:
        return "No entendí el monto; escríbelo con números, por ejemplo $150."
    if negative or amount <= 0:
        return "El monto del aviso tiene que ser mayor que cero, por ejemplo $150."
    if amount < MIN_THRESHOLD or amount > MAX_THRESHOLD:
        return (f"Puedo avisarte para montos entre {fmt.money(MIN_THRESHOLD)} y {fmt.money(MAX_THRESHOLD)}. "
                "¿Qué monto prefieres?")
    return amount.quantize(Decimal("0.01"))


def quiet_hours() -> tuple[int, int]:
    """(start, end) minutes of the day when no alert is sent; `PREPAGO_ALERT_QUIET_HOURS`, e.g. "22:00-08:00"."""
    text = settings().alert_quiet_hours
    match = re.fullmatch(r"(\d{1,2}):(\d\d)-(\d{1,2}):(\d\d)", text.strip())
    if not match:
        raise ValueError(f"PREPAGO_ALERT_QUIET_HOURS={text!r}: usa HH:MM-HH:MM, por ejemplo 22:00-08:00")
    a, b, c, d = (int(x) for x in match.groups())
    return a * 60 + b, c * 60 + d


def next_allowed(moment: datetime, zone: str) -> datetime:
    """`moment` if it is outside the quiet hours in `zone`, else when they end (delayed, never dropped)."""
    start, end = quiet_hours()
    if start == end:
        return moment
    local = moment.astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    quiet = (start <= minute or minute < end) if start > end else (start <= minute < end)
    if not quiet:
        return moment
    opening = local.replace(hour=end // 60, minute=end % 60, second=0, microsecond=0)
    if opening <= local:
        opening += timedelta(days=1)
    return opening.astimezone(moment.tzinfo)
