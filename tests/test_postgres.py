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
from tools.seed import seed_demo
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


def test_seed_and_lookups_match_sqlite_semantics(pg_engine, engine):
    # `engine` is SQLite seeded with the same anchor: both stores must hold the same money.
    with session_scope(pg_engine) as session, session_scope(engine) as lite:
        account, same = get_account(session, "100100"), get_account(lite, "100100")
        assert account.balance == ledger_total(session, account) == same.balance > 0
        page, more = movements(session, account, limit=5)
        assert len(page) == 5 and more
        assert page == movements(lite, same, limit=5)[0]
        assert spending_by_extension(session, account) == spending_by_extension(lite, same)


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


def test_parallel_pin_attempts_are_counted_atomically(pg_engine, monkeypatch):
    from bot import linking
    from tests.test_linking import T0, _try_pin, parallel_wrong_pins

    assert parallel_wrong_pins(pg_engine, monkeypatch, "telegram") <= linking.MAX_FAILURES
    assert "bloqueada" in _try_pin("telegram", "pg-late", "100100", "4321", T0, pg_engine).reply


def test_a_retried_delivery_is_handled_once_across_replicas(pg_engine):
    from bot.deliveries import first_delivery

    results = []
    threads = [threading.Thread(target=lambda: results.append(first_delivery("whatsapp", "SM-same", engine=pg_engine)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_lean_tracker_store_on_postgresql():
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from sqlalchemy.engine import make_url

    from stores.tracker_store import LeanSQLTrackerStore
    from tests.conftest import PROJECT_ROOT

    url = make_url(URL)
    kwargs = dict(dialect="postgresql", host=url.host, port=url.port, db=url.database, username=url.username,
                  password=url.password)
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    lean, rasa = LeanSQLTrackerStore(domain, **kwargs), SQLTrackerStore(domain, **kwargs)
    sender = f"pg-test-{uuid.uuid4().hex}"
    try:
        tracker = asyncio.run(lean.get_or_create_tracker(sender))
        tracker.update(UserUttered("hola", {"name": "greet", "confidence": 0.9}))
        asyncio.run(lean.save(tracker))
        assert [e.as_dict() for e in asyncio.run(rasa.retrieve(sender)).events] == [e.as_dict() for e in tracker.events]
        assert asyncio.run(lean.retrieve(sender)) is tracker  # unchanged in the table: served from memory
    finally:
        with lean.engine.begin() as connection:
            connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
