"""The account store against a real SQLite database (PostgreSQL in test_postgres.py)."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, NoResultFound, StatementError

from bot.db import engine_for, session_scope
from bot.models import Card, EntryKind, LedgerEntry
from bot.store import UnknownAccount, get_account, ledger_total, movements, record_entry, spending_by_extension
from tests.conftest import ANCHOR
from tools.seed import seed_demo


def test_balance_equals_the_ledger(engine):
    with session_scope(engine) as session:
        for number in ("100100", "200200"):
            account = get_account(session, number)
            assert account.balance == ledger_total(session, account)
            assert isinstance(account.balance, Decimal)


def test_demo_seed_is_deterministic(engine, tmp_path):
    """The same anchor gives the same history on every machine (the anchor is the test clock's day)."""
    again = engine_for(f"sqlite:///{tmp_path / 'again.db'}")
    seed_demo(again, ANCHOR)
    for number in ("100100", "200200"):
        with session_scope(engine) as a, session_scope(again) as b:
            first, second = get_account(a, number), get_account(b, number)
            assert first.balance == second.balance == ledger_total(a, first) > 0
            assert movements(a, first, limit=500)[0] == movements(b, second, limit=500)[0]


def test_record_entry_moves_balance_exactly(engine):
    when = datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)
    with session_scope(engine) as session:
        before = get_account(session, "100100").balance
        for _ in range(10):
            record_entry(session, "100100", kind=EntryKind.CALL_CHARGE, amount=Decimal("-0.10"),
                         occurred_at=when, extension_number="101", destination_country="Canadá", duration_seconds=12)
    with session_scope(engine) as session:
        account = get_account(session, "100100")
        assert account.balance == before - Decimal("1.00")  # no float drift
        assert account.balance == ledger_total(session, account)


def test_failed_write_leaves_no_trace(engine):
    with session_scope(engine) as session:
        before = get_account(session, "100100").balance
    with pytest.raises(NoResultFound):  # extension 999 does not exist
        with session_scope(engine) as session:
            record_entry(session, "100100", kind=EntryKind.CALL_CHARGE, amount=Decimal("-5.00"),
                         occurred_at=datetime.now(timezone.utc), extension_number="999")
    with session_scope(engine) as session:
        account = get_account(session, "100100")
        assert account.balance == before == ledger_total(session, account)


def test_charges_must_be_negative(engine):
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            record_entry(session, "100100", kind=EntryKind.CALL_CHARGE, amount=Decimal("5.00"),
                         occurred_at=datetime.now(timezone.utc))


def test_money_rejects_fractions_of_a_centavo(engine):
    with pytest.raises(StatementError, match="more than two decimals"):
        with session_scope(engine) as session:
            record_entry(session, "100100", kind=EntryKind.DEPOSIT, amount=Decimal("1.005"),
                         occurred_at=datetime.now(timezone.utc))


def test_card_keeps_only_brand_last4_and_expiry(engine):
    columns = {c["name"] for c in inspect(engine).get_columns("cards")}
    assert columns == {"account_id", "brand", "last4", "exp_month", "exp_year"}
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            card = session.get(Card, get_account(session, "200200").id)
            card.last4 = "4242424242424242"


def test_movements_newest_first_with_paging_and_filters(engine):
    with session_scope(engine) as session:
        account = get_account(session, "100100")
        first, more = movements(session, account, limit=5)
        second, _ = movements(session, account, limit=5, offset=5)
        assert more and len(first) == 5
        stamps = [m.occurred_at for m in first + second]
        assert stamps == sorted(stamps, reverse=True)
        ext = next(e for e in account.extensions if e.number == "102")
        only_102, _ = movements(session, account, extension=ext, limit=50)
        assert only_102 and {m.extension for m in only_102} == {"102"}


def test_spending_by_extension_sums_call_charges(engine):
    with session_scope(engine) as session:
        account = get_account(session, "100100")
        rows = spending_by_extension(session, account)
        charges = session.execute(
            select(LedgerEntry.amount).where(LedgerEntry.account_id == account.id,
                                             LedgerEntry.kind == EntryKind.CALL_CHARGE)
        ).scalars().all()
        assert sum(r.total for r in rows) == -sum(charges)
        assert [r.total for r in rows] == sorted((r.total for r in rows), reverse=True)


def test_unknown_account(engine):
    with session_scope(engine) as session, pytest.raises(UnknownAccount):
        get_account(session, "999999")


def test_lookup_indexes_exist(engine):
    names = {ix["name"] for ix in inspect(engine).get_indexes("ledger_entries")}
    assert {"ix_ledger_account_time", "ix_ledger_account_ext_time"} <= names


def test_sqlite_store_is_created_in_a_missing_folder(tmp_path):
    from bot.db import engine_for
    import migrations

    path = tmp_path / "var" / "nested" / "prepago.db"
    migrations.upgrade(engine_for(f"sqlite:///{path}"))
    assert path.exists()
