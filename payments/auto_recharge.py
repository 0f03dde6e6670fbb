"""Changing the auto-recharge settings from the chat: validated, confirmed, applied, echoed.

The bounds are the portal's: the recharge amount between the smallest and the
largest amount of the «Agregar Fondos» menu, the threshold between
`PREPAGO_AUTO_RECHARGE_MIN_THRESHOLD` and `…_MAX_THRESHOLD`, and the amount
above the threshold (otherwise one recharge would not lift the balance over it).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Optional, Union

from sqlalchemy.engine import Engine

from bot import formatting as fmt
from bot.db import session_scope
from bot.models import Account, AutoRecharge, utcnow
from bot.store import get_account
from payments.funds import YES_NO, Actor, Answer, amounts_in, card_text, operation_key, record, withdraw_proposals
from payments.models import Operation, OperationKind, Status
from payments.settings import payment_settings

_OFF = re.compile(r"\b(desactiva\w*|apaga\w*|quita\w*|cancela\w*|deten\w*|ya no|no quiero)\b")
_ON = re.compile(r"\b(activa\w*|prende\w*|enciende\w*|reactiva\w*)\b")
_THRESHOLD_CUE = re.compile(r"(baj\w*|menos|debajo|llegue|quede\w*|umbral|limite|cuando)\W*(a|de|del)?\W*$")


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def parse(text: str, current: Optional[AutoRecharge]) -> Union[tuple[bool, Decimal, Decimal], str]:
    """(enabled, threshold, amount) asked for in `text`, completed with the current settings, or the reason it can't be."""
    cfg, said = payment_settings(), _fold(text or "")
    found = amounts_in(said)
    if _OFF.search(said) and not found:
        if current is None:
            return "La recarga automática de tu cuenta ya está desactivada."
        return False, current.threshold, current.amount
    threshold = current.threshold if current else None
    amount = current.amount if current else None
    for start, value in found:
        if _THRESHOLD_CUE.search(said[max(0, start - 25):start]):
            threshold = value
        else:
            amount = value
    if not found and not _ON.search(said):
        return ("No entendí los montos. Dímelo así, por ejemplo: «que se recargue $1,000 cuando baje de $300».")
    if threshold is None or amount is None:
        return "Dime las dos cantidades, por ejemplo: «que se recargue $1,000 cuando baje de $300»."
    low, high = cfg.amounts[0], cfg.amounts[-1]
    for value in (threshold, amount):
        if value <= 0 or value != value.quantize(Decimal("0.01")):
            return "Los montos tienen que ser cantidades en pesos mayores que cero, por ejemplo $300."
    if not cfg.min_threshold <= threshold <= cfg.max_threshold:
        return (f"El saldo que activa la recarga tiene que estar entre {fmt.money(cfg.min_threshold)} y "
                f"{fmt.money(cfg.max_threshold)}, como en el portal. ¿Qué límite prefieres?")
    if not low <= amount <= high:
        return (f"La recarga automática puede ser de {fmt.money(low)} a {fmt.money(high)}, como en el portal. "
                "¿De cuánto la quieres?")
    if amount <= threshold:
        return (f"La recarga ({fmt.money(amount)}) tiene que ser mayor que el saldo que la activa "
                f"({fmt.money(threshold)}); si no, una recarga no alcanzaría a subir tu saldo por encima del límite.")
    return True, threshold, amount


def describe(enabled: bool, threshold: Decimal, amount: Decimal, card: Optional[str]) -> str:
    if not enabled:
        return "recarga automática **desactivada**"
    return (f"recarga automática **activada**: cuando tu saldo baje de **{fmt.money(threshold)}** se cargarán "
            f"**{fmt.money(amount)}** a tu {card or 'tarjeta registrada'}")


def propose(actor: Actor, text: str, turn: str, now: Optional[datetime] = None,
            engine: Optional[Engine] = None) -> Answer:
    now = now or utcnow()
    with session_scope(engine) as session:
        account = get_account(session, actor.account)
        asked = parse(text, account.auto_recharge)
        if isinstance(asked, str):
            return Answer(asked)
        enabled, threshold, amount = asked
        withdraw_proposals(session, actor, now)
        record(session, account, actor, OperationKind.AUTO_RECHARGE, Status.PROPOSED, now, enabled=int(enabled),
               threshold=threshold, amount=amount, card=card_text(account),
               idempotency_key=operation_key(actor.conversation, turn))
        return Answer(f"¿Confirmas este cambio? Quedaría la {describe(enabled, threshold, amount, card_text(account))}.",
                      YES_NO)


def apply(operation_id: int, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> Answer:
    """Store the confirmed settings and echo them back as they are now saved."""
    now = now or utcnow()
    with session_scope(engine) as session:
        operation = session.get(Operation, operation_id)
        account = session.get(Account, operation.account_id)
        settings = account.auto_recharge
        if settings is None:
            settings = account.auto_recharge = AutoRecharge(account_id=account.id, enabled=bool(operation.enabled),
                                                            threshold=operation.threshold, amount=operation.amount)
        else:
            settings.enabled, settings.threshold, settings.amount = (bool(operation.enabled), operation.threshold,
                                                                     operation.amount)
        operation.status, operation.updated_at = Status.SUCCEEDED, now
        session.flush()
        return Answer(f"Listo, guardé tu configuración: {describe(settings.enabled, settings.threshold, settings.amount, card_text(account))}.")
