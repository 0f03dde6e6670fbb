"""Opting in and out, in the customer's words (the actions call these)."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from alerts.models import AlertOutbox, AlertStatus, AlertSubscription
from bot import formatting as fmt
from bot.db import session_scope
from bot.models import LedgerEntry, RechargeFailure, utcnow
from bot.store import get_account

# The channels that can carry an alert; the web chat shows it at the customer's next visit.
PUSH_CHANNELS = ("prepago_socketio", "whatsapp", "telegram", "messenger")
NO_PUSH = ("Por este canal no puedo enviarte avisos. Actívalos desde WhatsApp, Telegram, Messenger o el chat "
           "de tu Administrador de Ooma Office.")


def _channel(channel: str) -> str:
    """The channel as the customer reads it: «este chat» for the web chat they are in."""
    return "este chat" if channel == "prepago_socketio" else fmt.CHANNEL_LABELS.get(channel, channel)


def subscribe(account: str, channel: str, channel_user: str, threshold: Decimal,
              engine: Optional[Engine] = None) -> str:
    """Create or change the customer's alerts on this channel; returns the confirmation."""
    if channel not in PUSH_CHANNELS:
        return NO_PUSH
    with session_scope(engine) as session:
        holder = get_account(session, account)
        last_entry = session.execute(select(func.max(LedgerEntry.id))).scalar() or 0
        last_failure = session.execute(select(func.max(RechargeFailure.id))).scalar() or 0
        armed = holder.balance >= threshold
        found = session.execute(select(AlertSubscription).where(
            AlertSubscription.account == account, AlertSubscription.channel == channel,
            AlertSubscription.channel_user == channel_user)).scalar()
        if found is None:
            session.add(AlertSubscription(account=account, channel=channel, channel_user=channel_user,
                                          threshold=threshold, armed=armed, after_entry_id=last_entry,
                                          after_failure_id=last_failure, created_at=utcnow()))
        else:
            found.threshold, found.armed, found.after_entry_id = threshold, armed, last_entry
        where = _channel(channel) + (", la próxima vez que lo abras" if channel == "prepago_socketio" else "")
        text = (f"Listo: te aviso por {where} cuando tu saldo baje de {fmt.money(threshold)}, si falla la recarga "
                "automática o si tu tarjeta está por vencer.")
        if not armed:
            text += (f" Tu saldo ya es de {fmt.money(holder.balance)}: te avisaré cuando, después de recargar, "
                     f"vuelva a bajar de {fmt.money(threshold)}.")
        return text + " Para quitarlos escribe «ya no me avises»."


def describe(account: str, engine: Optional[Engine] = None) -> str:
    with session_scope(engine) as session:
        subs = session.execute(select(AlertSubscription).where(AlertSubscription.account == account)
                               .order_by(AlertSubscription.id)).scalars().all()
        if not subs:
            return ("No tienes avisos activos. Si quieres, escribe «avísame cuando mi saldo baje de $150» y te "
                    "aviso antes de que se acabe tu saldo.")
        lines = [f"• Por {_channel(s.channel)}: cuando tu saldo baje de {fmt.money(s.threshold)}, "
                 "si falla la recarga automática y si tu tarjeta está por vencer." for s in subs]
        return "Estos son tus avisos:\n" + "\n".join(lines) + "\nPara quitarlos escribe «ya no me avises»."


def unsubscribe(account: str, channel: str, channel_user: str, engine: Optional[Engine] = None) -> str:
    with session_scope(engine) as session:
        subs = session.execute(select(AlertSubscription).where(
            AlertSubscription.account == account, AlertSubscription.channel == channel,
            AlertSubscription.channel_user == channel_user)).scalars().all()
        if not subs:
            return "No tienes avisos activos en este canal."
        ids = [s.id for s in subs]
        session.execute(update(AlertOutbox).where(
            AlertOutbox.subscription_id.in_(ids),
            AlertOutbox.status.in_((AlertStatus.PENDING, AlertStatus.WAITING_VISIT))
        ).values(status=AlertStatus.CANCELLED))
        for sub in subs:
            session.delete(sub)
        return "Listo, ya no te enviaré avisos por este canal. Si cambias de opinión, solo pídemelo."
