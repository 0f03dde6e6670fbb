"""A conversation lock shared by every Rasa replica, with atomic tickets.

Rasa 3.6's `RedisLockStore` keeps each conversation's ticket queue as one JSON
value and changes it with GET, modify, SET (RasaHQ/rasa#9213): two replicas
that take a ticket at the same instant can both get the same number, or one
can overwrite the other's ticket, and then both process the conversation at
once. Its waiters also poll every second, and its Redis client blocks the
event loop.

Here every change to a queue is one Lua script, which Redis runs atomically:

* tickets come from `INCR`, so no two callers ever get the same number;
* within a replica, the tickets of one conversation are taken one after
  another, in the order `lock()` was called: a burst of one customer's
  messages is served in arrival order even when it opens new connections to
  Redis (which finish opening in any order), e.g. just after a start;
* a caller holds the lock when its ticket is the lowest *live* ticket; a
  ticket whose holder died (its lease ran out) is dropped by the next caller
  that looks, so a `kill -9`'d replica blocks its conversations for at most
  the lease (`lock_lifetime` in endpoints.yml, 5 s);
* a live holder renews its lease every lease / 3 seconds, so a slow turn
  never loses the lock, and no second turn of its conversation starts while
  it runs;
* a waiter gives up with Rasa's `LockError` once it has waited the lifetime
  Rasa asks for (the `lock_lifetime` argument of `lock()`; by default
  `TICKET_LOCK_LIFETIME`, else 60 s, as in Rasa), and leaves the queue;
  `wait_time_in_seconds` caps the pause between its polls, which start at
  2 ms and grow to at most 50 ms;
* expiry uses Redis's clock (`TIME`), never the replicas' clocks;
* waiting goes through the asyncio client, so it never blocks the event loop.

Keys per conversation (`<prefix>:lock:<conversation>:`, the prefix Rasa's
store would use, `lock:` alone when the configured one is not alphanumeric):
`next` (the next ticket number; the first is 0, as in Rasa), `queue` (a
sorted set of waiting tickets) and `expiry` (a hash of ticket -> expiry in
ms). All three expire together when nobody touches them. Scripts name every
key they touch, as Redis requires.

Rasa's other `LockStore` methods (`get_lock`, `save_lock`, `issue_ticket`,
`finish_serving`, `cleanup`…) read and write the same keys as a `TicketLock`
(expiries in this process's clock), through a second, blocking client as
Rasa's own store does; Rasa 3.6 itself only calls `lock()`.

If Redis does not answer, a replica orders the turns of each conversation
with a lock of its own (one `asyncio.Lock` per conversation) instead of
refusing customers: a customer typing one message after another is still
served one turn at a time; only two messages of one conversation arriving
at the same instant on two replicas could run together while Redis is away.
The replica tries Redis again at most a second later, and as soon as Redis
answers every new turn takes a Redis ticket again.

Configured in endpoints.yml:

    lock_store:
      type: stores.lock_store.AtomicRedisLockStore
      url: redis://127.0.0.1:6379/1
      key_prefix: prepago
      lock_lifetime: 5
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any, AsyncIterator, Optional, Text

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX, LockError, LockStore, _get_lock_lifetime
from redis.exceptions import RedisError

from stores import redis_client

logger = logging.getLogger(__name__)

DEFAULT_URL = "redis://127.0.0.1:6379/1"
DEFAULT_PREFIX = "prepago"
DEFAULT_LEASE = 5.0  # seconds a dead holder can block its conversation
IDLE_KEYS_TTL_MS = 3_600_000  # an abandoned queue disappears after an hour
RETRY_REDIS_AFTER = 1.0  # seconds on local locks before asking a silent Redis again
FIRST_POLL, LONGEST_POLL = 0.002, 0.05  # seconds between a waiter's looks at the queue

_NOW_MS = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
"""

# KEYS: next, queue, expiry. ARGV: lifetime in ms, idle TTL in ms. Returns the new ticket.
_ISSUE = _NOW_MS + """
local ticket = redis.call('INCR', KEYS[1]) - 1
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('HSET', KEYS[3], ticket, now_ms + tonumber(ARGV[1]))
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return ticket
"""

# KEYS: queue, expiry. ARGV: ticket. 1: it is this ticket's turn; 0: wait;
# -1: this ticket is gone (it expired while its holder was stalled).
_TRY_ACQUIRE = _NOW_MS + """
for _, t in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local expiry = tonumber(redis.call('HGET', KEYS[2], t) or '0')
  if expiry > now_ms then
    if t == ARGV[1] then return 1 end
    return 0
  end
  redis.call('ZREM', KEYS[1], t)
  redis.call('HDEL', KEYS[2], t)
end
return -1
"""

# KEYS: next, queue, expiry. ARGV: ticket, lifetime in ms, idle TTL in ms. 1 if renewed, 0 if lost.
_RENEW = """
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return 0 end
""" + _NOW_MS + """
redis.call('HSET', KEYS[3], ARGV[1], now_ms + tonumber(ARGV[2]))
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return 1
"""

# KEYS: next, queue, expiry. ARGV: ticket, 1 to drop the lock once nobody waits (the counter
# may restart only then), 0 to keep it (Rasa's `finish_serving`).
_RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[2] == '1' and redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return 1
"""

# KEYS: next, queue, expiry. Returns false when there is no lock, else
# {Redis's now in ms, ticket, expiry in ms, ticket, expiry, ...} in ticket order.
_SNAPSHOT = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) == 0 then return false end
""" + _NOW_MS + """
local out = {now_ms}
for _, t in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  out[#out + 1] = t
  out[#out + 1] = redis.call('HGET', KEYS[3], t) or '0'
end
return out
"""

# KEYS: next, queue, expiry. ARGV: the lock's next ticket number, idle TTL in ms, then
# ticket, ms it has left, ticket, ms left, ... The counter never goes back.
_SAVE = _NOW_MS + """
redis.call('DEL', KEYS[2], KEYS[3])
for i = 3, #ARGV, 2 do
  redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i])
  redis.call('HSET', KEYS[3], ARGV[i], now_ms + tonumber(ARGV[i + 1]))
end
local after = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(ARGV[1]))
redis.call('SET', KEYS[1], after)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return 1
"""


class _KeyedLocks:
    """One `asyncio.Lock` per key, kept only while someone holds or waits for it.

    `asyncio.Lock` hands itself over first come, first served, which is what
    keeps one conversation's turns (or its ticket taking) in call order.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str, timeout: Optional[float] = None) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            if timeout is not None and lock.locked():
                try:
                    await asyncio.wait_for(lock.acquire(), max(timeout, 0))
                except asyncio.TimeoutError:
                    raise LockError(f"Could not acquire lock for conversation_id '{key}'.") from None
            else:
                await lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[key]
            if users > 1:
                self._locks[key] = (lock, users - 1)
            else:
                del self._locks[key]


class AtomicRedisLockStore(LockStore):
    """Drop-in for Rasa's `RedisLockStore`: the same `LockStore` API, atomic and in order."""

    def __init__(self, endpoint_config: Any = None, url: Optional[str] = None, key_prefix: Optional[str] = None,
                 lock_lifetime: Optional[float] = None, **_: Any) -> None:
        kwargs = dict(getattr(endpoint_config, "kwargs", None) or {})
        self.url = url or getattr(endpoint_config, "url", None) or DEFAULT_URL
        self.key_prefix = DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX
        self._set_key_prefix(key_prefix or kwargs.get("key_prefix") or DEFAULT_PREFIX)
        # The liveness lease of a holder (endpoints.yml's `lock_lifetime`), not Rasa's ticket lifetime.
        self.lease = float(lock_lifetime or kwargs.get("lock_lifetime") or DEFAULT_LEASE)
        # How long a message waits for its turn when Rasa does not say (it never does in 3.6).
        self.ticket_lifetime = float(_get_lock_lifetime())
        self.red = redis_client.connect(self.url, timeout=5, health_check_interval=30)
        self._issue = self.red.register_script(_ISSUE)
        self._try = self.red.register_script(_TRY_ACQUIRE)
        self._renew = self.red.register_script(_RENEW)
        self._release = self.red.register_script(_RELEASE)
        self._sync_client: Any = None
        self._issuing = _KeyedLocks()  # conversation -> its ticket taking, one at a time in call order
        self._local = _KeyedLocks()  # conversation -> its turns while Redis is away
        self._redis_away_until = 0.0  # monotonic; before it, do not wait on Redis
        super().__init__()

    def _set_key_prefix(self, key_prefix: Text) -> None:
        """As Rasa's `RedisLockStore`: `<prefix>:lock:` if alphanumeric, else `lock:`."""
        if isinstance(key_prefix, str) and key_prefix.isalnum():
            self.key_prefix = key_prefix + ":" + DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX
        else:
            logger.warning("Omitting provided non-alphanumeric redis key prefix: '%s'. Using default '%s' instead.",
                           key_prefix, self.key_prefix)

    def _keys(self, conversation_id: Text) -> list[str]:
        base = f"{self.key_prefix}{conversation_id}:"
        return [base + "next", base + "queue", base + "expiry"]

    @contextlib.asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: Optional[float] = None,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[int]:
        """Hold the conversation's lock for the block; FIFO among waiters.

        Raises `LockError` if the turn does not come within `lock_lifetime`
        seconds (default: `TICKET_LOCK_LIFETIME`, else 60). Yields the
        Redis ticket, or 0 while Redis is away (a local lock).
        """
        patience = self.ticket_lifetime if lock_lifetime is None else float(lock_lifetime)
        deadline = time.monotonic() + patience
        longest_pause = max(FIRST_POLL, min(LONGEST_POLL, float(wait_time_in_seconds or LONGEST_POLL)))
        if time.monotonic() < self._redis_away_until:
            async with self._local.hold(conversation_id, timeout=patience):
                yield 0
            return
        keys = self._keys(conversation_id)
        lease_ms = int(self.lease * 1000)
        ticket: Optional[int] = None
        renewer: Optional[asyncio.Task] = None
        try:
            try:
                # One ticket at a time per conversation: the first command on a cold pool
                # (a new connection, the script's first load) must not let a later caller overtake.
                async with self._issuing.hold(conversation_id):
                    ticket = int(await self._issue(keys=keys, args=[lease_ms, IDLE_KEYS_TTL_MS]))
                await self._wait_turn(conversation_id, keys, ticket, lease_ms, deadline, longest_pause)
            except (RedisError, OSError) as exc:
                self._redis_away(exc)
                ticket = None
            if ticket is None:
                async with self._local.hold(conversation_id, timeout=deadline - time.monotonic()):
                    yield 0
                return
            if self._redis_away_until:
                logger.warning("Redis answers again: conversation locks are shared by every replica again")
                self._redis_away_until = 0.0
            renewer = asyncio.create_task(self._keep_alive(conversation_id, keys, ticket, lease_ms))
            yield ticket
        finally:
            if renewer is not None:
                renewer.cancel()
            if ticket is not None:
                try:
                    await self._release(keys=keys, args=[ticket, 1])
                except Exception:  # noqa: BLE001 - the ticket expires on its own
                    logger.exception("could not release the lock of %s", conversation_id)

    def _redis_away(self, exc: BaseException) -> None:
        if not self._redis_away_until:
            logger.warning("Redis does not answer (%s): each replica orders its own conversations' turns "
                           "until it does", type(exc).__name__)
        self._redis_away_until = time.monotonic() + RETRY_REDIS_AFTER

    async def _wait_turn(self, conversation_id: str, keys: list[str], ticket: int, lease_ms: int,
                         deadline: float, longest_pause: float) -> None:
        pause = FIRST_POLL
        while True:
            state = int(await self._try(keys=keys[1:], args=[ticket]))
            if state == 1:
                return
            if state == -1:
                raise LockError(f"The ticket for conversation '{conversation_id}' expired while waiting.")
            if time.monotonic() >= deadline:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            await asyncio.sleep(min(pause, max(deadline - time.monotonic(), 0)))
            pause = min(pause * 2, longest_pause)
            # A waiter keeps its own ticket alive too: a long queue never expires its tail.
            await self._renew(keys=keys, args=[ticket, lease_ms, IDLE_KEYS_TTL_MS])

    async def _keep_alive(self, conversation_id: str, keys: list[str], ticket: int, lease_ms: int) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not int(await self._renew(keys=keys, args=[ticket, lease_ms, IDLE_KEYS_TTL_MS])):
                    logger.error("the lock of %s expired while held (event loop stalled > %.1f s)",
                                 conversation_id, self.lease)
                    return
            except Exception:  # noqa: BLE001 - keep trying; the lease is still valid for a while
                logger.exception("could not renew the lock of %s", conversation_id)

    # Rasa's LockStore API on the same keys (blocking, like Rasa's own store; Rasa 3.6 calls only `lock()`).

    def _blocking_client(self) -> Any:
        if self._sync_client is None:
            self._sync_client = redis_client.connect_blocking(self.url, timeout=5)
            self._sync_scripts = {s: self._sync_client.register_script(s)
                                  for s in (_ISSUE, _RELEASE, _SNAPSHOT, _SAVE)}
        return self._sync_client

    def _sync(self, script: str) -> Any:
        self._blocking_client()
        return self._sync_scripts[script]

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        raw = self._sync(_SNAPSHOT)(keys=self._keys(conversation_id))
        if not raw:
            return None
        redis_now, pairs = int(raw[0]) / 1000, raw[1:]
        # Expiries in this process's clock, which is what `Ticket.has_expired` compares with.
        shift = time.time() - redis_now
        tickets = deque(Ticket(int(t), int(e) / 1000 + shift) for t, e in zip(pairs[::2], pairs[1::2]))
        return TicketLock(conversation_id, tickets)

    def save_lock(self, lock: TicketLock) -> None:
        now = time.time()
        args: list[Any] = [lock.last_issued + 1, IDLE_KEYS_TTL_MS]
        for ticket in lock.tickets:
            args += [ticket.number, int((ticket.expires - now) * 1000)]
        self._sync(_SAVE)(keys=self._keys(lock.conversation_id), args=args)

    def delete_lock(self, conversation_id: Text) -> None:
        self._log_deletion(conversation_id, bool(self._blocking_client().delete(*self._keys(conversation_id))))

    def issue_ticket(self, conversation_id: Text, lock_lifetime: Optional[float] = None) -> int:
        lifetime = self.ticket_lifetime if lock_lifetime is None else float(lock_lifetime)
        try:
            return int(self._sync(_ISSUE)(keys=self._keys(conversation_id),
                                          args=[int(lifetime * 1000), IDLE_KEYS_TTL_MS]))
        except Exception as exc:  # noqa: BLE001 - as Rasa's: any failure to take a ticket is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._sync(_RELEASE)(keys=self._keys(conversation_id), args=[ticket_number, 0])

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        # One atomic step: Rasa's finish-then-delete could delete a ticket taken in between.
        self._sync(_RELEASE)(keys=self._keys(conversation_id), args=[ticket_number, 1])
