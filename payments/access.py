"""Who may move money from the chat.

* Web: a signed-in user whose token carries a role allowed to (`PREPAGO_MONEY_ROLES`,
  by default admin and billing).
* Messaging channels: a linked chat that proved the account PIN again a few
  minutes ago (bot/linking.py, `begin_step_up`).
Anyone else moves nothing; the answer says why and what to do.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from bot import linking
from bot.identity import Identity
from payments.settings import payment_settings

NO_ROLE = ("Tu usuario puede consultar la cuenta, pero no tiene permiso para hacer pagos ni cambiar la tarjeta o la "
           "recarga automática. Pídele a un administrador o a la persona de facturación de tu empresa que lo haga, "
           "o que te dé ese permiso en el Administrador de Ooma Office.")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    refusal: Optional[str] = None  # what to tell a web user who may not
    step_up: bool = False  # a messaging chat that must prove the PIN first


def messaging_address(who: Identity) -> Optional[tuple[str, str]]:
    """(channel, user) of a messaging identity ("telegram:123" → ("telegram", "123")); None on the web."""
    if not who.subject or ":" not in who.subject:
        return None
    channel, user = who.subject.split(":", 1)
    return channel, user


def may_move_money(who: Identity) -> Decision:
    cfg = payment_settings()
    if who.account is None:
        return Decision(False)
    address = messaging_address(who)
    if address is not None:
        fresh = linking.stepped_up(*address, who.account, timedelta(minutes=cfg.step_up_minutes))
        return Decision(True) if fresh else Decision(False, step_up=True)
    if who.role in cfg.roles:
        return Decision(True)
    return Decision(False, NO_ROLE)


def actor_name(who: Identity) -> str:
    """How the audit log names who asked."""
    if messaging_address(who) is not None:
        return who.subject
    return f"web:{who.account} ({who.role or 'sin rol'})"
