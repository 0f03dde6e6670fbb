"""Rasa's SQL tracker store, same table and same answers, less work per message.

Rasa 3.6's `SQLTrackerStore` was 44% of the Rasa process's CPU per message
under load (py-spy, benchmarks/NOTES.md). This subclass changes only how the
conversation's events are read and written:

* `save` counted the stored events of the session again (the same subquery
  as `retrieve`) to know which events are new. The tracker already knows: we
  remember how many events it held when it was read or last saved.
* Both directions went through the ORM; here they are two Core statements:
  one SELECT of the session's events, one multi-row INSERT.
* Every message re-read and deserialised the whole conversation. Recently
  used trackers stay in memory, and each read first asks the table for the
  conversation's latest event id: the copy is used only if nothing was
  written since this process saved it (so another replica's write, a
  restart or a failed turn always reloads from the table). Like Rasa's own
  store, it relies on the lock store for one writer per conversation at a
  time.
* Rasa's store runs its queries on the event loop: while PostgreSQL answers,
  the replica cannot parse, predict or answer anyone else. With `offload`
  (the default on PostgreSQL) the queries run in a small thread pool, one
  thread per connection the pool may open, and the loop goes on with other
  conversations (measured in benchmarks/RESULTS.md, "Event loop").

Its engine is its own, configured as Rasa configures its one, plus:

* SQLite files get a pool of 4 connections (SQLAlchemy 1.4 gives them
  `NullPool`: a new connection, and the WAL pragmas, twice per message).
  `sqlite://` (in memory) keeps one connection for every user (`StaticPool`),
  since each new connection would be a new, empty database.
* PostgreSQL: Rasa's `POSTGRESQL_SCHEMA` (the `search_path` of every
  connection; the store stops at start, with Rasa's message, if the schema
  does not exist), and the pool Rasa's `SQL_POOL_SIZE` and
  `SQL_MAX_OVERFLOW` ask for; without them, `pool_size` and `max_overflow`
  from endpoints.yml (default 5 and 0, see docs/scaling.md). Connections are
  checked before use (`pool_pre_ping`), so a replica outlives PostgreSQL
  restarts and idle-connection reapers. With `login_db`, the database is
  created as Rasa does.
* The `events` table is created on this engine as Rasa creates it on its
  own (it is already there unless the schema or the database is new).

Same schema (`events`), same session semantics (events from the latest
`session_started` on, by timestamp, ordered by id), so Rasa's own tools,
the HTTP API and other replicas read exactly what Rasa would write; the
methods not overridden here (`keys`, `retrieve_full_tracker`…) are Rasa's,
on the same engine.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.config import settings

logger = logging.getLogger(__name__)

# How many of the tracker's events are already in the table.
_STORED = "_prepago_stored_events"
CACHED_CONVERSATIONS = 2000
SQLITE_POOL_SIZE = 4
POOL_SIZE = 5  # PostgreSQL connections per replica, and threads when offloading (see docs/scaling.md)


class LeanSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cached_conversations: int = CACHED_CONVERSATIONS,
                 offload: Optional[bool] = None, pool_size: int = POOL_SIZE, max_overflow: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # sender_id -> (id of the last event this process wrote, the tracker it wrote)
        self._cache: "OrderedDict[str, tuple[int, DialogueStateTracker]]" = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_size = int(cached_conversations)
        connections = 1
        url = self.engine.url
        if self.engine.dialect.name == "sqlite":
            if url.database in (None, "", ":memory:"):
                # A new connection to `sqlite://` is a new, empty database: everyone shares one.
                engine_kwargs: dict[str, Any] = {"poolclass": sa.pool.StaticPool}
            else:
                # One event loop thread uses them; the pool hands each to one user at a time.
                engine_kwargs = {"poolclass": sa.pool.QueuePool, "pool_size": SQLITE_POOL_SIZE}
                connections = SQLITE_POOL_SIZE
            engine_kwargs["connect_args"] = {"check_same_thread": False}
            self._replace_engine(url, engine_kwargs)
        elif self.engine.dialect.name == "postgresql":
            engine_kwargs = create_engine_kwargs(url)  # Rasa's: POSTGRESQL_SCHEMA and its pool settings
            engine_kwargs["pool_size"] = settings().tracker_pool_size or pool_size
            engine_kwargs["max_overflow"] = settings().tracker_max_overflow or max_overflow
            connections = engine_kwargs["pool_size"] + engine_kwargs["max_overflow"]
            self._replace_engine(url, {**engine_kwargs, "pool_pre_ping": True})
        if offload is None:
            offload = self.engine.dialect.name != "sqlite"
        self._executor = ThreadPoolExecutor(connections, "tracker-store") if _truthy(offload) else None
        self._table = self.SQLEvent.__table__

    def _replace_engine(self, url: sa.engine.URL, engine_kwargs: dict[str, Any]) -> None:
        self.engine.dispose()
        self.engine = sa.create_engine(url, **engine_kwargs)
        self.sessionmaker.configure(bind=self.engine)
        with self.session_scope():
            pass  # Rasa's check: stops with its message if POSTGRESQL_SCHEMA names no schema
        try:
            self.Base.metadata.create_all(self.engine)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            # Replicas starting together may race to create it, as Rasa's own store notes.
            logger.error("Could not create tables: %s", exc)

    def _session_events(self, sender_id: Text) -> sa.sql.Select:
        t = self._table
        session_start = (
            sa.select(sa.func.max(t.c.timestamp))
            .where(t.c.sender_id == sender_id, t.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        return (
            sa.select(t.c.data)
            .where(t.c.sender_id == sender_id,
                   sa.or_(t.c.timestamp >= session_start, session_start.is_(None)))
            .order_by(t.c.id)
        )

    def _last_id(self, connection: sa.engine.Connection, sender_id: Text) -> Optional[int]:
        t = self._table
        return connection.execute(sa.select(sa.func.max(t.c.id)).where(t.c.sender_id == sender_id)).scalar()

    async def _run(self, function, *args):
        if self._executor is None:
            return function(*args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._run(self._read, sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        await self._run(self._write, tracker)

    def _read(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        with self.engine.connect() as connection:
            with self._cache_lock:
                cached = self._cache.get(sender_id)
            if cached is not None:
                last_id, tracker = cached
                # Unchanged in the table, and no unsaved events left by a failed turn.
                if self._last_id(connection, sender_id) == last_id and getattr(tracker, _STORED, -1) == len(tracker.events):
                    with self._cache_lock:
                        if sender_id in self._cache:
                            self._cache.move_to_end(sender_id)
                    return tracker
                with self._cache_lock:
                    self._cache.pop(sender_id, None)
            rows = connection.execute(self._session_events(sender_id)).scalars().all()
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(r) for r in rows], self.domain.slots)
        setattr(tracker, _STORED, len(rows))
        return tracker

    def _write(self, tracker: DialogueStateTracker) -> None:
        with self.engine.begin() as connection:
            stored = getattr(tracker, _STORED, None)
            if stored is None:  # a tracker this store did not read (a new one, or from elsewhere)
                stored = connection.execute(
                    sa.select(sa.func.count()).select_from(self._session_events(tracker.sender_id).subquery())
                ).scalar_one()
            rows = []
            for event in itertools.islice(tracker.events, stored, None):
                data = event.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                connection.execute(self._table.insert(), rows)
            last_id = self._last_id(connection, tracker.sender_id)
        setattr(tracker, _STORED, len(tracker.events))
        self._remember(tracker, last_id, new_session=any(r["type_name"] == SessionStarted.type_name for r in rows))

    def _remember(self, tracker: DialogueStateTracker, last_id: Optional[int], new_session: bool) -> None:
        with self._cache_lock:
            self._cache.pop(tracker.sender_id, None)
            # After a new session starts, the table's view is the new session only: read it from there.
            if new_session or last_id is None or self._cache_size <= 0:
                return
            self._cache[tracker.sender_id] = (last_id, tracker)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


def _truthy(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}
