"""The compose stack, built and running in Docker: `make test-deploy` (scripts/test-deploy.sh).

The image (deploy/Dockerfile) and the stack (deploy/docker-compose.yml) as an operator runs
them: 2 Rasa replicas, the action server, HAProxy, PostgreSQL, Redis, the staff console and
the alert worker. Customers reach it only through HAProxy's published port; the agent uses
the console's published port. Nothing here starts a Python server of its own.

Not in `make test` (marker `deploy`, excluded in pyproject.toml): it needs a Docker daemon
and the images that scripts/test-deploy.sh builds before it calls pytest.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests

from tests.conftest import PROJECT_ROOT
from tests.test_cluster import QUESTIONS, turns

pytestmark = pytest.mark.deploy

COMPOSE_FILE = PROJECT_ROOT / "deploy" / "docker-compose.yml"
AGENT = ("carmen", "Carmen Díaz", "contraseña-del-despliegue")
# The local bases of scripts/build-base-images.sh; override for a host with a registry.
IMAGES = {
    "PREPAGO_IMAGE": os.environ.get("PREPAGO_IMAGE", "prepago-asistente:test"),
    "PREPAGO_POSTGRES_IMAGE": os.environ.get("PREPAGO_POSTGRES_IMAGE", "prepago/postgres:15-bookworm"),
    "PREPAGO_REDIS_IMAGE": os.environ.get("PREPAGO_REDIS_IMAGE", "prepago/redis:bookworm"),
    "PREPAGO_HAPROXY_IMAGE": os.environ.get("PREPAGO_HAPROXY_IMAGE", "prepago/haproxy:bookworm"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compose_command() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("neither `docker compose` nor docker-compose is installed (scripts/test-deploy.sh installs it)")


@dataclass
class Stack:
    project: str
    env: dict[str, str]
    http_port: int
    console_port: int
    compose: list[str] = field(default_factory=compose_command)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def run(self, *args: str, input: str | None = None, timeout: float = 600) -> str:
        result = subprocess.run([*self.compose, "-p", self.project, "-f", str(COMPOSE_FILE), *args],
                                env=self.env, input=input, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"compose {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def containers(self, service: str) -> list[str]:
        return sorted(self.run("ps", "-q", service).split())

    def health(self, container: str) -> str:
        return docker("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}",
                      container).strip()

    def wait_healthy(self, containers: list[str], timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {c: self.health(c) for c in containers}
            if all(s == "healthy" for s in states.values()):
                return
            time.sleep(1)
        raise AssertionError(f"not healthy after {timeout:.0f} s: {states}\n{self.logs()}")

    def wait_served(self, timeout: float = 120) -> None:
        """Until HAProxy routes to every replica (its health checks, not only Docker's)."""
        wanted, seen = len(self.containers("rasa")), set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(seen) < wanted:
            try:
                reply = requests.get(f"{self.url}/webhooks/prepago/", timeout=5, headers={"Connection": "close"})
                if reply.status_code == 200:
                    seen.add(reply.headers.get("X-Prepago-Replica"))
            except requests.RequestException:
                pass
            time.sleep(0.2)
        assert len(seen) >= wanted, f"HAProxy routes to {seen} of {wanted} replicas\n{self.logs()}"

    def logs(self) -> str:
        return self.run("logs", "--tail", "40")[-8000:]

    def token(self, account: str) -> str:
        """A signed customer token, made by the stack's own `bot token` (its secret, its clock:
        the containers run on the wall clock, this test session on tests/clock.py's)."""
        if account not in self.tokens:
            self.tokens[account] = self.run("exec", "-T", "console", "bot", "token", account, "--hours", "2").strip()
        return self.tokens[account]

    def tracker(self, sender: str) -> list[dict]:
        reply = requests.get(f"{self.url}/conversations/{sender}/tracker",
                             params={"token": self.env["RASA_API_TOKEN"]}, timeout=30)
        reply.raise_for_status()
        return reply.json()["events"]


def docker(*args: str, timeout: float = 120) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def stack():
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.fail("no Docker daemon: run `make test-deploy`, which starts one")
    secret = {name: secrets.token_urlsafe(32) for name in (
        "PREPAGO_JWT_SECRET", "RASA_API_TOKEN", "PREPAGO_PIN_PEPPER", "PREPAGO_ACTION_TOKEN",
        "POSTGRES_PASSWORD", "PREPAGO_HAPROXY_COOKIE_KEY")}
    http_port, console_port = free_port(), free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREPAGO_")}, **IMAGES, **secret,
           "PREPAGO_HTTP_PORT": str(http_port), "PREPAGO_CONSOLE_PORT": str(console_port),
           "PREPAGO_CONSOLE_HOSTS": f"127.0.0.1:{console_port}",
           # Support answers at any hour here, so the handoff below reaches a person whenever CI runs.
           "PREPAGO_SUPPORT_HOURS": "lun-dom 00:00-23:59"}
    stack = Stack(f"prepagodeploy{uuid.uuid4().hex[:6]}", env, http_port, console_port)
    try:
        stack.run("up", "-d", "--no-build", "--scale", "rasa=2")
        stack.wait_healthy(stack.containers("rasa") + stack.containers("actions") + stack.containers("console"))
        # The operator's first steps: demo accounts and an agent, in the image's own CLI.
        stack.run("run", "--rm", "--no-deps", "migrate", "bot", "seed")
        stack.run("run", "--rm", "--no-deps", "-T", "migrate", "bot", "staff", "add", AGENT[0], "--name", AGENT[1],
                  "--password-stdin", input=AGENT[2] + "\n")
        stack.wait_served()
        yield stack
    finally:
        if os.environ.get("PREPAGO_DEPLOY_KEEP") != "1":
            subprocess.run([*stack.compose, "-p", stack.project, "-f", str(COMPOSE_FILE), "down", "-v",
                            "--remove-orphans"], env=env, capture_output=True, timeout=300)


# --- customers ---------------------------------------------------------------------------

def post(stack: Stack, text: str, session: str, token: str | None = None, message_id: str | None = None,
         timeout: float = 60) -> requests.Response:
    body = {"session": session, "message": text, **({"message_id": message_id} if message_id else {})}
    headers = {"Connection": "close", **({"Authorization": f"Bearer {token}"} if token else {})}
    return requests.post(f"{stack.url}/webhooks/prepago/webhook", json=body, headers=headers, timeout=timeout)


def say(stack: Stack, text: str, session: str, token: str | None = None) -> str:
    reply = post(stack, text, session, token)
    assert reply.status_code == 200, reply.text
    return "\n".join(m.get("text", "") for m in reply.json()["messages"])


class Widget:
    """A customer in the web widget: socket.io over a websocket, through HAProxy."""

    def __init__(self, stack: Stack, account: str, session: str | None = None):
        self.stack, self.account, self.session = stack, account, session or uuid.uuid4().hex

    async def __aenter__(self):
        import socketio

        self.received: asyncio.Queue = asyncio.Queue()
        self.client = socketio.AsyncClient()
        self.client.on("bot_uttered", lambda data: self.received.put_nowait(data))
        await self.client.connect(self.stack.url, socketio_path="/socket.io", transports=["websocket"],
                                  auth={"token": self.stack.token(self.account), "session": self.session})
        return self

    async def __aexit__(self, *exc):
        await self.client.disconnect()

    async def say(self, text: str) -> None:
        await self.client.emit("user_uttered", {"message": text, "id": uuid.uuid4().hex[:16]})

    async def until(self, words: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = await asyncio.wait_for(self.received.get(), max(0.1, deadline - time.monotonic()))
            if words in message.get("text", ""):
                return message


def in_thread(coroutine):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Console:
    """An agent signed in to the staff console."""

    def __init__(self, stack: Stack):
        self.base, self.http = stack.console_url, requests.Session()
        page = self.http.get(f"{self.base}/login", timeout=10)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        reply = self.http.post(f"{self.base}/login", allow_redirects=False, timeout=30,
                               data={"csrf": csrf, "username": AGENT[0], "password": AGENT[2]})
        assert reply.status_code == 303, reply.text
        index = self.http.get(f"{self.base}/", timeout=10)
        self.http.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', index.text).group(1)

    def case(self, case_id: int) -> dict:
        reply = self.http.get(f"{self.base}/api/cases/{case_id}", timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def act(self, case_id: int, action: str, **body) -> dict:
        reply = self.http.post(f"{self.base}/api/cases/{case_id}/{action}", json=body, timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()


# What the last test finds again after `stop` + `start`: filled in by the tests before it.
KEPT: dict = {}


def test_a_signed_in_customer_chats_and_an_agent_answers_a_handoff(stack):
    token, session = stack.token("100100"), f"deploy-{uuid.uuid4().hex[:12]}"
    balance = say(stack, "¿cuánto saldo tengo?", session, token)
    assert "El saldo de tu Cuenta de Prepago es de" in balance and "MXN" in balance
    movements = say(stack, "movimientos de la extensión 102", session, token)
    assert "ext. 102 (Ventas)" in movements
    faq = say(stack, "¿cómo agrego fondos?", session, token)
    assert "Para depositar fondos a tu Cuenta de Prepago" in faq
    anonymous = say(stack, "¿cuánto saldo tengo?", f"deploy-anon-{uuid.uuid4().hex[:8]}")
    assert "El saldo de" not in anonymous  # no token, no account data

    async def handoff() -> dict:
        async with Widget(stack, "200200") as widget:
            await widget.say("quiero hablar con una persona")
            opened = await widget.until("caso #")
            case_id = int(re.search(r"caso #(\d+)", opened["text"]).group(1))
            console = await asyncio.to_thread(Console, stack)
            case = await asyncio.to_thread(console.case, case_id)
            assert case["account"] == "200200" and case["status"] == "waiting"
            await asyncio.to_thread(console.act, case_id, "take")
            # The console relays through HAProxy to whichever replica; Redis carries it to the socket.
            await asyncio.to_thread(console.act, case_id, "reply", text="Hola, soy Carmen. ¿En qué te ayudo?")
            shown = await widget.until("soy Carmen")
            assert shown == {"text": "Hola, soy Carmen. ¿En qué te ayudo?", "agent": AGENT[1]}
            # An alert subscription on this chat: the last test finds it again after a restart.
            await asyncio.to_thread(console.act, case_id, "close")
            await widget.until("cerró la conversación con Soporte")
            await widget.say("avísame cuando mi saldo baje de $150")
            await widget.until("Listo: te aviso por este chat")
            return case

    case = in_thread(handoff())
    KEPT["case"] = case["id"]


def converse(stack: Stack, n: int, plan: list[tuple[str, str]], token: str, pause=None,
             client_retries: int = 5) -> tuple[str, list[list[str]], int]:
    """One conversation through HAProxy; each message carries an id, as the widget's do."""
    session, sender, replies, retried = uuid.uuid4().hex, None, [], 0
    for i, (question, _) in enumerate(plan):
        if pause:
            pause(i)
        message_id = f"d{n:02d}-{i:02d}-{session[:12]}"
        for attempt in itertools.count():
            try:
                reply = post(stack, question, session, token, message_id, timeout=60)
                if reply.status_code == 200:
                    break
            except requests.RequestException:
                pass
            retried += 1
            assert attempt < client_retries, f"message {i} of conversation {n} was never answered"
            time.sleep(1)
        messages = reply.json()["messages"]
        sender = messages[0]["recipient_id"]
        replies.append([m.get("text", "") for m in messages])
    return sender, replies, retried


def assert_exactly_once(stack: Stack, plan, results) -> None:
    for sender, replies, _ in results:
        for (question, expected), answer in zip(plan, replies):
            assert answer and answer[0].startswith(expected), (question, answer)
        stored = turns(stack.tracker(sender))
        assert [text for text, _, _ in stored] == [q for q, _ in plan], "a turn was lost or stored twice"
        ids = [message_id for _, _, message_id in stored]
        assert len(ids) == len(set(ids)) == len(plan)
        assert [bots for _, bots, _ in stored] == replies


def test_a_killed_replica_container_loses_and_repeats_no_message(stack):
    token = stack.token("100100")
    plan = [QUESTIONS[i % len(QUESTIONS)] for i in range(6)]
    conversations = 8
    halfway = threading.Barrier(conversations + 1, timeout=300)

    def pause(i: int) -> None:
        if i == 2:
            halfway.wait()  # the container dies now, with the next turns in flight

    victim = stack.containers("rasa")[0]
    with ThreadPoolExecutor(conversations) as pool:
        futures = [pool.submit(converse, stack, n, plan, token, pause) for n in range(conversations)]
        halfway.wait()
        time.sleep(0.05)
        docker("kill", victim)
        results = [f.result() for f in futures]
    assert_exactly_once(stack, plan, results)
    KEPT["killed"] = [sender for sender, _, _ in results]
    # Back as an operator would bring it (restart: unless-stopped does not undo a `docker kill`).
    if docker("inspect", "-f", "{{.State.Running}}", victim).strip() != "true":
        docker("start", victim)
    stack.wait_healthy(stack.containers("rasa"))
    stack.wait_served()


def test_a_rolling_restart_under_a_steady_trickle_fails_no_message(stack):
    """Each replica restarted in turn (SIGTERM, then wait for health) while messages keep
    coming: every message answered on its first send, HAProxy's retries alone cover the gaps."""
    token = stack.token("100100")
    stop = threading.Event()
    failures: list[str] = []
    sent = itertools.count()
    conversations: list[tuple[str, list[str]]] = []

    def trickle(lane: int) -> None:
        session = uuid.uuid4().hex
        asked: list[str] = []
        sender = None
        for i in itertools.count():
            if stop.is_set():
                break
            question, expected = QUESTIONS[(i + lane) % len(QUESTIONS)]
            next(sent)
            try:
                reply = post(stack, question, session, token, f"r{lane}-{i:04d}-{session[:12]}", timeout=60)
                ok = reply.status_code == 200 and reply.json()["messages"][0]["text"].startswith(expected)
                if ok:
                    sender = reply.json()["messages"][0]["recipient_id"]
                    asked.append(question)
                else:
                    failures.append(f"{reply.status_code} {reply.text[:200]}")
            except requests.RequestException as exc:
                failures.append(repr(exc))
            time.sleep(2.5)  # each conversation under its budget of 30 messages a minute (stores/rate_limits.py)
        conversations.append((sender, asked))

    lanes = [threading.Thread(target=trickle, args=(lane,)) for lane in range(5)]
    for lane in lanes:
        lane.start()
    started = time.monotonic()
    try:
        for container in stack.containers("rasa"):
            docker("restart", "-t", "30", container, timeout=120)
            stack.wait_healthy([container])
            stack.wait_served()
    finally:
        time.sleep(2)
        stop.set()
        for lane in lanes:
            lane.join(120)
    total = next(sent)
    print(f"rolling restart of 2 replicas in {time.monotonic() - started:.0f} s: {total} messages, {len(failures)} failed")
    KEPT["rolling"] = (total, len(failures))
    assert not failures, failures[:5]
    assert total > 20
    for sender, asked in conversations:
        assert [text for text, _, _ in turns(stack.tracker(sender))] == asked


def test_after_stop_and_start_conversations_cases_and_alerts_are_still_there(stack):
    assert {"case", "killed"} <= set(KEPT), "runs after the tests above"
    before = {sender: turns(stack.tracker(sender)) for sender in KEPT["killed"]}
    stack.run("stop")
    assert all(docker("inspect", "-f", "{{.State.Running}}", c).strip() == "false"
               for c in stack.containers("postgres") + stack.containers("rasa"))
    stack.run("start")
    stack.wait_healthy(stack.containers("rasa") + stack.containers("actions") + stack.containers("console"))
    stack.wait_served()
    for sender, stored in before.items():
        assert turns(stack.tracker(sender)) == stored
    case = Console(stack).case(KEPT["case"])
    assert case["status"] == "closed" and any("soy Carmen" in line["text"] for line in case["transcript"])

    async def alerts() -> str:
        async with Widget(stack, "200200") as widget:
            await widget.say("qué avisos tengo?")
            return (await widget.until("150"))["text"]

    assert "$150.00 MXN" in in_thread(alerts())
