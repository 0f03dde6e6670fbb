"""Two Rasa replicas behind HAProxy, on PostgreSQL and Redis: the production topology.

All tests share the session's `cluster` fixture (tests/conftest.py); a test
that kills a replica starts it again before it ends.
"""
from __future__ import annotations

import itertools
import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bot.config import settings
from bot.identity import issue_token
from tests.test_server import address_of

pytestmark = pytest.mark.cluster

# Each question has an answer we can recognise, so a reply can be matched to its message.
QUESTIONS = [
    ("¿cuánto saldo tengo?", "El saldo de tu Cuenta de Prepago es de"),
    ("¿cómo agrego fondos?", "Para depositar fondos a tu Cuenta de Prepago"),
    ("hola", "¡Hola! Soy el asistente de tu Cuenta de Prepago"),
]
TOKEN = issue_token(settings(), "100100")


def new_session() -> str:
    return uuid.uuid4().hex


def post(url: str, text: str, session: str, message_id: str | None = None, timeout: float = 60):
    body = {"session": session, "message": text}
    if message_id:
        body["message_id"] = message_id
    # A new connection per request: HAProxy balances requests, not just connections.
    # Its own address per conversation (HAProxy appends ours, which the replicas trust): no shared budget.
    return requests.post(f"{url}/webhooks/prepago/webhook", json=body, timeout=timeout,
                         headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close",
                                  "X-Forwarded-For": address_of(session)})


def tracker(cluster, sender_id: str) -> list[dict]:
    reply = requests.get(f"{cluster.rasa_url}/conversations/{sender_id}/tracker",
                         params={"token": os.environ["RASA_API_TOKEN"]}, timeout=30)
    reply.raise_for_status()
    return reply.json()["events"]


def turns(events: list[dict]) -> list[tuple[str, list[str], str | None]]:
    """(user text, bot texts until the next user message, message id) per stored turn."""
    found: list[tuple[str, list[str], str | None]] = []
    for event in events:
        if event["event"] == "user":
            found.append((event["text"], [], (event.get("metadata") or {}).get("prepago_message_id")))
        elif event["event"] == "bot" and found:
            found[-1][1].append(event["text"])
    return found


def test_replicas_share_every_conversation(cluster):
    """16 conversations at once, each alternating between the two replicas: one
    correct reply per message, in order, and every turn in the shared store."""
    replicas = [cluster.replica_url(name) for name in cluster.replica_names()]
    plan = [QUESTIONS[i % len(QUESTIONS)] for i in range(6)]

    def converse(n: int):
        session, sender, replies = new_session(), None, []
        for i, (question, _) in enumerate(plan):
            reply = post(replicas[(n + i) % 2], question, session)  # strictly alternating
            assert reply.status_code == 200, reply.text
            messages = reply.json()["messages"]
            sender = messages[0]["recipient_id"]
            replies.append([m.get("text", "") for m in messages])
        return sender, replies

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(converse, range(16)))

    for sender, replies in results:
        assert len(replies) == len(plan)
        for (question, expected), answer in zip(plan, replies):
            assert answer and answer[0].startswith(expected), (question, answer)
        stored = turns(tracker(cluster, sender))
        assert [text for text, _, _ in stored] == [q for q, _ in plan]
        assert [bots for _, bots, _ in stored] == replies


def test_a_replica_killed_mid_run_loses_and_repeats_nothing(cluster):
    """kill -9 a replica while 16 conversations talk through the load balancer:
    every message is answered exactly once and every history is complete."""
    plan = [QUESTIONS[i % len(QUESTIONS)] for i in range(8)]
    halfway = threading.Barrier(17, timeout=120)
    served_by: dict[str, set] = {}

    def converse(n: int):
        session, sender, replies, retries = new_session(), None, [], 0
        for i, (question, _) in enumerate(plan):
            if i == 3:
                halfway.wait()  # the replica dies now, with the next turns in flight
            message_id = f"m{n:02d}-{i:02d}-{session[:12]}"
            for attempt in itertools.count():
                try:
                    reply = post(cluster.rasa_url, question, session, message_id, timeout=30)
                    if reply.status_code == 200:
                        break
                except requests.RequestException:
                    pass
                # A client's retry, same message id; HAProxy already retried inside.
                retries += 1
                assert attempt < 5, f"message {i} of conversation {n} was never answered"
                time.sleep(0.5)
            served_by.setdefault(n, set()).add(reply.headers.get("X-Prepago-Replica"))
            messages = reply.json()["messages"]
            sender = messages[0]["recipient_id"]
            replies.append([m.get("text", "") for m in messages])
        return sender, replies, retries

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(converse, n) for n in range(16)]
        halfway.wait()
        time.sleep(0.05)  # let the next turns reach both replicas
        cluster.kill("rasa1")
        results = [f.result() for f in futures]
    try:
        for sender, replies, _ in results:
            for (question, expected), answer in zip(plan, replies):
                assert answer and answer[0].startswith(expected), (question, answer)
            stored = turns(tracker(cluster, sender))
            assert [text for text, _, _ in stored] == [q for q, _ in plan], "a turn was lost or stored twice"
            ids = [message_id for _, _, message_id in stored]
            assert len(ids) == len(set(ids)) == len(plan)
            assert [bots for _, bots, _ in stored] == replies
        # After the kill everything went to the survivor.
        assert any("rasa1" in replicas for replicas in served_by.values())
        assert all("rasa2" in replicas for replicas in served_by.values())
    finally:
        cluster.restart("rasa1")
    assert cluster.server_state("rasa1") == "UP"


def test_a_retried_message_is_answered_from_the_stored_turn(cluster):
    """The same message id sent to both replicas: one stored turn, the same answer."""
    session, message_id = new_session(), f"retry-{uuid.uuid4().hex[:16]}"
    first = post(cluster.replica_url("rasa1"), "¿cuánto saldo tengo?", session, message_id).json()["messages"]
    again = post(cluster.replica_url("rasa2"), "¿cuánto saldo tengo?", session, message_id).json()["messages"]
    assert again == first
    stored = turns(tracker(cluster, first[0]["recipient_id"]))
    assert [message_id for _, _, message_id in stored] == [message_id]


def test_two_replicas_at_the_same_instant_take_turns(cluster):
    """Two messages of one conversation reach both replicas at once, 10 times:
    the lock store serialises them, so no turn interleaves with another."""
    replicas = [cluster.replica_url(name) for name in cluster.replica_names()]
    session = new_session()
    post(replicas[0], "hola", session)  # the conversation exists before the race
    start = threading.Barrier(2)

    def send(url: str, text: str):
        start.wait()
        return post(url, text, session)

    sent = []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(10):
            a, b = pool.submit(send, replicas[0], QUESTIONS[0][0]), pool.submit(send, replicas[1], QUESTIONS[1][0])
            for future, (_, expected) in ((a, QUESTIONS[0]), (b, QUESTIONS[1])):
                messages = future.result().json()["messages"]
                assert messages[0]["text"].startswith(expected)
            sent += [QUESTIONS[0][0], QUESTIONS[1][0]]
            sender = messages[0]["recipient_id"]

    events = tracker(cluster, sender)
    stored = turns(events)
    assert sorted(text for text, _, _ in stored[1:]) == sorted(sent)
    for text, bots, _ in stored[1:]:
        assert bots and bots[0].startswith(dict(QUESTIONS)[text]), (text, bots)
    # The proof: each turn runs from its user event (logged once the lock is held)
    # to its last event; with both replicas on this machine's clock, no two overlap.
    spans = []
    for event in events:
        if event["event"] == "user":
            spans.append([event["timestamp"], event["timestamp"]])
        elif spans:
            spans[-1][1] = event["timestamp"]
    spans.sort()
    overlaps = [(a, b) for a, b in zip(spans, spans[1:]) if b[0] < a[1]]
    assert not overlaps, f"{len(overlaps)} turns ran at the same time as another"


def test_socketio_long_polling_sticks_to_one_replica(cluster):
    """Without a websocket, every request of a socket.io session must reach the
    replica that holds it: the balancer's cookie sends them there."""
    http = requests.Session()
    handshake = http.get(f"{cluster.rasa_url}/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=10)
    assert handshake.status_code == 200
    holder = handshake.headers["X-Prepago-Replica"]
    assert http.cookies.get("PREPAGO_REPLICA") == holder
    sid = json.loads(handshake.text[handshake.text.index("{"):])["sid"]
    for _ in range(4):
        reply = http.post(f"{cluster.rasa_url}/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid},
                          data="40", timeout=10)
        assert reply.status_code == 200 and reply.headers["X-Prepago-Replica"] == holder


def test_the_widget_keeps_its_conversation_when_its_replica_dies(cluster, browser):
    """A customer in a real browser: an emit from the other replica reaches the
    socket (Redis client manager); then the socket's replica is killed mid-message,
    the widget reconnects through HAProxy, shows the whole history, and the
    message in flight is answered exactly once."""
    from channels.guard import bind
    from tests.browser import expect, new_page, open_chat, sign_in

    page = new_page(browser, cluster.web_url)
    open_chat(page)
    sign_in(page, "100100")
    page.get_by_label("Tu mensaje").fill("¿cuánto saldo tengo?")
    page.get_by_label("Tu mensaje").press("Enter")
    expect(page.locator(".pc-bot").last).to_contain_text("El saldo de tu Cuenta de Prepago")
    deadline = time.monotonic() + 10
    while (holder := cluster.socket_holder()) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert holder in cluster.replica_names()
    other = next(name for name in cluster.replica_names() if name != holder)

    session = page.evaluate("window.localStorage.getItem('prepago-chat-session')")
    sender = bind(TOKEN, session).sender_id
    reply = requests.post(f"{cluster.replica_url(other)}/conversations/{sender}/trigger_intent",
                          params={"output_channel": "prepago_socketio", "token": os.environ["RASA_API_TOKEN"]},
                          json={"name": "greet"}, timeout=30)
    assert reply.status_code == 200, reply.text
    expect(page.locator(".pc-bot").last).to_contain_text("¡Hola! Soy el asistente")

    try:
        page.get_by_label("Tu mensaje").fill("¿cómo agrego fondos?")
        page.get_by_label("Tu mensaje").press("Enter")
        cluster.kill(holder)  # the message may or may not have been answered yet
        expect(page.locator(".pc-status")).to_have_text("Sesión iniciada · cuenta 100100", timeout=30000)
        funds = page.locator(".pc-bot", has_text="Para depositar fondos")
        expect(funds).to_have_count(1, timeout=30000)
        expect(page.locator(".pc-typing")).to_be_hidden(timeout=30000)
        log = page.locator(".pc-log").inner_text()
        assert log.index("¿cuánto saldo tengo?") < log.index("El saldo de tu Cuenta") < log.index("¡Hola! Soy")
        assert log.count("¿cómo agrego fondos?") == 1
        time.sleep(1)
        expect(funds).to_have_count(1)  # and no late duplicate
        assert cluster.socket_holder() == other
    finally:
        page.context.close()
        cluster.restart(holder)


def test_messaging_webhooks_and_linking_work_on_any_replica(cluster, providers):
    """A Telegram customer whose every update lands on the other replica links
    their account and gets their balance; a retried update is answered once."""
    from types import SimpleNamespace

    from tests.test_messaging import telegram

    via = [SimpleNamespace(rasa_url=cluster.replica_url(name)) for name in cluster.replica_names()]
    user = 7_900_000 + uuid.uuid4().int % 100_000

    def say(i: int, text: str) -> str:
        reply, sent = telegram(via[i % 2], providers, user, text)
        assert reply.status_code == 200, reply.text
        return "\n".join(r["body"]["text"] for r in sent if r["path"].endswith("/sendMessage"))

    assert "número de cuenta" in say(0, "¿cuánto saldo tengo?")
    assert "PIN" in say(1, "100100")
    assert "vinculado a la cuenta 100100" in say(0, "4321")
    assert "El saldo de tu Cuenta de Prepago es de" in say(1, "¿cuánto saldo tengo?")

    update = json.dumps({"update_id": 900_000_000 + uuid.uuid4().int % 10_000_000,
                         "message": {"message_id": 1, "date": 1, "text": "hola",
                                     "from": {"id": user, "is_bot": False, "first_name": "Cliente"},
                                     "chat": {"id": user, "type": "private"}}})
    first, retry = telegram(via[0], providers, user, raw=update), telegram(via[1], providers, user, raw=update)
    assert first[0].status_code == retry[0].status_code == 200
    assert [r for r in first[1] if r["path"].endswith("/sendMessage")] and not retry[1]


def test_cluster_command_explains_missing_services_in_spanish():
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    result = subprocess.run([sys.executable, "-m", "tools.cli", "cluster", "--redis-url", "redis://127.0.0.1:1/0",
                             "--database-url", "postgresql://nadie@127.0.0.1:1/prepago"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "PostgreSQL no responde" in result.stderr and "Redis no responde" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def burst(urls: list[str], text: str, session: str, n: int) -> list[requests.Response]:
    """n messages of one conversation sent at the same time, in turn to each of `urls`.

    The rate limit counts arrivals: sent together, they arrive within the same second
    however long the turns take on a busy machine.
    """
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda i: post(urls[i % len(urls)], text, session), range(n)))


def test_a_flood_gets_one_budget_across_replicas(cluster):
    """30 messages a minute per conversation, whichever replica each one reaches."""
    replicas = [cluster.replica_url(name) for name in cluster.replica_names()]
    statuses = [r.status_code for r in burst(replicas, "hola", new_session(), 36)]
    answered = statuses.count(200)
    assert set(statuses) == {200, 429}
    assert 30 <= answered <= 32, answered  # per replica, all 36 would pass (18 each)


def test_a_forwarded_for_written_by_the_client_buys_no_budget_through_haproxy(cluster):
    """A script behind HAProxy that writes a new X-Forwarded-For on every message still spends one budget.

    The script connects from 127.0.0.2, which is not our proxy; HAProxy adds that address as its own
    X-Forwarded-For line after the one the script wrote.
    """
    import http.client
    from urllib.parse import urlsplit

    lb = urlsplit(cluster.rasa_url)
    statuses = []
    for n in range(125):
        connection = http.client.HTTPConnection(lb.hostname, lb.port, timeout=60, source_address=("127.0.0.2", 0))
        connection.request("POST", "/webhooks/prepago/webhook",
                           body=json.dumps({"session": f"minted-{uuid.uuid4().hex}", "message": ""}),
                           headers={"Content-Type": "application/json",
                                    "X-Forwarded-For": f"203.0.113.{n % 250 + 1}"})
        statuses.append(connection.getresponse().status)
        connection.close()
    assert set(statuses) == {200, 429}
    assert statuses.count(200) <= 122  # one client budget (120 a minute), whichever replica answered


def test_an_agents_reply_reaches_a_widget_on_the_other_replica(cluster):
    """The widget's socket is on rasa1; the relay runs on rasa2: the Redis manager carries the reply."""
    import asyncio
    import re

    import socketio

    from bot.db import engine_for
    from handoff import cases, staff

    store = engine_for(cluster.database_url)
    agent = staff.create_user(f"carmen{uuid.uuid4().hex[:6]}", "Carmen Díaz", "contraseña-del-cluster", store)
    rasa1, rasa2 = (cluster.replica_url(name) for name in cluster.replica_names())

    def relay_on(url: str, case_id: int) -> dict:
        reply = requests.post(f"{url}/webhooks/handoff/deliver", json={"case": case_id}, timeout=30,
                              headers={"Authorization": f"Bearer {os.environ['RASA_API_TOKEN']}"})
        assert reply.status_code == 200, reply.text
        return reply.json()["delivered"]

    async def scenario():
        received: asyncio.Queue = asyncio.Queue()
        widget = socketio.AsyncClient()
        widget.on("bot_uttered", lambda data: received.put_nowait(data))
        await widget.connect(rasa1, socketio_path="/socket.io", transports=["websocket"],
                             auth={"token": TOKEN, "session": new_session()})
        await widget.emit("user_uttered", {"message": "quiero hablar con una persona", "id": new_session()[:16]})
        opened = await asyncio.wait_for(received.get(), 60)
        case_id = int(re.search(r"caso #(\d+)", opened["text"]).group(1))
        await asyncio.to_thread(cases.agent_reply, case_id, agent.id, "Hola, soy Carmen.", None, store)
        states = await asyncio.to_thread(relay_on, rasa2, case_id)
        assert set(states.values()) == {"sent"}
        shown = [await asyncio.wait_for(received.get(), 30) for _ in range(2)]
        assert shown[1] == {"text": "Hola, soy Carmen.", "agent": "Carmen Díaz"}
        await asyncio.to_thread(cases.close, case_id, agent.id, None, store)
        await asyncio.to_thread(relay_on, rasa2, case_id)
        closing = await asyncio.wait_for(received.get(), 30)
        assert "cerró la conversación con Soporte" in closing["text"]
        await widget.disconnect()

    # In a thread: this module's browser fixture keeps Playwright's event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()
