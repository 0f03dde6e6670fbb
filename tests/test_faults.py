"""Faults on the production topology, with the real parts: a replica killed under `bot cluster`,
PostgreSQL restarting, Redis going away, the action server killed mid-turn, the alert worker losing
its database mid-batch.

Everything runs on a PostgreSQL cluster and a Redis server these tests start themselves
(tests/throwaway.py), so they can be stopped and started; the machine's shared services are
never touched. One fault stack (`faulty`) is shared by the module's tests.
"""
from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from bot.config import settings
from bot.identity import issue_token
from actions.common import TECHNICAL_PROBLEM
from channels.guard import NO_ANSWER
from tests import throwaway
from tests.conftest import ALERT_SETTINGS, CHANNEL_SECRETS, PROJECT_ROOT
from tests.test_cluster import QUESTIONS, burst, new_session, post, tracker, turns

pytestmark = pytest.mark.faults

TOKEN = issue_token(settings(), "100100")
EXPECTED = dict(QUESTIONS)
# What a customer reads when a part is down: the turn's apology (channels/turns.py) or the
# account lookup's (actions/common.py). Both say, in Spanish, to try again.
TRY_AGAIN = ([NO_ANSWER], [TECHNICAL_PROBLEM])


@pytest.fixture(scope="module")
def services():
    """A PostgreSQL and a Redis of this module's own."""
    if throwaway.missing_tools():
        pytest.skip(throwaway.missing_tools())
    pg, redis = throwaway.Postgres(), throwaway.Redis()
    try:
        pg.start()
        redis.start()
        yield pg, redis
    finally:
        redis.stop()
        pg.destroy()


def wait_until(condition, timeout: float = 60.0, step: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def answered(reply) -> list[str]:
    assert reply.status_code == 200, (reply.status_code, reply.text[:300])
    return [m.get("text", "") for m in reply.json()["messages"]]


# --- the supervisor, on its own ------------------------------------------------------------------

def test_the_supervisor_restarts_only_the_dead_process_with_growing_delays(tmp_path):
    """A process that keeps dying is started again after 1, 2, 4 s (the clock is injected); one
    that stayed up a minute starts the count again; the one that is fine is never touched."""
    from tools.serve import Ports, Stack, Supervisor, launch

    stack = Stack(Ports(), tmp_path)
    dies = [sys.executable, "-c", "import sys; print('adiós'); sys.exit(3)"]
    lives = [sys.executable, "-c", "import time; time.sleep(60)"]
    stack.commands = {"flaky": (dies, dict(os.environ), None), "steady": (lives, dict(os.environ), None)}
    for name, (command, env, _) in stack.commands.items():
        launch(stack, name, command, env)
    steady = stack.processes["steady"]
    now = [0.0]
    said: list[str] = []
    supervisor = Supervisor(stack, say=said.append, clock=lambda: now[0])
    try:
        delays = []
        for _ in range(3):
            stack.processes["flaky"].wait(timeout=30)
            supervisor.step()  # seen dead: scheduled
            scheduled = supervisor.restart_at["flaky"]
            delays.append(scheduled - now[0])
            now[0] = scheduled
            supervisor.step()  # started again
        assert delays == [1, 2, 4]
        assert supervisor.restarts == {"flaky": 3}
        assert said[0] == ("El proceso flaky terminó inesperadamente (código 3); los demás siguen atendiendo y "
                           f"lo reinicio en 1 s (registro: {tmp_path / 'flaky.log'}).")
        stack.processes["flaky"].wait(timeout=30)
        now[0] += 61  # as if it had stayed up a minute
        supervisor.step()
        assert supervisor.restart_at["flaky"] - now[0] == 1
        assert stack.processes["steady"] is steady and steady.poll() is None
        assert (tmp_path / "flaky.log").read_text().count("adiós") == 4  # appended: every death's output kept
    finally:
        steady.kill()
        steady.wait()


# --- `bot cluster` as a user runs it -----------------------------------------------------------

def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _free_offset() -> int:
    from tools.cluster import ClusterPorts

    for offset in range(20000, 40000, 397):
        ports = ClusterPorts.default(2, 1, offset)
        if all(map(_port_free, [ports.lb, ports.actions_lb, ports.web, ports.console, *ports.replicas, *ports.actions])):
            return offset
    raise AssertionError("no free ports for a second cluster")


def _pids_listening(command_part: str, port: int) -> list[int]:
    """Processes whose command line runs `command_part` with `--port PORT`, as `ps` shows them."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if command_part in args and "--port" in args and args[args.index("--port") + 1] == str(port):
            found.append(int(cmdline.parent.name))
    return found


def test_bot_cluster_keeps_serving_and_restarts_a_killed_replica(trained_model, services, tmp_path):
    """`bot cluster --replicas 2`, 8 signed-in conversations through HAProxy, `kill -9` of one
    replica: every one of the 320 messages is answered (HAProxy retries on the survivor), the
    command says so in Spanish, starts the replica again and keeps HAProxy running."""
    pg, redis = services
    offset = _free_offset()
    from tools.cluster import ClusterPorts

    ports = ClusterPorts.default(2, 1, offset)
    env = {**os.environ, **CHANNEL_SECRETS, "PREPAGO_MESSAGES_PER_MINUTE": "600"}
    command = [sys.executable, "-m", "tools.cli", "cluster", "--replicas", "2", "--port-offset", str(offset),
               "--work-dir", str(tmp_path / "cluster"), "--database-url", pg.url("prepago_cli"),
               "--redis-url", redis.url]
    cli = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)
    out: list[str] = []
    err: list[str] = []
    readers = [threading.Thread(target=lambda s, into: into.extend(iter(s.readline, "")), args=(stream, into), daemon=True)
               for stream, into in ((cli.stdout, out), (cli.stderr, err))]
    for reader in readers:
        reader.start()
    url = f"http://127.0.0.1:{ports.lb}"
    try:
        wait_until(lambda: any("Clúster listo" in line for line in out) or cli.poll() is not None, timeout=300,
                   what="the cluster to start")
        assert cli.poll() is None, "".join(out + err)[-3000:]
        [victim] = _pids_listening("tools.rasa_server", ports.replicas[0])

        per_conversation = 40
        halfway = threading.Barrier(9, timeout=180)
        served: set[str] = set()

        def converse(n: int) -> list[tuple[str, list[str]]]:
            session, got = new_session(), []
            for i in range(per_conversation):
                if i == per_conversation // 4:
                    halfway.wait()
                question, _ = QUESTIONS[(n + i) % len(QUESTIONS)]
                reply = post(url, question, session, f"c{n}-{i}-{session[:8]}", timeout=60)
                served.add(reply.headers.get("X-Prepago-Replica", ""))
                got.append((question, answered(reply)))
            return got

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(converse, n) for n in range(8)]
            halfway.wait()
            time.sleep(0.1)
            os.kill(victim, signal.SIGKILL)  # as a user would: kill -9 <pid>
            results = [f.result() for f in futures]

        assert sum(len(r) for r in results) == 320
        for got in results:
            for question, texts in got:
                assert texts and texts[0].startswith(EXPECTED[question]), (question, texts)
        assert {"rasa1", "rasa2"} <= served
        wait_until(lambda: any("El proceso rasa1 terminó inesperadamente" in line for line in err), timeout=10,
                   what="the Spanish line about rasa1")
        assert "Traceback" not in "".join(err)
        # Started again, and back in HAProxy's rotation.
        wait_until(lambda: [p for p in _pids_listening("tools.rasa_server", ports.replicas[0]) if p != victim],
                   timeout=30, what="a new rasa1")
        session = new_session()
        wait_until(lambda: post(url, "hola", session).headers.get("X-Prepago-Replica") == "rasa1", timeout=180,
                   step=0.5, what="rasa1 back behind HAProxy")
        assert cli.poll() is None
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGTERM)  # Ctrl+C's sibling: everything stops
        code = cli.wait(timeout=60)
    assert code == 0, "".join(err)[-3000:]
    assert not _pids_listening("tools.rasa_server", ports.replicas[0])
    assert not _pids_listening("tools.rasa_server", ports.replicas[1])


# --- the shared fault stack --------------------------------------------------------------------

@pytest.fixture(scope="module")
def faulty(trained_model, services, providers, tmp_path_factory):
    """Two replicas, one action server, HAProxy and the alert worker on the module's own
    PostgreSQL and Redis, under the run commands' supervisor."""
    from tools.cluster import ClusterPorts, running_cluster
    from tools.serve import supervised

    pg, redis = services
    free = throwaway.free_port
    ports = ClusterPorts(lb=free(), actions_lb=free(), web=None, console=None, replicas=[free(), free()],
                         actions=[free()])
    env = {**CHANNEL_SECRETS, "PREPAGO_TWILIO_API_BASE": providers.base, "PREPAGO_TELEGRAM_API_BASE": providers.base,
           "PREPAGO_GRAPH_API_BASE": providers.base, **ALERT_SETTINGS,
           # A window between claiming alerts and sending them, and a short lease (test_the_alert_worker…).
           "PREPAGO_ALERTS_HOLD_AFTER_CLAIM": "2", "PREPAGO_ALERTS_LEASE_SECONDS": "4"}
    database_url = pg.url("prepago_faults")
    with running_cluster(trained_model, ports, tmp_path_factory.mktemp("faults"), database_url, redis_url=redis.url,
                         key_prefix="faults", env=env) as cluster, supervised(cluster):
        cluster.database_url = database_url
        yield cluster


def restarts(cluster) -> dict[str, int]:
    return dict(cluster.supervisor.restarts)


def test_postgresql_restarting_mid_conversations_gets_a_polite_answer_and_recovers(faulty, services):
    """PostgreSQL restarts while 16 conversations talk: during the outage customers are asked,
    in Spanish, to try again; afterwards every message is answered, none is stored twice, and
    no process had to be restarted."""
    pg, _ = services
    before = restarts(faulty)
    plan = [QUESTIONS[i % len(QUESTIONS)] for i in range(8)]
    outage = threading.Barrier(17, timeout=180)

    def converse(n: int):
        session, apologies, answered_ids = new_session(), 0, []
        for i, (question, expected) in enumerate(plan):
            if i == 2:
                outage.wait()
            deadline = time.monotonic() + 120
            for attempt in itertools.count():
                message_id = f"pg{n}-{i}-{attempt}-{session[:8]}"  # typed again: a new message
                texts = answered(post(faulty.rasa_url, question, session, message_id, timeout=60))
                if texts[0].startswith(expected):
                    break
                assert texts in TRY_AGAIN, (question, texts)
                apologies += 1
                assert time.monotonic() < deadline, f"conversation {n} never recovered"
                time.sleep(0.5)
            answered_ids.append(message_id)
        return sender_of(session), apologies, answered_ids

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(converse, n) for n in range(16)]
        outage.wait()
        pg.stop("fast")  # every connection cut, as a restart or failover does
        time.sleep(3)
        pg.start()
        results = [f.result() for f in futures]

    assert sum(apologies for _, apologies, _ in results) > 0, "the outage was never seen"
    for sender, _, answered_ids in results:
        stored = turns(tracker(faulty, sender))
        ids = [message_id for _, _, message_id in stored]
        assert len(ids) == len(set(ids)), "a message was stored twice"
        kept = [message_id for _, bots, message_id in stored if bots]
        # What was stored with an answer is what the customer was answered, in order (a turn
        # whose save the restart cut short is the only one that may be missing).
        assert kept == [i for i in answered_ids if i in kept]
        assert kept[-3:] == answered_ids[-3:]
        for text, bots, _ in stored:
            assert not bots or bots[0].startswith(EXPECTED[text]), (text, bots)
    assert restarts(faulty) == before, "the stack needed a restart to recover"


def sender_of(session: str) -> str:
    from channels.guard import bind

    return bind(TOKEN, session).sender_id


def test_redis_going_away_degrades_to_each_replica_and_returns_to_one_lock(faulty, services):
    """Without Redis each replica counts its own rate limits and orders its own conversations'
    turns, so customers are still answered (README); once Redis is back, the budget is one
    across replicas again and no conversation runs two turns at once."""
    from tests.test_cluster import test_two_replicas_at_the_same_instant_take_turns as two_at_the_same_instant

    _, redis = services
    rasa1, rasa2 = (faulty.replica_url(name) for name in faulty.replica_names())
    redis.stop()
    try:
        session = new_session()
        replies = burst([rasa1], "hola", session, 34)
        statuses = [r.status_code for r in replies]
        # rasa1's own bucket: 30 a minute (the burst), then a polite 429.
        assert 30 <= statuses.count(200) <= 32 and set(statuses) == {200, 429}, statuses  # a second or two of refill
        for reply in replies:
            if reply.status_code == 200:
                assert answered(reply)[0].startswith(EXPECTED["hola"])  # the turn ran: a local lock, not an apology
            else:
                assert "espera unos segundos" in reply.text
        # rasa2 counts apart: the same conversation is still served there.
        assert answered(post(rasa2, "¿cuánto saldo tengo?", session))[0].startswith(EXPECTED["¿cuánto saldo tengo?"])
    finally:
        redis.start()  # back, and empty: every ticket and bucket is gone
    time.sleep(1.5)  # the replicas ask Redis again at most a second after it went silent
    two_at_the_same_instant(faulty)
    session = new_session()
    statuses = [r.status_code for r in burst([rasa1, rasa2], "hola", session, 36)]
    assert 30 <= statuses.count(200) <= 32 and set(statuses) == {200, 429}, statuses  # one budget again


def test_the_action_server_killed_mid_turn_gets_a_polite_answer_then_works_again(faulty):
    """kill -9 of the only action server while balance lookups are in flight: each customer gets
    their balance or a polite Spanish apology, never an error; the supervisor starts it again and
    the next message gets the balance."""
    question, expected = "¿cuánto saldo tengo?", EXPECTED["¿cuánto saldo tengo?"]
    before = restarts(faulty).get("actions1", 0)
    sessions = [new_session() for _ in range(6)]
    stop = threading.Event()

    balances = threading.Semaphore(0)  # one release per balance answered before the kill

    def keep_asking(session: str) -> list[list[str]]:
        got = []
        while not stop.is_set():
            got.append(answered(post(faulty.rasa_url, question, session, f"a-{uuid.uuid4().hex[:12]}")))
            if got[-1][0].startswith(expected):
                balances.release()
        return got

    with ThreadPoolExecutor(len(sessions)) as pool:
        futures = [pool.submit(keep_asking, s) for s in sessions]
        assert balances.acquire(timeout=60), "no balance was answered before the kill"  # turns are in flight now
        faulty.kill("actions1")
        time.sleep(0.5)  # a second passes before the supervisor starts it again
        stop.set()
        results = [f.result() for f in futures]
    replies = [texts for got in results for texts in got]
    assert all(texts[0].startswith(expected) or texts in TRY_AGAIN for texts in replies), replies
    assert any(texts in TRY_AGAIN for texts in replies) and any(texts[0].startswith(expected) for texts in replies)
    assert any(line.startswith("El proceso actions1 terminó inesperadamente") for line in faulty.supervisor.said)
    wait_until(lambda: restarts(faulty).get("actions1", 0) > before, timeout=30, what="actions1 started again")
    faulty.restart("actions1")  # waits until HAProxy sends it traffic (already started: nothing to start)
    for session in sessions:
        assert answered(post(faulty.rasa_url, question, session))[0].startswith(expected)


def test_the_alert_worker_losing_its_database_mid_batch_sends_each_alert_once(faulty, services, providers):
    """PostgreSQL goes away after the worker claimed a batch and comes back after the claims'
    lease ran out: every alert is sent, and each exactly once."""
    from decimal import Decimal

    import sqlalchemy as sa

    from alerts.models import AlertOutbox, AlertStatus
    from bot.db import engine_for
    from tests.test_alerts import TELEGRAM_SEND, balance, move, subscribe_telegram

    pg, _ = services
    store = engine_for(faulty.database_url)
    chats = {7_300_000 + i for i in range(30)}
    threshold = balance(store, "200200") - Decimal(1)
    for chat in chats:
        subscribe_telegram(store, "200200", chat, threshold)

    def outbox_states() -> list[str]:
        with store.connect() as connection:
            return [row.status for row in connection.execute(
                sa.select(AlertOutbox.status).where(AlertOutbox.channel_user.in_([str(c) for c in chats])))]

    def sent_to() -> list[int]:
        return [int(r["body"]["chat_id"]) for r in providers.since(mark)
                if r["path"] == TELEGRAM_SEND and int(r["body"]["chat_id"]) in chats]

    mark = providers.mark()
    move(store, "200200", "-5.00")  # one crossing, 30 subscriptions: 30 alerts
    wait_until(lambda: outbox_states().count(AlertStatus.SENDING) == len(chats), timeout=60, step=0.05,
               what="the batch to be claimed")
    pg.stop("fast")  # within the worker's 2 s between claiming and sending
    try:
        wait_until(lambda: len(sent_to()) >= len(chats), timeout=30, what="the batch to go out")
        time.sleep(5)  # past the 4 s lease: the claims have run out while the database was away
    finally:
        pg.start()
    wait_until(lambda: set(outbox_states()) == {AlertStatus.SENT}, timeout=60, what="every alert marked sent")
    time.sleep(2)  # a second claim would have sent again by now (idle rounds of 0.3 s)
    assert sorted(sent_to()) == sorted(chats)  # each alert, exactly once
