"""Replicas behind HAProxy on PostgreSQL and Redis (`make bench`, "Scale-out").

For 1 and 2 Rasa replicas (one action server, one HAProxy, this machine's
PostgreSQL and Redis): throughput and latency at 8, 32 and 128 conversations
through the load balancer, each process's peak memory, and each role's CPU
time per message (from /proc, over the load runs), the per-message cost that
docs/scaling.md turns into a sizing. Then the tracker store's event-loop
question: one replica at 32 conversations with PostgreSQL queries on the event
loop (Rasa's way) and in a thread pool (`offload`, our default on PostgreSQL).

Messages carry a message id, as the widget's do (one extra cached read each).
"""
from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmarks.load import customer_address, run_load
from benchmarks.speed_bench import FAQ_TEXT, LOOKUP_TEXT, TURNS_PER_CONVERSATION, free_port
from benchmarks.stats import peak_rss_mib
from bot.config import settings
from bot.identity import issue_token
from tools.cluster import ENDPOINTS, ClusterPorts, check_services, drop_database, running_cluster

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stats():
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat_path.read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()
        yield head.split("(", 1)[1], int(fields[2]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_seconds(group: int) -> float:
    """utime + stime of every live process in a process group (HAProxy's workers, say)."""
    return sum(cpu for _, pgrp, cpu in _stats() if pgrp == group)


# The machine's shared services, by process name: their CPU per message sizes them too.
SERVICES = {"postgresql": "postgres", "redis": "redis-server"}


def service_cpu_seconds() -> dict[str, float]:
    totals = dict.fromkeys(SERVICES, 0.0)
    for comm, _, cpu in _stats():
        for service, name in SERVICES.items():
            if comm == name:
                totals[service] += cpu
    return totals


def role(name: str) -> str:
    return name.rstrip("0123456789")


def load_runs(url: str, concurrencies: tuple[int, ...], seconds: float) -> list[dict]:
    customer = {"Authorization": f"Bearer {issue_token(settings(), '100100')}"}
    run_id = secrets.token_hex(4)

    def factory(u: int, i: int):
        return (f"{url}/webhooks/prepago/webhook",
                {"session": f"cl-{run_id}-{u:04d}-{i // TURNS_PER_CONVERSATION}",
                 "message": FAQ_TEXT if i % 2 else LOOKUP_TEXT, "message_id": f"{run_id}-{u:04d}-{i:06d}"},
                {**customer, **customer_address(u)})

    return [asyncio.run(run_load(factory, c, seconds)).as_dict() for c in concurrencies]


def measure_cluster(model: Path, work: Path, replicas: int, database_url: str, redis_url: str,
                    concurrencies: tuple[int, ...], seconds: float, endpoints: Path = ENDPOINTS) -> dict:
    ports = ClusterPorts(lb=free_port(), actions_lb=free_port(), web=None, console=None,
                         replicas=[free_port() for _ in range(replicas)], actions=[free_port()])
    with running_cluster(model, ports, work, database_url, redis_url=redis_url,
                         key_prefix=f"bench{secrets.token_hex(3)}", endpoints=endpoints) as cluster:
        load_runs(cluster.rasa_url, (8,), 3)  # warm every replica's caches
        pids = {name: p.pid for name, p in cluster.processes.items()}
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        services_before = service_cpu_seconds()
        loads = load_runs(cluster.rasa_url, concurrencies, seconds)
        spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
        spent.update({name: cpu - services_before[name] for name, cpu in service_cpu_seconds().items()})
        rss = {name: peak_rss_mib(pid) for name, pid in pids.items()}
    messages = sum(load["messages"] for load in loads)
    by_role: dict[str, float] = {}
    for name, seconds_ in spent.items():
        by_role[role(name)] = by_role.get(role(name), 0.0) + seconds_
    per_message = {r: round(1000 * s / max(messages, 1), 2) for r, s in by_role.items()}
    total = sum(v for k, v in per_message.items() if k not in SERVICES) or 1
    return {
        "replicas": replicas,
        "load": loads,
        "peak_rss_mib": rss,
        "cpu_ms_per_message": per_message,
        # Of the assistant's own processes (Rasa, actions, HAProxy).
        "action_server_cpu_share": round(per_message.get("actions", 0) / total, 3),
    }


def event_loop(model: Path, work: Path, database_url: str, redis_url: str, seconds: float) -> dict:
    """One replica, 32 conversations: PostgreSQL queries on the event loop vs in threads."""
    blocking = work / "endpoints-blocking.yml"
    blocking.write_text(ENDPOINTS.read_text().replace("  pool_size: 5", "  pool_size: 5\n  offload: false"))
    out = {}
    for label, endpoints in (("on the event loop", blocking), ("thread pool (offload)", ENDPOINTS)):
        out[label] = measure_cluster(model, work / label.split()[0], 1, database_url, redis_url, (32,), seconds,
                                     endpoints)["load"][0]
    return out


def bench_services(database: str):
    """(PostgreSQL URL of a fresh `database`, Redis URL) for a cluster benchmark, or why it is skipped."""
    pg = os.environ.get("PREPAGO_BENCH_POSTGRES_URL") or os.environ.get("PREPAGO_TEST_POSTGRES_URL")
    redis_url = os.environ.get("PREPAGO_BENCH_REDIS_URL") or os.environ.get("PREPAGO_TEST_REDIS_URL")
    if not pg or not redis_url:
        return {"skipped": "set PREPAGO_TEST_POSTGRES_URL and PREPAGO_TEST_REDIS_URL (as .ci/run does)"}
    database_url = make_url(pg).set(database=database).render_as_string(hide_password=False)
    problem = check_services(database_url, redis_url)
    if problem:
        return {"skipped": problem}
    drop_database(database_url)
    return database_url, redis_url


def cluster(model: Path, work: Path, seconds: float = 30.0, concurrencies: tuple[int, ...] = (8, 32, 128),
            replica_counts: tuple[int, ...] = (1, 2)) -> dict:
    services = bench_services("prepago_bench")
    if isinstance(services, dict):
        return services
    database_url, redis_url = services
    runs = [measure_cluster(model, work / f"r{n}", n, database_url, redis_url, concurrencies, seconds)
            for n in replica_counts]
    result = {"runs": runs, "event_loop": event_loop(model, work, database_url, redis_url, seconds)}
    shutil.rmtree(work, ignore_errors=True)
    return result
