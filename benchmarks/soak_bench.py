"""A long run at half of the measured capacity (`make bench`, "Soak").

Two Rasa replicas, one action server, HAProxy and the alert worker behind the
run commands' supervisor, on PostgreSQL and Redis (as cluster_bench.py).
First the capacity: closed-loop messages from 32 conversations through the
load balancer (the cluster part's measure). Then an open loop at 50% of it
for the whole duration (30 minutes by default): message k is sent at
k / rate seconds whatever the replies do, spread over 64 customers whose
sessions change every 10 messages, so no rate limit is ever reached. Every
process's resident memory (its whole process group: HAProxy's workers too)
is sampled as it goes; growth per hour is the least-squares slope once the
caches that are meant to fill have filled: after the first fifth of the run,
or later, once every replica's tracker cache could hold its 2,000
conversations (stores/tracker_store.py), but never after 60% of the run.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Optional

import aiohttp

from benchmarks.cluster_bench import bench_services, load_runs
from benchmarks.load import customer_address
from benchmarks.speed_bench import FAQ_TEXT, LOOKUP_TEXT, TURNS_PER_CONVERSATION, free_port
from benchmarks.stats import percentile
from bot.config import settings
from bot.identity import issue_token
from stores.tracker_store import CACHED_CONVERSATIONS
from tools.cluster import ClusterPorts, running_cluster
from tools.serve import supervised

CUSTOMERS = 64
WARM_UP_SHARE, LATEST_SETTLE_SHARE = 0.2, 0.6  # of the run, left out of the growth slope
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_by_group(groups: dict[str, int]) -> dict[str, float]:
    """Resident MiB of every live process in each named process group."""
    totals = dict.fromkeys(groups, 0.0)
    by_group = {group: name for name, group in groups.items()}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            name = by_group.get(int(fields[2]))
            if name is not None:
                totals[name] += int(fields[21]) * PAGE / 2**20  # rss, in pages
        except (OSError, IndexError, ValueError):
            continue
    return {name: round(mib, 1) for name, mib in totals.items()}


def growth_per_hour(samples: list[tuple[float, float]]) -> Optional[float]:
    """Least-squares slope of (seconds, MiB), in MiB per hour."""
    if len(samples) < 3:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if not spread:
        return None
    return round(3600 * sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread, 1)


async def open_loop(url: str, rate: float, seconds: float) -> dict:
    """Message k at k / rate seconds; latency and errors of each, and the p95 of the first and last tenth."""
    headers = {"Authorization": f"Bearer {issue_token(settings(), '100100')}"}
    run_id = secrets.token_hex(4)
    done: list[tuple[float, Optional[float]]] = []  # (sent at, latency or None for an error)
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), connector=connector) as http:

        async def send(k: int, at: float) -> None:
            customer, turn = k % CUSTOMERS, k // CUSTOMERS
            body = {"session": f"soak-{run_id}-{customer:03d}-{turn // TURNS_PER_CONVERSATION}",
                    "message": FAQ_TEXT if k % 2 else LOOKUP_TEXT, "message_id": f"{run_id}-{k:08d}"}
            try:
                async with http.post(f"{url}/webhooks/prepago/webhook", json=body,
                                     headers={**headers, **customer_address(customer)}) as reply:
                    payload = await reply.json(content_type=None)
                    ok = reply.status == 200 and bool(payload.get("messages"))
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                ok = False
            done.append((at, time.perf_counter() - started - at if ok else None))

        started = time.perf_counter()
        tasks: set[asyncio.Task] = set()
        k = 0
        while (at := k / rate) < seconds:
            await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
            task = asyncio.create_task(send(k, at))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            k += 1
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started

    def p95(part: list[tuple[float, Optional[float]]]) -> float:
        return round(percentile([1000 * s for _, s in part if s is not None], 95), 1)

    latencies = [1000 * s for _, s in done if s is not None]
    tenth = seconds / 10
    return {"messages": len(done), "errors": sum(1 for _, s in done if s is None),
            "throughput_msg_s": round(len(done) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
            "p95_first_tenth_ms": p95([d for d in done if d[0] < tenth]),
            "p95_last_tenth_ms": p95([d for d in done if d[0] >= seconds - tenth])}


def soak(model: Path, work: Path, seconds: float = 1800.0, capacity_seconds: float = 30.0,
         share: float = 0.5, sample_every: Optional[float] = None) -> dict:
    services = bench_services("prepago_soak")
    if isinstance(services, dict):
        return services
    database_url, redis_url = services
    sample_every = sample_every or max(1.0, seconds / 180)
    ports = ClusterPorts(lb=free_port(), actions_lb=free_port(), web=None, console=None,
                         replicas=[free_port(), free_port()], actions=[free_port()])
    with running_cluster(model, ports, work, database_url, redis_url=redis_url,
                         key_prefix=f"soak{secrets.token_hex(3)}") as cluster, supervised(cluster) as supervisor:
        load_runs(cluster.rasa_url, (8,), 3)  # warm every replica's caches
        capacity = load_runs(cluster.rasa_url, (32,), capacity_seconds)[0]
        rate = share * capacity["throughput_msg_s"]
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cluster.processes}
        stop = threading.Event()
        started = time.monotonic()

        def sample() -> None:
            while True:
                now = time.monotonic() - started
                # Each process leads its own group (a restarted one: its new group).
                for name, mib in rss_by_group({n: p.pid for n, p in cluster.processes.items()}).items():
                    samples[name].append((round(now, 1), mib))
                if stop.wait(sample_every):
                    return

        sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
        sampler.start()
        try:
            load = asyncio.run(open_loop(cluster.rasa_url, rate, seconds))
        finally:
            stop.set()
            sampler.join(timeout=10)
        restarts = dict(supervisor.restarts)
    # Sessions change every TURNS_PER_CONVERSATION messages; HAProxy spreads them over both replicas.
    cache_full = CACHED_CONVERSATIONS * TURNS_PER_CONVERSATION / max(rate, 0.1)
    settled = max(seconds * WARM_UP_SHARE, min(cache_full, seconds * LATEST_SETTLE_SHARE))
    rss = {}
    for name, points in samples.items():
        if not points:
            continue
        # A short run (the smoke run, a loaded machine's slow sampler) may leave few samples past `settled`:
        # the slope then comes from its last three.
        tail = [p for p in points if p[0] >= settled]
        rss[name] = {"start_mib": points[0][1], "end_mib": points[-1][1], "peak_mib": max(m for _, m in points),
                     "growth_mib_per_hour": growth_per_hour(tail if len(tail) >= 3 else points[-3:])}
    return {"seconds": round(seconds), "capacity_msg_s": capacity["throughput_msg_s"], "share": share,
            "rate_msg_s": round(rate, 1), "load": load, "rss": rss, "samples": len(next(iter(samples.values()), [])),
            "sample_every_s": round(sample_every, 1), "growth_after_s": round(settled), "restarts": restarts}
