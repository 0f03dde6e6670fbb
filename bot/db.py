"""Engine and session factory for the account store.

One engine per database URL (engines pool connections and are thread-safe);
one short-lived session per unit of work, never a shared session.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool
from sqlalchemy.orm import Session, sessionmaker

from bot.config import settings


@functools.lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)  # e.g. var/ on a fresh clone
        # SQLAlchemy 1.4 gives SQLite files a NullPool: a new connection, and
        # the pragmas below, for every lookup. A pool keeps them open.
        engine = create_engine(url, future=True, poolclass=QueuePool, pool_size=4,
                               connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            # Foreign keys are off by default in SQLite; WAL lets readers run
            # while the seed or a deposit writes.
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def default_engine() -> Engine:
    return engine_for(settings().database_url)


def dialect_insert(session: Session):
    """`insert()` with ON CONFLICT support for the session's database (PostgreSQL or SQLite)."""
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    factory = sessionmaker(bind=engine or default_engine(), future=True, expire_on_commit=False)
    with factory() as session:
        with session.begin():
            yield session
