"""The lean tracker store reads and writes exactly what Rasa's SQLTrackerStore does."""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

from stores.tracker_store import LeanSQLTrackerStore
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def stores(tmp_path, domain):
    db = str(tmp_path / "trackers.db")
    return LeanSQLTrackerStore(domain, dialect="sqlite", db=db), SQLTrackerStore(domain, dialect="sqlite", db=db)


def run(coroutine):
    return asyncio.run(coroutine)


def events_of(tracker):
    return [e.as_dict() for e in tracker.events]


def test_round_trip_in_both_directions(tmp_path, domain):
    lean, rasa = stores(tmp_path, domain)
    tracker = run(lean.get_or_create_tracker("c1"))
    tracker.update(UserUttered("hola", {"name": "greet", "confidence": 0.9}))
    tracker.update(ActionExecuted("utter_greet"))
    run(lean.save(tracker))
    assert events_of(run(rasa.retrieve("c1"))) == events_of(tracker)

    theirs = run(rasa.retrieve("c1"))
    theirs.update(SlotSet("last_query", {"kind": "activity", "offset": 5}))
    run(lean.save(theirs))  # a tracker our store did not read: it counts what is stored
    assert events_of(run(lean.retrieve("c1"))) == events_of(theirs)


def test_each_event_is_stored_once_across_saves(tmp_path, domain):
    lean, rasa = stores(tmp_path, domain)
    tracker = run(lean.get_or_create_tracker("c2"))
    for i in range(3):
        tracker.update(UserUttered(f"mensaje {i}", {"name": "greet", "confidence": 0.9}))
        run(lean.save(tracker))
        tracker = run(lean.retrieve("c2"))
    run(lean.save(tracker))  # nothing new
    with lean.engine.connect() as connection:
        count = connection.exec_driver_sql("select count(*) from events where sender_id = 'c2'").scalar_one()
    assert count == len(tracker.events) == len(run(rasa.retrieve("c2")).events)


def test_only_the_latest_session_is_read_like_rasa(tmp_path, domain):
    lean, rasa = stores(tmp_path, domain)
    tracker = run(lean.get_or_create_tracker("c3"))
    tracker.update(UserUttered("antes", {"name": "greet", "confidence": 0.9}, timestamp=1000.0))
    run(lean.save(tracker))
    tracker = run(lean.retrieve("c3"))
    tracker.update(ActionExecuted("action_session_start", timestamp=2000.0))
    tracker.update(SessionStarted(timestamp=2000.0))
    tracker.update(UserUttered("después", {"name": "greet", "confidence": 0.9}, timestamp=2001.0))
    run(lean.save(tracker))
    ours, theirs = run(lean.retrieve("c3")), run(rasa.retrieve("c3"))
    assert events_of(ours) == events_of(theirs)
    assert [e.text for e in ours.events if isinstance(e, UserUttered)] == ["después"]


def test_unknown_conversation_is_none(tmp_path, domain):
    lean, _ = stores(tmp_path, domain)
    assert run(lean.retrieve("nadie")) is None


def test_a_write_by_another_replica_is_never_hidden_by_the_cache(tmp_path, domain):
    db = str(tmp_path / "trackers.db")
    replica_a, replica_b = (LeanSQLTrackerStore(domain, dialect="sqlite", db=db) for _ in range(2))
    tracker = run(replica_a.get_or_create_tracker("c4"))
    tracker.update(UserUttered("uno", {"name": "greet", "confidence": 0.9}))
    run(replica_a.save(tracker))
    assert run(replica_a.retrieve("c4")) is tracker  # served from memory: nothing changed

    other = run(replica_b.retrieve("c4"))
    other.update(UserUttered("dos", {"name": "greet", "confidence": 0.9}))
    run(replica_b.save(other))
    seen = run(replica_a.retrieve("c4"))
    assert seen is not tracker and events_of(seen) == events_of(other)


def test_a_failed_turn_leaves_no_unsaved_events_behind(tmp_path, domain):
    lean, _ = stores(tmp_path, domain)
    tracker = run(lean.get_or_create_tracker("c5"))
    run(lean.save(tracker))
    saved = events_of(tracker)
    same = run(lean.retrieve("c5"))
    same.update(UserUttered("a medias", {"name": "greet", "confidence": 0.9}))  # the turn fails before save
    assert events_of(run(lean.retrieve("c5"))) == saved


def postgres_kwargs() -> dict:
    from sqlalchemy.engine import make_url

    from tests.conftest import POSTGRES_URL

    url = make_url(POSTGRES_URL)
    return dict(dialect="postgresql", host=url.host, port=url.port, db=url.database, username=url.username,
                password=url.password)


def test_in_memory_sqlite_works_like_rasas(domain):
    """`sqlite://`: a new connection would be a new, empty database (Rasa's tables in another one)."""
    for kwargs in ({"host": "sqlite:///"}, {"dialect": "sqlite", "db": ""}):
        lean = LeanSQLTrackerStore(domain, **kwargs)
        tracker = run(lean.get_or_create_tracker("m1"))
        tracker.update(UserUttered("hola", {"name": "greet", "confidence": 0.9}))
        run(lean.save(tracker))
        lean._cache.clear()  # read it back from the database, not from memory
        assert events_of(run(lean.retrieve("m1"))) == events_of(tracker)
        assert events_of(run(lean.retrieve_full_tracker("m1"))) == events_of(tracker)  # Rasa's own query
        assert list(run(lean.keys())) == ["m1"]


def test_a_configured_postgresql_schema_is_where_both_stores_write(domain, postgres_schema, monkeypatch):
    import sqlalchemy as sa

    monkeypatch.setenv("POSTGRESQL_SCHEMA", postgres_schema)
    lean, rasa = LeanSQLTrackerStore(domain, **postgres_kwargs()), SQLTrackerStore(domain, **postgres_kwargs())
    sender = f"schema-{postgres_schema}"
    tracker = run(lean.get_or_create_tracker(sender))
    tracker.update(UserUttered("hola", {"name": "greet", "confidence": 0.9}))
    run(lean.save(tracker))
    assert events_of(run(rasa.retrieve(sender))) == events_of(tracker)
    with lean.engine.connect() as connection:
        where = connection.execute(sa.text("SELECT DISTINCT table_schema FROM information_schema.tables "
                                           "WHERE table_name = 'events' AND table_schema = :s"), {"s": postgres_schema})
        assert where.scalars().all() == [postgres_schema]
        stored = connection.execute(sa.text(f'SELECT count(*) FROM "{postgres_schema}".events WHERE sender_id = :s'),
                                    {"s": sender}).scalar_one()
    assert stored == len(tracker.events)
    lean.engine.dispose()
    rasa.engine.dispose()


def test_a_missing_postgresql_schema_stops_the_store_with_rasas_message(domain, monkeypatch, capsys):
    from tests.conftest import POSTGRES_URL

    if not POSTGRES_URL:
        pytest.skip("set PREPAGO_TEST_POSTGRES_URL (as .ci/run does) to test on PostgreSQL")
    monkeypatch.setenv("POSTGRESQL_SCHEMA", "no_such_schema_here")
    with pytest.raises(SystemExit):
        LeanSQLTrackerStore(domain, **postgres_kwargs())
    assert "Requested PostgreSQL schema 'no_such_schema_here' was not found" in capsys.readouterr().out


def test_the_pool_follows_rasas_settings_then_endpoints_yml(domain, postgres_schema, monkeypatch):
    import asyncio

    monkeypatch.setenv("POSTGRESQL_SCHEMA", postgres_schema)
    configured = LeanSQLTrackerStore(domain, pool_size=3, **postgres_kwargs())  # endpoints.yml's pool_size
    assert (configured.engine.pool.size(), configured.engine.pool._max_overflow) == (3, 0)
    configured.engine.dispose()

    monkeypatch.setenv("SQL_POOL_SIZE", "2")
    monkeypatch.setenv("SQL_MAX_OVERFLOW", "3")
    lean = LeanSQLTrackerStore(domain, pool_size=3, **postgres_kwargs())
    assert (lean.engine.pool.size(), lean.engine.pool._max_overflow) == (2, 3)

    # Five reads at once use five connections (2 + 3 overflow), one per offloading thread.
    in_use = []

    def slow_read(_):
        with lean.engine.connect() as connection:
            connection.exec_driver_sql("SELECT pg_sleep(0.2)")
            in_use.append(lean.engine.pool.checkedout())

    async def main():
        await asyncio.gather(*(lean._run(slow_read, n) for n in range(8)))

    asyncio.run(main())
    assert max(in_use) == 5
    lean.engine.dispose()
