"""The customer's explicit «sí» or «no» to the proposal last shown in their conversation."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.models import utcnow
from payments import auto_recharge, funds
from payments.funds import Actor, Answer
from payments.models import Operation, OperationKind


def confirm(actor: Actor, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> Answer:
    """Carry out the conversation's proposal, once, whatever the number of «sí» or replicas."""
    now = now or utcnow()
    operation_id, refusal = funds.claim(actor, now, engine)
    if refusal is not None:
        return refusal
    with session_scope(engine) as session:
        kind = session.get(Operation, operation_id).kind
    if kind == OperationKind.AUTO_RECHARGE:
        return auto_recharge.apply(operation_id, now, engine)
    return funds.charge_claimed(operation_id, engine=engine)


def cancel(actor: Actor, now: Optional[datetime] = None, engine: Optional[Engine] = None) -> Answer:
    return funds.cancel(actor, now, engine)
