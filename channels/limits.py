"""Rate limits for every entry point, per client (aiolimiter's leaky bucket).

A person types a few messages a minute; a script types hundreds. Over its
limit a client gets a polite Spanish answer (HTTP 429 where there is HTTP) and
the turn never runs. Limits are per process: behind a load balancer each
replica counts its own clients, so the effective limit is at most N times
higher (PREPAGO_MESSAGES_PER_MINUTE, PREPAGO_TOKENS_PER_MINUTE).
"""
from __future__ import annotations

import os
from collections import OrderedDict

from aiolimiter import AsyncLimiter

TOO_FAST = "Vas muy rápido: espera unos segundos y vuelve a escribirme."
MAX_CLIENTS = 10_000  # buckets kept; the least recently seen client is forgotten first


class RateLimit:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: "OrderedDict[str, AsyncLimiter]" = OrderedDict()

    async def allow(self, client: str) -> bool:
        """Count one request of `client`; False when it is over its limit."""
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = AsyncLimiter(self.per_minute, 60)
            if len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
        if not bucket.has_capacity():
            return False
        await bucket.acquire()  # immediate: there is capacity
        return True


# One conversation's messages (web, socket.io, each messaging chat).
MESSAGES = RateLimit(int(os.environ.get("PREPAGO_MESSAGES_PER_MINUTE", "30")))
# Demo tokens per client address.
DEMO_TOKENS = RateLimit(int(os.environ.get("PREPAGO_TOKENS_PER_MINUTE", "20")))
