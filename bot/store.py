"""Account-store queries and writes. Every function takes the session it works in."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.models import Account, EntryKind, Extension, LedgerEntry, RechargeFailure


class UnknownAccount(LookupError):
    pass


@dataclass(frozen=True)
class Movement:
    occurred_at: datetime
    kind: EntryKind
    amount: Decimal
    balance_after: Decimal
    extension: Optional[str]
    extension_label: Optional[str]
    destination_country: Optional[str]
    duration_seconds: Optional[int]


@dataclass(frozen=True)
class ExtensionSpend:
    extension: str
    label: str
    calls: int
    total: Decimal  # positive amount spent


def get_account(session: Session, number: str) -> Account:
    account = session.execute(
        select(Account)
        .where(Account.number == number)
        .options(
            selectinload(Account.card),
            selectinload(Account.auto_recharge),
            selectinload(Account.extensions),
        )
    ).scalar_one_or_none()
    if account is None:
        raise UnknownAccount(number)
    return account


def find_extension(account: Account, number: str) -> Optional[Extension]:
    return next((e for e in account.extensions if e.number == number), None)


def movements(
    session: Session,
    account: Account,
    *,
    start: Optional[datetime] = None,
    end: Optional[datetime] = None,
    extension: Optional[Extension] = None,
    kinds: Optional[tuple[EntryKind, ...]] = None,
    limit: int = 5,
    offset: int = 0,
) -> tuple[list[Movement], bool]:
    """Movements newest first in [start, end), and whether more remain after this page."""
    query = (
        select(LedgerEntry, Extension.number, Extension.label)
        .outerjoin(Extension, LedgerEntry.extension_id == Extension.id)
        .where(LedgerEntry.account_id == account.id)
        .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id.desc())
        .limit(limit + 1)
        .offset(offset)
    )
    if start is not None:
        query = query.where(LedgerEntry.occurred_at >= start)
    if end is not None:
        query = query.where(LedgerEntry.occurred_at < end)
    if extension is not None:
        query = query.where(LedgerEntry.extension_id == extension.id)
    if kinds:
        query = query.where(LedgerEntry.kind.in_(kinds))
    rows = session.execute(query).all()
    page = [
        Movement(
            occurred_at=entry.occurred_at,
            kind=entry.kind,
            amount=entry.amount,
            balance_after=entry.balance_after,
            extension=ext_number,
            extension_label=ext_label,
            destination_country=entry.destination_country,
            duration_seconds=entry.duration_seconds,
        )
        for entry, ext_number, ext_label in rows[:limit]
    ]
    return page, len(rows) > limit


def spending_by_extension(
    session: Session,
    account: Account,
    *,
    start: Optional[datetime] = None,
    end: Optional[datetime] = None,
) -> list[ExtensionSpend]:
    """Call charges per extension in [start, end), biggest spender first."""
    query = (
        select(
            Extension.number,
            Extension.label,
            func.count(LedgerEntry.id),
            func.sum(LedgerEntry.amount),
        )
        .join(Extension, LedgerEntry.extension_id == Extension.id)
        .where(LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.CALL_CHARGE)
        .group_by(Extension.number, Extension.label)
    )
    if start is not None:
        query = query.where(LedgerEntry.occurred_at >= start)
    if end is not None:
        query = query.where(LedgerEntry.occurred_at < end)
    result = []
    for number, label, calls, total in session.execute(query).all():
        # SUM keeps the Money type, so `total` is already exact pesos (negative).
        result.append(ExtensionSpend(number, label, calls, -total))
    return sorted(result, key=lambda s: (-s.total, s.extension))


def record_entry(
    session: Session,
    account_number: str,
    *,
    kind: EntryKind,
    amount: Decimal,
    occurred_at: datetime,
    extension_number: Optional[str] = None,
    destination_country: Optional[str] = None,
    duration_seconds: Optional[int] = None,
) -> LedgerEntry:
    """Append a movement and move the balance with it, atomically.

    The account row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite
    serialises writers) so concurrent movements never lose an update.
    """
    account = session.execute(
        select(Account).where(Account.number == account_number).with_for_update()
    ).scalar_one_or_none()
    if account is None:
        raise UnknownAccount(account_number)
    extension_id = None
    if extension_number is not None:
        extension_id = session.execute(
            select(Extension.id).where(
                Extension.account_id == account.id, Extension.number == extension_number
            )
        ).scalar_one()
    account.balance = account.balance + Decimal(amount)
    entry = LedgerEntry(
        account_id=account.id,
        occurred_at=occurred_at,
        kind=kind,
        amount=Decimal(amount),
        balance_after=account.balance,
        extension_id=extension_id,
        destination_country=destination_country,
        duration_seconds=duration_seconds,
    )
    session.add(entry)
    session.flush()
    return entry


def record_recharge_failure(session: Session, account_number: str, *, amount: Decimal, occurred_at: datetime,
                            reason: str) -> RechargeFailure:
    """An automatic recharge the card refused (the balance does not move)."""
    account_id = session.execute(select(Account.id).where(Account.number == account_number)).scalar_one_or_none()
    if account_id is None:
        raise UnknownAccount(account_number)
    failure = RechargeFailure(account_id=account_id, occurred_at=occurred_at, amount=Decimal(amount), reason=reason)
    session.add(failure)
    session.flush()
    return failure


def first_movement_at(session: Session, account: Account) -> Optional[datetime]:
    """When the account's history starts (None for an account with no movements)."""
    return session.execute(
        select(func.min(LedgerEntry.occurred_at)).where(LedgerEntry.account_id == account.id)
    ).scalar_one()


def ledger_total(session: Session, account: Account) -> Decimal:
    total = session.execute(
        select(func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id == account.id)
    ).scalar_one()
    return total if total is not None else Decimal("0.00")
