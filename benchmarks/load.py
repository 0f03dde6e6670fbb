"""An asyncio HTTP load generator (aiohttp): one task per conversation.

Each virtual user owns a conversation and sends its next message as soon as
the previous reply arrives (closed loop), like a customer typing fast.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable

import aiohttp

from benchmarks.stats import percentile

# A request: (method, url, json body, headers) for message number i of user u.
RequestFactory = Callable[[int, int], tuple[str, dict, dict]]


def customer_address(user: int) -> dict:
    """The X-Forwarded-For of virtual customer `user`: one address each (198.18.0.0/15, the benchmarking range).

    Budgets are per client address (stores/rate_limits.py), as in production where each
    customer has their own; the generator on loopback stands where our proxy stands
    (PREPAGO_TRUSTED_PROXIES=127.0.0.1), so the assistant believes the header.
    """
    return {"X-Forwarded-For": f"198.{18 + user // 65536 % 2}.{user // 256 % 256}.{user % 256}"}


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    messages: int
    errors: int
    latencies: list[float]

    def as_dict(self) -> dict:
        ms = [x * 1000 for x in self.latencies]
        return {
            "concurrency": self.concurrency,
            "messages": self.messages,
            "errors": self.errors,
            "throughput_msg_s": round(self.messages / self.seconds, 1),
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
        }


def _ok(status: int, body) -> bool:
    if status != 200:
        return False
    if isinstance(body, dict) and "messages" in body:  # our secure channel
        return bool(body["messages"])
    if isinstance(body, list):  # Rasa's REST channel
        return bool(body)
    return isinstance(body, dict)  # /model/parse


async def run_load(make_request: RequestFactory, concurrency: int, seconds: float,
                   warmup_per_user: int = 1) -> LoadResult:
    latencies: list[float] = []
    counts = {"messages": 0, "errors": 0}
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:

        async def send(user: int, i: int) -> tuple[bool, float]:
            url, body, headers = make_request(user, i)
            started = time.perf_counter()
            try:
                async with http.post(url, json=body, headers=headers) as reply:
                    payload = await reply.json(content_type=None)
                    return _ok(reply.status, payload), time.perf_counter() - started
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                return False, time.perf_counter() - started

        async def user(u: int, stop_at: float) -> None:
            i = 0
            for _ in range(warmup_per_user):  # first message opens the conversation
                await send(u, i)
                i += 1
            while time.perf_counter() < stop_at:
                ok, elapsed = await send(u, i)
                i += 1
                counts["messages"] += 1
                if ok:
                    latencies.append(elapsed)
                else:
                    counts["errors"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(user(u, started + seconds) for u in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult(concurrency, elapsed, counts["messages"], counts["errors"], latencies)


def sequential(make_request: RequestFactory, n: int) -> list[float]:
    """Latencies of `n` messages from one user, one after the other."""
    result = asyncio.run(_sequential(make_request, n))
    return result


async def _sequential(make_request: RequestFactory, n: int) -> list[float]:
    out = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for i in range(n + 3):
            url, body, headers = make_request(0, i)
            started = time.perf_counter()
            async with http.post(url, json=body, headers=headers) as reply:
                payload = await reply.json(content_type=None)
                if not _ok(reply.status, payload):
                    raise RuntimeError(f"bad reply {reply.status}: {payload}")
            if i >= 3:  # the first messages warm caches and open the conversation
                out.append(time.perf_counter() - started)
    return out
