"""The account store on PostgreSQL, the production database.

Runs when PREPAGO_TEST_POSTGRES_URL points at a server (`.ci/run` sets it);
each run works in its own schema and drops it afterwards.
"""
from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from bot.db import session_scope
from bot.models import EntryKind
from bot.seed import seed_demo
from bot.store import get_account, ledger_total, movements, record_entry, spending_by_extension
from tests.conftest import ANCHOR

URL = os.environ.get("PREPAGO_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not URL, reason="set PREPAGO_TEST_POSTGRES_URL=postgresql://user@host/db to test on PostgreSQL"),
]


@pytest.fixture
def pg_engine():
    schema = f"prepago_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(URL, future=True)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(URL, future=True, connect_args={"options": f"-csearch_path={schema}"})
    try:
        seed_demo(engine, ANCHOR)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_seed_and_lookups_match_sqlite_semantics(pg_engine):
    with session_scope(pg_engine) as session:
        account = get_account(session, "100100")
        assert str(account.balance) == "598.72" == str(ledger_total(session, account))
        page, more = movements(session, account, limit=5)
        assert len(page) == 5 and more
        assert sum(r.total for r in spending_by_extension(session, account)) > 0


def test_concurrent_charges_never_lose_an_update(pg_engine):
    when = datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)

    def charge():
        for _ in range(20):
            with session_scope(pg_engine) as session:
                record_entry(session, "100100", kind=EntryKind.CALL_CHARGE, amount=Decimal("-0.01"),
                             occurred_at=when, extension_number="101")

    with session_scope(pg_engine) as session:
        before = get_account(session, "100100").balance
    threads = [threading.Thread(target=charge) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_scope(pg_engine) as session:
        account = get_account(session, "100100")
        assert account.balance == before - Decimal("0.80")
        assert account.balance == ledger_total(session, account)
