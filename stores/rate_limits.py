"""Rate limits for every entry point, per client: a leaky bucket per client.

A person types a few messages a minute; a script types hundreds. Over its
limit a client gets a polite Spanish answer (HTTP 429 where there is HTTP) and
the turn never runs (PREPAGO_MESSAGES_PER_MINUTE, PREPAGO_TOKENS_PER_MINUTE).

A web message costs two budgets: its conversation's, and its client's (`client_key`):
the address it came from, plus the verified account when there is one. The session
key (and so the conversation) is the client's to choose, the address is not: a
script that invents a session per message still spends one budget. The address is
the connection's peer, or, when that peer is one of our proxies
(PREPAGO_TRUSTED_PROXIES: addresses or networks, comma-separated; `bot cluster`
names its HAProxy), the last X-Forwarded-For hop before our proxies.

One process (`make run`): aiolimiter's bucket in memory. Replicas
(PREPAGO_REDIS_URL set, as `bot cluster`, compose and Kubernetes do): the
same bucket kept in Redis and updated by one Lua script, so a client gets the
same budget whichever replica its messages reach. If Redis does not answer,
the replica falls back to its own buckets: the customer is never refused
because the limiter is down.
"""
from __future__ import annotations

import ipaddress
import logging
from collections import OrderedDict
from typing import Optional

from aiolimiter import AsyncLimiter

from bot.config import settings
from stores import redis_client

logger = logging.getLogger(__name__)

TOO_FAST = "Vas muy rápido: espera unos segundos y vuelve a escribirme."
MAX_CLIENTS = 10_000  # buckets kept in memory; the least recently seen client is forgotten first

# aiolimiter's rule on Redis's clock. KEYS: the client's bucket. ARGV: capacity, leak per second.
# The bucket drains continuously; a request fits when level + 1 <= capacity.
_LEAKY_BUCKET = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'at') or tostring(now))
level = math.max(0, level - (now - last) * rate)
local allowed = 0
if level + 1 <= capacity then
  level = level + 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000))
return allowed
"""


class RateLimit:
    def __init__(self, name: str, per_minute: int, minutes: int = 1) -> None:
        """`per_minute` requests every `minutes` minutes (a bucket of that size that drains evenly)."""
        self.name = name
        self.per_minute = per_minute  # the bucket's size
        self.seconds = 60 * minutes
        self._buckets: "OrderedDict[str, AsyncLimiter]" = OrderedDict()
        self._script = None  # the shared bucket, set up on first use when PREPAGO_REDIS_URL is set
        self._redis_url: Optional[str] = None

    async def allow(self, client: str) -> bool:
        """Count one request of `client`; False when it is over its limit."""
        script = self._shared()
        if script is not None:
            try:
                key = f"{settings().lock_prefix}:rate:{self.name}:{client}"
                return bool(int(await script(keys=[key], args=[self.per_minute, self.per_minute / self.seconds])))
            except Exception:  # noqa: BLE001 - Redis down: count here rather than refuse customers
                logger.warning("shared rate limit unavailable; counting in this process", exc_info=True)
        return await self._allow_here(client)

    def _shared(self):
        url = settings().redis_url
        if url != self._redis_url:
            self._redis_url, self._script = url, None
            if url:
                self._script = redis_client.connect(url, timeout=2).register_script(_LEAKY_BUCKET)
        return self._script

    async def _allow_here(self, client: str) -> bool:
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = AsyncLimiter(self.per_minute, self.seconds)
            if len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
        if not bucket.has_capacity():
            return False
        await bucket.acquire()  # immediate: there is capacity
        return True


def _trusted_proxies() -> list:
    networks = []
    for item in settings().trusted_proxies.split(","):
        if item.strip():
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
    return networks


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(peer: Optional[str], forwarded_for: Optional[str] = None) -> str:
    """The address a request came from: X-Forwarded-For is believed only from our own proxies."""
    trusted = _trusted_proxies()
    hop = _address(peer or "")
    if hop is None:
        return peer or "?"
    hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
    # From the right: each hop our proxies added, until the first address that is not one of them.
    while any(hop in network for network in trusted) and hops:
        earlier = _address(hops.pop())
        if earlier is None:
            break  # a malformed entry: keep the last address we can vouch for
        hop = earlier
    return str(hop)


def client_key(address: str, account: Optional[str]) -> str:
    """The client a budget belongs to: what the client cannot mint freely."""
    return f"{address}/{account}" if account else address


async def allow_message(conversation: str, client: str) -> bool:
    """One web message: within its conversation's budget and its client's (both are counted)."""
    by_conversation = await MESSAGES.allow(conversation)
    by_client = await CLIENT_MESSAGES.allow(client)
    return by_conversation and by_client


# One conversation's messages (web, socket.io, each messaging chat).
MESSAGES = RateLimit("messages", settings().messages_per_minute)
# One web client's messages over all its conversations (address, plus the account when signed in).
CLIENT_MESSAGES = RateLimit("client-messages", settings().client_messages_per_minute)
# Support cases opened without a verified account, per address and hour: each one waits for a person.
ANONYMOUS_CASES = RateLimit("anonymous-cases", settings().anonymous_cases_per_hour, minutes=60)
# Demo tokens per client address.
DEMO_TOKENS = RateLimit("demo-tokens", settings().tokens_per_minute)
