"""Several Rasa replicas and action servers behind HAProxy, on this machine.

`bot cluster --replicas 2` (`make run-cluster`) is the production topology
on loopback, used by the tests and the benchmarks too:

    HAProxy :5005 ──▶ Rasa replicas :5101… (one Sanic worker each)
           :5055 ──▶ action servers :5151…
    shared: PostgreSQL (tracker store, account store), Redis (conversation
    locks, socket.io's client manager)

A replica keeps nothing of its own that another needs: conversations are in
PostgreSQL, the conversation lock and socket.io's rooms in Redis, and each
load balancer check answers from the replica's own HTTP server.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import signal
import socket
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.config import BUSINESS_TIMEZONE, PROJECT_ROOT, settings
from bot.db import engine_for
from bot.identity import issue_token
from bot.periods import today_in
from tools.seed import ensure_demo_staff, seed_demo
from tools.serve import (Ports, Stack, _private, actions_command, alerts_command, child_env, console_banner,
                         console_command, launch, rasa_command, run_until_stopped, stop_all, wait_ready,
                         webdemo_command)

HAPROXY_TEMPLATE = PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg.in"
COMPOSE_HAPROXY = PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/prepago"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Loopback ports: the load balancer keeps the single-process ports, so the
# widget, `bot chat` and the demo page work the same against either.
LB_PORT, ACTIONS_LB_PORT, WEB_PORT, CONSOLE_PORT = 5005, 5055, 8080, 8090
FIRST_REPLICA_PORT, FIRST_ACTIONS_PORT = 5101, 5151
# A dead replica refuses the check at once and is out of rotation within ~3 s. A busy one (its
# event loop held while a restarted neighbour loads its model on the same cores) keeps its place
# unless it stays silent past three 5 s checks (`timeout check` in the template): taking the last
# survivor out for being slow turns a slow answer into a 503 for everyone.
CHECK = "check inter 1s fall 3 rise 2"

ENDPOINTS = PROJECT_ROOT / "deploy" / "endpoints.yml"  # the production file, filled from the environment


def render_haproxy(rasa_servers: list[str], action_servers: list[str], bind: str, rasa_port: int,
                   actions_port: int, global_extra: str = "", cookie_extra: str = "") -> str:
    def lines(servers: list[str], sticky: bool = False) -> str:
        return "\n".join(f"    {line}" + (f" cookie {line.split()[1]}" if sticky and line.startswith("server ") else "")
                         for line in servers)

    return HAPROXY_TEMPLATE.read_text().format(
        bind=bind, rasa_port=rasa_port, actions_port=actions_port, global_extra=global_extra,
        cookie_extra=cookie_extra, rasa_servers=lines(rasa_servers),
        rasa_sticky_servers=lines(rasa_servers, sticky=True), action_servers=lines(action_servers),
    )


def compose_haproxy() -> str:
    """The same balancer for docker compose: replicas found through Docker's DNS (deploy/haproxy/haproxy.cfg)."""
    return render_haproxy(
        [f"server-template rasa 1-8 rasa:5005 {CHECK} resolvers docker init-addr none"],
        [f"server-template actions 1-8 actions:5055 {CHECK} resolvers docker init-addr none"],
        bind="*", rasa_port=5005, actions_port=5055,
        global_extra=("\nresolvers docker\n    nameserver dns 127.0.0.11:53\n    hold valid 5s\n"),
        # server-template cannot name each server's cookie: HAProxy derives them from this key.
        cookie_extra=" dynamic\n    dynamic-cookie-key \"${PREPAGO_HAPROXY_COOKIE_KEY}\"",
    )


@dataclass
class ClusterPorts:
    lb: int = LB_PORT
    actions_lb: int = ACTIONS_LB_PORT
    web: Optional[int] = WEB_PORT
    console: Optional[int] = CONSOLE_PORT
    replicas: list[int] = field(default_factory=lambda: [FIRST_REPLICA_PORT, FIRST_REPLICA_PORT + 1])
    actions: list[int] = field(default_factory=lambda: [FIRST_ACTIONS_PORT])

    @classmethod
    def default(cls, replicas: int, action_servers: int, offset: int = 0) -> "ClusterPorts":
        """The usual ports, all moved by `offset` (a second cluster on the same machine)."""
        return cls(lb=LB_PORT + offset, actions_lb=ACTIONS_LB_PORT + offset, web=WEB_PORT + offset,
                   console=CONSOLE_PORT + offset,
                   replicas=[FIRST_REPLICA_PORT + offset + i for i in range(replicas)],
                   actions=[FIRST_ACTIONS_PORT + offset + i for i in range(action_servers)])


class Cluster(Stack):
    """A running cluster; `ports.rasa` is the load balancer, so it drives like one stack."""

    cluster_ports: ClusterPorts
    haproxy_socket: Path

    def replica_names(self) -> list[str]:
        return [f"rasa{i + 1}" for i in range(len(self.cluster_ports.replicas))]

    def replica_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.cluster_ports.replicas[self.replica_names().index(name)]}"

    def kill(self, name: str) -> None:
        """kill -9 one process (tests: a replica dying mid-conversation)."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def restart(self, name: str, timeout: float = 120.0) -> None:
        """Start a process again (through the supervisor, if one watches) and wait until
        the load balancer sends it traffic."""
        command, env, health = self.commands[name]
        supervisor = getattr(self, "supervisor", None)
        if supervisor is not None:
            supervisor.revive(name)
        else:
            launch(self, name, command, env, append=True)
        if health is None:  # the alert worker: nothing listens
            return
        wait_ready(self, {name: health}, timeout)
        backend = {"rasa": "rasa", "actions": "actions"}.get(name.rstrip("0123456789"))
        deadline = time.monotonic() + 20
        while backend and self.server_state(name, backend) != "UP" and time.monotonic() < deadline:
            time.sleep(0.2)

    def haproxy(self, command: str) -> str:
        """A command on HAProxy's admin socket (`show stat`, `disable server …`)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(self.haproxy_socket))
            connection.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> list[dict[str, str]]:
        text = self.haproxy("show stat").lstrip("# ")
        return list(csv.DictReader(io.StringIO(text)))

    def server_state(self, name: str, backend: str = "rasa") -> Optional[str]:
        return next((row["status"] for row in self.stats() if row["pxname"] == backend and row["svname"] == name), None)

    def socket_holder(self) -> Optional[str]:
        """The replica holding the open socket.io connections (current sessions on the sticky backend)."""
        busy = [row["svname"] for row in self.stats()
                if row["pxname"] == "rasa_sticky" and row["svname"].startswith("rasa") and int(row["scur"] or 0) > 0]
        return busy[0] if len(busy) == 1 else None


def tracker_env(url: str) -> dict[str, str]:
    """deploy/endpoints.yml's tracker-store variables for a PostgreSQL URL."""
    parsed = make_url(url)
    return {"PREPAGO_TRACKER_DB_HOST": parsed.host or "127.0.0.1", "PREPAGO_TRACKER_DB_PORT": str(parsed.port or 5432),
            "PREPAGO_TRACKER_DB_NAME": parsed.database or "prepago",
            "PREPAGO_TRACKER_DB_USER": parsed.username or "postgres", "PREPAGO_TRACKER_DB_PASSWORD": parsed.password or ""}


@contextmanager
def _admin(url: str):
    """A connection to the server's `postgres` database, outside any transaction (CREATE/DROP DATABASE)."""
    engine = sa.create_engine(sa.engine.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it does not exist (the account store's)."""
    name = tracker_env(url)["PREPAGO_TRACKER_DB_NAME"]
    with _admin(url) as connection:
        if not connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))


def drop_database(url: str) -> None:
    """Remove the PostgreSQL database of `url` (tests and benchmarks start from nothing)."""
    with _admin(url) as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{tracker_env(url)["PREPAGO_TRACKER_DB_NAME"]}" WITH (FORCE)'))


def check_services(database_url: str, redis_url: str) -> Optional[str]:
    """None if PostgreSQL and Redis answer; otherwise what to do, in Spanish."""
    problems = []
    try:
        with _admin(database_url):
            pass
    except Exception as exc:  # noqa: BLE001 - reported to the operator
        where = tracker_env(database_url)
        problems.append(f"PostgreSQL no responde en {where['PREPAGO_TRACKER_DB_HOST']}:{where['PREPAGO_TRACKER_DB_PORT']} "
                        f"({type(exc).__name__}). Arráncalo (p. ej. `docker run -d -p 5432:5432 -e "
                        "POSTGRES_HOST_AUTH_METHOD=trust postgres:15`) o indica otro con --database-url.")
    try:
        redis.Redis.from_url(redis_url, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"Redis no responde en {redis_url} ({type(exc).__name__}). "
                        "Arráncalo (p. ej. `redis-server --daemonize yes`) o indica otro con --redis-url.")
    if not shutil.which("haproxy"):
        problems.append("Falta HAProxy: `sudo apt-get install haproxy` (o `brew install haproxy`).")
    return "\n".join(problems) or None


@contextmanager
def running_cluster(
    model: Path,
    ports: ClusterPorts,
    work: Path,
    database_url: str = DEFAULT_DATABASE_URL,
    redis_url: str = DEFAULT_REDIS_URL,
    key_prefix: str = "prepago",
    env: Optional[dict[str, str]] = None,
    credentials: Path = PROJECT_ROOT / "credentials.yml",
    endpoints: Path = ENDPOINTS,
    timeout: float = 240.0,
    progress=None,
) -> Iterator[Cluster]:
    """Start everything, wait until the load balancer answers, stop it all after the block."""
    work.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(ports=Ports(rasa=ports.lb, actions=ports.actions_lb, web=ports.web, console=ports.console),
                      log_dir=work / "logs")
    cluster.cluster_ports = ports
    cluster.log_dir.mkdir(parents=True, exist_ok=True)
    _private(work)
    ensure_database(database_url)
    store = engine_for(database_url)
    seed_demo(store, today_in(BUSINESS_TIMEZONE))  # the demo accounts, history ending yesterday
    ensure_demo_staff(store)
    store.dispose()
    haproxy_cfg = work / "haproxy.cfg"
    cluster.haproxy_socket = work / "haproxy.sock"
    haproxy_cfg.write_text(render_haproxy(
        [f"server rasa{i + 1} 127.0.0.1:{p} {CHECK}" for i, p in enumerate(ports.replicas)],
        [f"server actions{i + 1} 127.0.0.1:{p} {CHECK}" for i, p in enumerate(ports.actions)],
        bind="127.0.0.1", rasa_port=ports.lb, actions_port=ports.actions_lb,
        # The admin socket, for this user only: `echo "show stat" | socat - var/cluster/haproxy.sock`.
        global_extra=f"    stats socket {cluster.haproxy_socket} mode 600 level admin"))
    environment = child_env({
        "PREPAGO_DATABASE_URL": database_url,  # accounts and conversations in one database
        **tracker_env(database_url),
        "PREPAGO_ACTIONS_URL": f"http://127.0.0.1:{ports.actions_lb}/webhook",
        "PREPAGO_REDIS_URL": redis_url, "PREPAGO_LOCK_PREFIX": key_prefix,
        "PREPAGO_TRUSTED_PROXIES": "127.0.0.1",  # our HAProxy: its X-Forwarded-For names the customer
        "PREPAGO_SOCKETIO_REDIS_URL": redis_url,
        # The socket.io channel's Redis pub/sub channel: clusters sharing a Redis stay apart.
        "PREPAGO_SOCKETIO_REDIS_CHANNEL": f"{key_prefix}-socketio",
        # Every replica polls the console's model server (console/models.py) for the live model.
        "PREPAGO_MODEL_SERVER_URL": f"http://127.0.0.1:{ports.console or CONSOLE_PORT}/models/live",
        "PREPAGO_MODEL_PULL_SECONDS": "10",
        **(env or {}),
    })
    cluster.commands = {}
    for i, port in enumerate(ports.actions):
        cluster.commands[f"actions{i + 1}"] = (actions_command(port), environment, f"http://127.0.0.1:{port}/health")
    for i, port in enumerate(ports.replicas):
        cluster.commands[f"rasa{i + 1}"] = (rasa_command(model, port, endpoints, credentials), environment,
                                            f"http://127.0.0.1:{port}/webhooks/prepago_socketio/")
    cluster.commands["haproxy"] = (["haproxy", "-W", "-db", "-f", str(haproxy_cfg)], environment,
                                   f"http://127.0.0.1:{ports.lb}/webhooks/prepago/")
    if ports.web:
        cluster.commands["web"] = (webdemo_command(ports.web, cluster.rasa_url), environment,
                                   f"http://127.0.0.1:{ports.web}/config.js")
    # One alert worker here; more can run anywhere, their claims never overlap (alerts/outbox.py).
    cluster.commands["alerts"] = (alerts_command(), environment, None)
    if ports.console:  # one console: it keeps no state of its own, any replica relays its messages
        cluster.commands["console"] = (console_command(ports.console, cluster.rasa_url), environment,
                                       f"http://127.0.0.1:{ports.console}/health")
    try:
        for name, (command, env_, _) in cluster.commands.items():
            launch(cluster, name, command, env_)
        wait_ready(cluster, {name: health for name, (_, _, health) in cluster.commands.items() if health},
                   timeout, progress)
        _wait_all_up(cluster, timeout=20)
        yield cluster
    finally:
        stop_all(cluster)


def _wait_all_up(cluster: Cluster, timeout: float) -> None:
    """HAProxy marks a server up only after `rise` checks: wait until it routes to every replica."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(seen) < len(cluster.cluster_ports.replicas):
        try:
            with urllib.request.urlopen(f"{cluster.rasa_url}/webhooks/prepago/", timeout=2) as reply:
                seen.add(reply.headers.get("X-Prepago-Replica", ""))
        except OSError:
            pass
        time.sleep(0.1)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="bot cluster", description="Réplicas de Rasa detrás de HAProxy.")
    parser.add_argument("--replicas", type=int, default=2, help="Rasa processes, one Sanic worker each (1-16)")
    parser.add_argument("--action-servers", type=int, default=1, help="action servers (1-16)")
    parser.add_argument("--database-url", default=settings().cluster_database_url or DEFAULT_DATABASE_URL,
                        help="PostgreSQL for accounts and conversations; created and seeded with the demo accounts "
                             f"(default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--redis-url", default=settings().cluster_redis_url or DEFAULT_REDIS_URL,
                        help=f"Redis for conversation locks and socket.io (default {DEFAULT_REDIS_URL})")
    parser.add_argument("--port-offset", type=int, default=0,
                        help="move every port by this much (the balancer listens on 5005 + offset): "
                             "a second cluster on the same machine")
    parser.add_argument("--work-dir", type=Path, default=PROJECT_ROOT / "var" / "cluster",
                        help="where the HAProxy configuration and the logs go (default var/cluster)")
    parser.add_argument("--render-compose", action="store_true",
                        help="write deploy/haproxy/haproxy.cfg from the template and exit")
    args = parser.parse_args(argv)
    if args.render_compose:
        COMPOSE_HAPROXY.write_text(
            "# Generated from haproxy.cfg.in by `bot cluster --render-compose`: edit the template, not this file.\n"
            + compose_haproxy())
        print(f"Escrito {COMPOSE_HAPROXY.relative_to(PROJECT_ROOT)}")
        return 0
    if not 1 <= args.replicas <= 16 or not 1 <= args.action_servers <= 16:
        print("--replicas y --action-servers van de 1 a 16.", file=sys.stderr)
        return 2
    if not 0 <= args.port_offset <= 60000 - FIRST_ACTIONS_PORT:
        print(f"--port-offset va de 0 a {60000 - FIRST_ACTIONS_PORT}.", file=sys.stderr)
        return 2
    problem = check_services(args.database_url, args.redis_url)
    if problem:
        print(f"No se pudo iniciar el clúster:\n{problem}", file=sys.stderr)
        return 1
    started = time.monotonic()
    print(f"==> Iniciando {args.replicas} réplicas de Rasa, {args.action_servers} servidor(es) de acciones y HAProxy…",
          flush=True)
    ports = ClusterPorts.default(args.replicas, args.action_servers, args.port_offset)
    return run_until_stopped(
        running_cluster(PROJECT_ROOT / "models" / "prepago.tar.gz", ports, args.work_dir,
                        args.database_url, redis_url=args.redis_url, progress=lambda line: print(line, flush=True)),
        lambda cluster: (
            f"\n✔ Clúster listo en {time.monotonic() - started:.1f} s.\n"
            f"  Chatea en el navegador:  {cluster.web_url}\n"
            + console_banner(cluster) +
            f"  Balanceador (HAProxy):   {cluster.rasa_url} → réplicas en {', '.join(map(str, ports.replicas))}\n"
            f"  Chatea en la terminal:   .venv/bin/bot chat --account 100100\n"
            f"  Cuentas y conversaciones: {args.database_url.rsplit('@', 1)[-1]} · bloqueos, límites y socket.io: Redis\n"
            f"  Token demo (100100):     {issue_token(settings(), '100100')}\n"
            f"  Registros:               {cluster.log_dir}\n"
            "  Ctrl+C para detener.\n"),
    )
