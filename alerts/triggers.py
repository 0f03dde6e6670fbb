"""What deserves an alert, read from the account store since the last look.

One scan runs at a time (a row lock on the watermark row: PostgreSQL's
`FOR UPDATE`, SQLite's single writer), and each alert goes into the outbox
in the same transaction as the watermark that passed it, with a unique
`dedupe_key`: a scan that dies changes nothing, and two workers never
enqueue the same crossing twice. The first scan of a new deployment starts
from "now": history never alerts.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from alerts import messages
from alerts.models import AlertOutbox, AlertState, AlertStatus, AlertSubscription
from bot import formatting as fmt
from bot.config import BUSINESS_TIMEZONE
from bot.db import dialect_insert, session_scope
from bot.models import Account, Card, LedgerEntry, RechargeFailure, utcnow

WIDGET = "prepago_socketio"
BATCH = 5000
CARD_NOTICE = timedelta(days=30)


def _state(session, key: str, default: str) -> AlertState:
    # Insert-if-missing, then lock the row: the lock is what keeps scans one at a time.
    session.execute(dialect_insert(session)(AlertState).values(key=key, value=default)
                    .on_conflict_do_nothing(index_elements=["key"]))
    return session.execute(select(AlertState).where(AlertState.key == key).with_for_update()).scalar_one()


def _enqueue(session, sub: AlertSubscription, kind: str, key: str, variables: dict, source_at: datetime,
             zone: str, now: datetime) -> None:
    widget = sub.channel == WIDGET
    session.execute(dialect_insert(session)(AlertOutbox).values(
        subscription_id=sub.id, account=sub.account, kind=kind, channel=sub.channel, channel_user=sub.channel_user,
        variables=json.dumps(variables, ensure_ascii=False), dedupe_key=key,
        status=AlertStatus.WAITING_VISIT if widget else AlertStatus.PENDING,
        next_attempt_at=now if widget else messages.next_allowed(now, zone), attempts=0, source_at=source_at,
        created_at=now).on_conflict_do_nothing(index_elements=["dedupe_key"]))


def scan(now: Optional[datetime] = None, engine: Optional[Engine] = None) -> int:
    """Enqueue what happened since the last scan; returns how many alerts were written."""
    now = now or utcnow()
    with session_scope(engine) as session:
        watermark = _state(session, "scan", "")
        if not watermark.value:  # a new deployment: from now on
            entries = session.execute(select(func.max(LedgerEntry.id))).scalar() or 0
            failures = session.execute(select(func.max(RechargeFailure.id))).scalar() or 0
            watermark.value = json.dumps({"entry": entries, "failure": failures, "cards": ""})
            return 0
        mark = json.loads(watermark.value)
        before = session.execute(select(func.count(AlertOutbox.id))).scalar()
        subs: dict[str, list[AlertSubscription]] = {}
        for sub in session.execute(select(AlertSubscription)).scalars():
            subs.setdefault(sub.account, []).append(sub)
        if subs:
            _balances(session, subs, mark, now)
            _failures(session, subs, mark, now)
            _cards(session, subs, mark, now)
        else:  # nobody to alert: a subscription made later starts after its own last entry anyway
            mark["entry"] = session.execute(select(func.max(LedgerEntry.id))).scalar() or mark["entry"]
            mark["failure"] = session.execute(select(func.max(RechargeFailure.id))).scalar() or mark["failure"]
        watermark.value = json.dumps(mark)
        return session.execute(select(func.count(AlertOutbox.id))).scalar() - before


def _balances(session, subs, mark: dict, now: datetime) -> None:
    # The newest id first: an entry committed while this scan reads is left for the next one.
    top = session.execute(select(func.max(LedgerEntry.id))).scalar() or 0
    rows = session.execute(
        select(LedgerEntry.id, LedgerEntry.balance_after, LedgerEntry.occurred_at, Account.number, Account.timezone)
        .join(Account, LedgerEntry.account_id == Account.id)
        .where(LedgerEntry.id > mark["entry"], LedgerEntry.id <= top, Account.number.in_(list(subs)))
        .order_by(LedgerEntry.id).limit(BATCH)).all()
    for entry_id, balance, at, number, zone in rows:
        for sub in subs[number]:
            if entry_id <= sub.after_entry_id:
                continue
            if sub.armed and balance < sub.threshold:
                sub.armed = False  # one alert per crossing: re-armed when the balance is back up
                _enqueue(session, sub, "low_balance", f"low:{sub.id}:{entry_id}",
                         {"balance": fmt.money(balance), "threshold": fmt.money(sub.threshold)}, at, zone, now)
            elif not sub.armed and balance >= sub.threshold:
                sub.armed = True
    # Entries of accounts nobody subscribed to are passed too.
    mark["entry"] = rows[-1][0] if len(rows) == BATCH else max(mark["entry"], top)


def _failures(session, subs, mark: dict, now: datetime) -> None:
    rows = session.execute(
        select(RechargeFailure, Account.number, Account.timezone, Account.balance)
        .join(Account, RechargeFailure.account_id == Account.id)
        .where(RechargeFailure.id > mark["failure"]).order_by(RechargeFailure.id).limit(BATCH)).all()
    for failure, number, zone, balance in rows:
        for sub in subs.get(number, []):
            if failure.id > sub.after_failure_id:
                _enqueue(session, sub, "recharge_failed", f"fail:{sub.id}:{failure.id}",
                         {"amount": fmt.money(failure.amount), "reason": failure.reason, "balance": fmt.money(balance)},
                         failure.occurred_at, zone, now)
        mark["failure"] = failure.id


def _cards(session, subs, mark: dict, now: datetime) -> None:
    """Once a day: cards of subscribed accounts that expire within 30 days (once per card)."""
    today = now.astimezone(ZoneInfo(BUSINESS_TIMEZONE)).date().isoformat()
    if mark.get("cards") == today:
        return
    mark["cards"] = today
    rows = session.execute(select(Account.number, Account.timezone, Card)
                           .join(Card, Card.account_id == Account.id).where(Account.number.in_(list(subs)))).all()
    for number, zone, card in rows:
        last_day = (date(card.exp_year + card.exp_month // 12, card.exp_month % 12 + 1, 1) - timedelta(days=1))
        local_today = now.astimezone(ZoneInfo(zone)).date()
        if not local_today <= last_day <= local_today + CARD_NOTICE:
            continue
        for sub in subs[number]:
            _enqueue(session, sub, "card_expiring", f"card:{sub.id}:{card.last4}:{card.exp_year}-{card.exp_month}",
                     {"card": f"{card.brand} terminada en {card.last4}", "expires": fmt.day(last_day, local_today)},
                     now, zone, now)
