"""A conversation lock shared by every Rasa replica, with atomic tickets.

Rasa 3.6's `RedisLockStore` keeps each conversation's ticket queue as one JSON
value and changes it with GET, modify, SET (RasaHQ/rasa#9213): two replicas
that take a ticket at the same instant can both get the same number, or one
can overwrite the other's ticket, and then both process the conversation at
once. Its waiters also poll every second, and its Redis client blocks the
event loop.

Here every change to a queue is one Lua script, which Redis runs atomically:

* tickets come from `INCR`, so no two callers ever get the same number;
* a caller holds the lock when its ticket is the lowest *live* ticket; a
  ticket whose holder died (its expiry passed) is dropped by the next caller
  that looks, so a `kill -9`'d replica blocks its conversations for at most
  `lock_lifetime` seconds;
* a live holder renews its ticket every `lock_lifetime / 3` seconds, so a
  slow turn never loses the lock however long it takes;
* expiry uses Redis's clock (`TIME`), never the replicas' clocks;
* waiters poll with a short, growing interval (2 ms up to 50 ms) through the
  asyncio client, so waiting never blocks the event loop.

Keys per conversation (`<prefix>:<conversation>:`): `next` (the counter),
`queue` (a sorted set of waiting tickets) and `expiry` (a hash of ticket ->
expiry in ms). All three expire together when nobody touches them.
Scripts name every key they touch, as Redis requires.

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
from typing import Any, AsyncIterator, Optional, Text

from rasa.core.lock_store import LockError, LockStore

logger = logging.getLogger(__name__)

DEFAULT_URL = "redis://127.0.0.1:6379/1"
DEFAULT_LIFETIME = 5.0  # seconds a dead holder can block its conversation
IDLE_KEYS_TTL_MS = 3_600_000  # an abandoned queue disappears after an hour

# KEYS: next, queue, expiry. ARGV: lifetime in ms. Returns the new ticket.
_ISSUE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ticket = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('HSET', KEYS[3], ticket, now_ms + tonumber(ARGV[1]))
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return ticket
"""

# KEYS: queue, expiry. ARGV: ticket. 1: it is this ticket's turn; 0: wait;
# -1: this ticket is gone (it expired while its holder was stalled).
_TRY_ACQUIRE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
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

# KEYS: next, queue, expiry. ARGV: ticket, lifetime in ms. 1 if renewed, 0 if lost.
_RENEW = """
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return 0 end
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('HSET', KEYS[3], ARGV[1], now_ms + tonumber(ARGV[2]))
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return 1
"""

# KEYS: next, queue, expiry. ARGV: ticket. The counter may restart only when nobody waits.
_RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return 1
"""


class AtomicRedisLockStore(LockStore):
    """Drop-in for Rasa's lock store; only `lock()` is used by Rasa 3.6."""

    def __init__(self, endpoint_config: Any = None, url: Optional[str] = None, key_prefix: Optional[str] = None,
                 lock_lifetime: Optional[float] = None, **_: Any) -> None:
        from redis import asyncio as aioredis

        kwargs = dict(getattr(endpoint_config, "kwargs", None) or {})
        self.url = url or getattr(endpoint_config, "url", None) or DEFAULT_URL
        self.key_prefix = str(key_prefix or kwargs.get("key_prefix") or "prepago")
        self.lifetime = float(lock_lifetime or kwargs.get("lock_lifetime") or DEFAULT_LIFETIME)
        self.red = aioredis.Redis.from_url(self.url, socket_timeout=5, health_check_interval=30)
        self._issue = self.red.register_script(_ISSUE)
        self._try = self.red.register_script(_TRY_ACQUIRE)
        self._renew = self.red.register_script(_RENEW)
        self._release = self.red.register_script(_RELEASE)
        super().__init__()

    def _keys(self, conversation_id: Text) -> list[str]:
        base = f"{self.key_prefix}:lock:{conversation_id}:"
        return [base + "next", base + "queue", base + "expiry"]

    @contextlib.asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = 0, wait_time_in_seconds: float = 0,
                   ) -> AsyncIterator[int]:
        """Hold the conversation's lock for the block; FIFO among waiters.

        Rasa passes its own lifetime (60 s) and poll interval (1 s); both are
        ignored: the lifetime here is a liveness lease, renewed while held.
        """
        keys = self._keys(conversation_id)
        lifetime_ms = int(self.lifetime * 1000)
        try:
            ticket = int(await self._issue(keys=keys, args=[lifetime_ms, IDLE_KEYS_TTL_MS]))
        except Exception as exc:  # noqa: BLE001 - Rasa expects LockError for a store failure
            raise LockError(f"Could not take a ticket for conversation '{conversation_id}': {exc}") from exc
        renewer: Optional[asyncio.Task] = None
        try:
            await self._wait_turn(conversation_id, keys, ticket, lifetime_ms)
            renewer = asyncio.create_task(self._keep_alive(conversation_id, keys, ticket, lifetime_ms))
            yield ticket
        finally:
            if renewer is not None:
                renewer.cancel()
            try:
                await self._release(keys=keys, args=[ticket])
            except Exception:  # noqa: BLE001 - the ticket expires on its own
                logger.exception("could not release the lock of %s", conversation_id)

    async def _wait_turn(self, conversation_id: str, keys: list[str], ticket: int, lifetime_ms: int) -> None:
        pause = 0.002
        while True:
            state = int(await self._try(keys=keys[1:], args=[ticket]))
            if state == 1:
                return
            if state == -1:
                raise LockError(f"The ticket for conversation '{conversation_id}' expired while waiting.")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
            # A waiter keeps its own ticket alive too: a long queue never expires its tail.
            await self._renew(keys=keys, args=[ticket, lifetime_ms, IDLE_KEYS_TTL_MS])

    async def _keep_alive(self, conversation_id: str, keys: list[str], ticket: int, lifetime_ms: int) -> None:
        while True:
            await asyncio.sleep(self.lifetime / 3)
            try:
                if not int(await self._renew(keys=keys, args=[ticket, lifetime_ms, IDLE_KEYS_TTL_MS])):
                    logger.error("the lock of %s expired while held (event loop stalled > %.1f s)",
                                 conversation_id, self.lifetime)
                    return
            except Exception:  # noqa: BLE001 - keep trying; the lease is still valid for a while
                logger.exception("could not renew the lock of %s", conversation_id)
