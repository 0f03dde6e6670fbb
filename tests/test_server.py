"""The assistant through its real servers: Rasa + action server + SQLite store.

The stack (conftest.py) is started once for the session and stopped at the end.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
import sqlite3
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
import requests

from bot import formatting as fmt
from bot.config import settings
from bot.db import session_scope
from bot.identity import issue_token
from bot.periods import resolve_period
from bot.store import get_account, ledger_total
from tests.conftest import ANCHOR, month_in_history

pytestmark = pytest.mark.server


def address_of(session: str) -> str:
    """A customer's own address per conversation (benchmark range 198.18.0.0/15): the test client is the
    stack's trusted proxy (PREPAGO_TRUSTED_PROXIES), as HAProxy is in the cluster, so tests never share budgets."""
    digest = hashlib.sha256(session.encode()).digest()
    return f"198.{18 + digest[0] % 2}.{digest[1]}.{digest[2]}"


def say(stack, text, token=None, session="test-session-000001", raw=False, address=None):
    headers = {"X-Forwarded-For": address or address_of(session)}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    reply = requests.post(f"{stack.rasa_url}/webhooks/prepago/webhook",
                          json={"session": session, "message": text}, headers=headers, timeout=60)
    if raw:
        return reply
    assert reply.status_code == 200, reply.text
    return reply.json()["messages"]


def texts(messages) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def token(account="100100", **kw):
    return issue_token(settings(), account, **kw)


def balance_of(stack, account: str) -> str:
    with session_scope(stack.store) as session:
        return fmt.money(get_account(session, account).balance)


def ledger_snapshot(stack):
    with session_scope(stack.store) as session:
        return {n: (get_account(session, n).balance, ledger_total(session, get_account(session, n)))
                for n in ("100100", "200200")}


def test_faq_is_answered_without_signing_in(stack):
    reply = texts(say(stack, "¿cómo deposito fondos a mi cuenta de prepago?", session="anon-faq-0001"))
    assert "Agregar Fondos" in reply and "Complementos" in reply
    assert "https://portal.example.mx/#prepaid_account" in reply
    assert "Tu saldo" not in reply


def test_signed_in_customer_gets_their_own_balance(stack):
    reply = texts(say(stack, "cuánto saldo tengo", token=token("100100"), session="bal-100100-01"))
    assert balance_of(stack, "100100") in reply
    reply = texts(say(stack, "cuanta lana me queda", token=token("200200"), session="bal-200200-01"))
    assert balance_of(stack, "200200") in reply and balance_of(stack, "100100") not in reply


@pytest.mark.parametrize("bad_token, expected", [
    (None, "necesito saber que eres tú"),
    ("expired", "expiró"),
    ("forged", "No pude verificar"),
])
def test_lookup_without_a_valid_identity_explains_how_to_sign_in(stack, bad_token, expected):
    if bad_token == "expired":
        bad_token = token(ttl=timedelta(seconds=-1))
    elif bad_token == "forged":
        real = token()
        bad_token = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    reply = texts(say(stack, "cuál es mi saldo", token=bad_token, session="no-identity-0001"))
    assert expected in reply and "MXN" not in reply


def test_faq_then_lookup_then_thanks(stack):
    t = token("100100")
    first = texts(say(stack, "cómo cambio la tarjeta de crédito", token=t, session="multi-turn-0001"))
    assert "Facturación" in first and "Visa terminada en 4242" in first
    second = texts(say(stack, "y cuánto saldo tengo?", token=t, session="multi-turn-0001"))
    assert balance_of(stack, "100100") in second
    third = texts(say(stack, "muchas gracias", token=t, session="multi-turn-0001"))
    assert "Con gusto" in third


def test_activity_filters_and_ver_mas(stack):
    t = token("100100")
    first = say(stack, "movimientos de la extensión 102", token=t, session="activity-0001")
    assert "ext. 102 (Ventas)" in texts(first) and "ext. 101" not in texts(first)
    assert first[0]["buttons"][0]["payload"] == "/show_more_activity"
    more = texts(say(stack, "ver más", token=t, session="activity-0001"))
    assert more.startswith("Más movimientos de la ext. 102")
    spend = texts(say(stack, "quién se gastó la lana", token=t, session="activity-0001"))
    assert "Gasto en llamadas por extensión" in spend


def test_fallback_offers_topics_then_recovers(stack):
    t = token("100100")
    offer = say(stack, "oye y lo de la cosa esa?", token=t, session="fallback-0001")
    buttons = [b for m in offer for b in m.get("buttons") or []]
    assert "No estoy seguro" in texts(offer) and len(buttons) == 3
    recovered = texts(say(stack, buttons[0]["payload"], token=t, session="fallback-0001"))
    assert "No estoy seguro" not in recovered and recovered.strip()


def test_customers_sharing_a_session_id_never_see_each_other(stack):
    shared = "shared-client-session-42"
    say(stack, "cuánto saldo tengo", token=token("100100"), session=shared)
    say(stack, "cuánto saldo tengo", token=token("200200"), session=shared)
    trackers = sqlite3.connect(stack.work / "trackers.db")
    senders = {row[0] for row in trackers.execute("select distinct sender_id from events")}
    ours = {s for s in senders if s.startswith(("100100-", "200200-"))}
    assert any(s.startswith("100100-") for s in ours) and any(s.startswith("200200-") for s in ours)
    for sender in ours:
        data = "\n".join(r[0] for r in trackers.execute("select data from events where sender_id = ?", (sender,)))
        other = "200200" if sender.startswith("100100-") else "100100"
        assert balance_of(stack, other) not in data


def test_raw_tokens_are_never_stored_or_logged(stack):
    t = token("100100")
    say(stack, "mi saldo", token=t, session="token-leak-0001")
    trackers = sqlite3.connect(stack.work / "trackers.db")
    assert not trackers.execute("select count(*) from events where data like ?", (f"%{t[-20:]}%",)).fetchone()[0]
    for log in (stack.log_dir).glob("*.log"):
        assert t[-20:] not in log.read_text(errors="replace")


@pytest.mark.parametrize("text, expected", [
    ("", "No recibí ningún texto"),
    ("   ", "No recibí ningún texto"),
    ("saldo " * 17000, "muy largo"),  # ~100 KB
    ("😀😀😀", None),
    ("<script>alert('x')</script><img src=x onerror=alert(1)>", None),
    ("'; DROP TABLE ledger_entries; --", None),
    ("movimientos de la extensión 999", "No encontré la extensión 999"),
    ("movimientos del 1 al 5 de diciembre de 2030", "todavía no llega"),
])
def test_bad_input_gets_a_polite_spanish_answer_and_changes_nothing(stack, text, expected):
    before = ledger_snapshot(stack)
    reply = say(stack, text, token=token("100100"), session="bad-input-0001")
    body = texts(reply)
    assert body.strip(), "every message gets an answer"
    assert "Traceback" not in body and "Exception" not in body
    if expected:
        assert expected in body
    assert ledger_snapshot(stack) == before
    assert requests.get(f"{stack.rasa_url}/webhooks/prepago/", timeout=5).status_code == 200


@pytest.mark.parametrize("payload", [b"not json", b"[1,2]", b'{"message": "hola"}', b'{"session": "x", "message": "hola"}'])
def test_malformed_requests_are_refused_with_400(stack, payload):
    reply = requests.post(f"{stack.rasa_url}/webhooks/prepago/webhook", data=payload,
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 400 and "Traceback" not in reply.text


def test_rasa_http_api_requires_the_token(stack):
    assert requests.get(f"{stack.rasa_url}/conversations/x/tracker", timeout=10).status_code == 401
    assert requests.post(f"{stack.rasa_url}/model/parse", json={"text": "hola"}, timeout=10).status_code == 401
    ok = requests.post(f"{stack.rasa_url}/model/parse", params={"token": os.environ["RASA_API_TOKEN"]},
                       json={"text": "hola"}, timeout=30)
    assert ok.status_code == 200 and ok.json()["intent"]["name"] == "greet"


def _listening_addresses(port: int) -> set[str]:
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                addresses.add(address)
    return addresses


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_servers_listen_on_loopback_only(stack):
    for port in (stack.ports.actions, stack.ports.rasa):
        assert _listening_addresses(port) == {"0100007F"}, port  # 127.0.0.1


# Questions the assistant used to miss, now answered through the real servers.

def test_spending_in_a_period_total_and_per_extension(stack):
    t = token("100100")
    last = month_in_history()
    total = texts(say(stack, f"¿cuánto gasté en {last}?", token=t, session="spend-period-01"))
    assert total.startswith("En llamadas se gastaron **$") and resolve_period(last, ANCHOR).label in total
    assert "El saldo de tu Cuenta de Prepago" not in total  # not the balance
    month = texts(say(stack, "¿cuánto llevamos gastado este mes?", token=t, session="spend-period-01"))
    assert "este mes" in month and "$" in month
    one = texts(say(stack, "¿cuánto gastó la 102 la semana pasada?", token=t, session="spend-period-01"))
    assert one.startswith("La ext. 102 (Ventas)") and "la semana pasada" in one


@pytest.mark.parametrize("text", ["¿cuándo fue mi último depósito?", "cuáles fueron las últimas recargas",
                                  "¿cuándo se hizo la recarga automática?"])
def test_deposits_and_recharges_only(stack, text):
    reply = texts(say(stack, text, token=token("100100"), session="deposits-0001"))
    assert reply.startswith(("Tu último depósito fue el ", "Tu última recarga automática fue el ")), reply
    assert "Llamada a" not in reply


def test_follow_ups_keep_the_rest_of_the_filter(stack):
    t = token("100100")
    last, before = month_in_history(1), month_in_history(2)
    first = texts(say(stack, f"cuánto gastó la 102 en {last}", token=t, session="follow-up-0001"))
    assert first.startswith("La ext. 102 (Ventas)") and resolve_period(last, ANCHOR).label in first
    earlier = texts(say(stack, f"¿y en {before}?", token=t, session="follow-up-0001"))
    assert earlier.startswith("La ext. 102 (Ventas)") and resolve_period(before, ANCHOR).label in earlier
    other = texts(say(stack, "¿y nomás la 103?", token=t, session="follow-up-0001"))
    assert other.startswith("La ext. 103") and resolve_period(before, ANCHOR).label in other


def test_without_a_token_a_lookup_gets_the_articles_howto_and_the_sign_in_hint(stack):
    reply = texts(say(stack, "¿cómo veo quién hizo llamadas?", session="anon-howto-0001"))
    assert "Actividad de Prepago" in reply
    assert "inicias sesión" in reply.lower() or "inicia sesión" in reply.lower()
    balance = texts(say(stack, "¿cuánto saldo tengo?", session="anon-howto-0001"))
    assert "«Balance»" in balance and "necesito saber que eres tú" in balance and "MXN" not in balance


def test_unrelated_requests_are_out_of_scope_not_agreement(stack):
    reply = texts(say(stack, "¿en qué me conviene invertir mis ahorros?", session="oos-0001"))
    assert "¡Perfecto!" not in reply
    assert "con eso no te puedo ayudar" in reply or "No estoy seguro" in reply


@pytest.mark.parametrize("text, expected", [
    ("movimientos del 31 de febrero", "no existe en el calendario"),
    ("movimientos en el año 3000", "todavía no llega"),
    ("llamadas de la extensión 12345678901234567890", "como máximo 5 dígitos"),
])
def test_periods_and_numbers_that_cannot_be_honoured(stack, text, expected):
    reply = texts(say(stack, text, token=token("100100"), session="cannot-honour-0001"))
    assert expected in reply and "•" not in reply and "problema técnico" not in reply


def test_secrets_are_not_readable_by_other_local_users(stack):
    # The API token is passed through the environment, never the command line (`ps`).
    cmdline = Path(f"/proc/{stack.processes['rasa'].pid}/cmdline").read_bytes().decode(errors="replace")
    assert os.environ["RASA_API_TOKEN"] not in cmdline and "auth-token" not in cmdline
    say(stack, "cuánto saldo tengo", token=token("100100"), session="perm-check-0001")
    assert stack.work.stat().st_mode & 0o777 == 0o700
    for name in ("prepago.db", "trackers.db", "logs/rasa.log", "logs/actions.log"):
        assert (stack.work / name).stat().st_mode & 0o077 == 0, name


def test_the_action_server_answers_only_rasa(stack):
    actions = f"http://127.0.0.1:{stack.ports.actions}"
    say(stack, "cuánto saldo tengo", token=token("100100"), session="replay-0001")
    trackers = sqlite3.connect(stack.work / "trackers.db")
    stored = trackers.execute("select data from events where type_name = 'user' and data like '%prepago_identity%' "
                              "order by id desc limit 1").fetchone()[0]
    replay = {"next_action": "action_check_balance", "sender_id": "x", "version": "3.6.21",
              "tracker": {"sender_id": "x", "slots": {}, "latest_message": json.loads(stored)["parse_data"] | {
                  "metadata": json.loads(stored).get("metadata")}, "events": [], "paused": False,
                  "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}}
    for headers in ({}, {"X-Prepago-Action-Token": "not-the-secret"}):
        reply = requests.post(f"{actions}/webhook", json=replay, headers=headers, timeout=10)
        assert reply.status_code == 401 and "MXN" not in reply.text
    assert requests.get(f"{actions}/health", timeout=10).status_code == 200


@pytest.mark.parametrize("raw, expected", [
    (b'{"session": "surrogate-0001", "message": "\\ud800"}', "No pude leer tu mensaje"),
    (b'{"session": "bad-payload-0001", "message": "/faq{\\"faq_topic\\": {\\"a\\": 1}}"}', None),
    (b'{"session": "bad-payload-0001", "message": "/check_balance{\\"x\\": [1, 2]}"}', None),
])
def test_odd_inputs_get_an_answer_not_a_500(stack, raw, expected):
    reply = requests.post(f"{stack.rasa_url}/webhooks/prepago/webhook", data=raw,
                          headers={"Content-Type": "application/json", "Authorization": f"Bearer {token()}"}, timeout=30)
    assert reply.status_code == 200, reply.text
    body = texts(reply.json()["messages"])
    assert body.strip() and "Traceback" not in body
    if expected:
        assert expected in body


def test_a_session_key_with_a_trailing_newline_is_refused(stack):
    reply = say(stack, "hola", session="valid-session-01\n", raw=True)
    assert reply.status_code == 400


def test_rasa_http_routes_send_no_wildcard_cors(stack):
    reply = requests.get(f"{stack.rasa_url}/webhooks/prepago/", headers={"Origin": "https://evil.example"}, timeout=10)
    assert reply.headers.get("Access-Control-Allow-Origin") in (None, "")


def test_demo_token_issuer_rejects_odd_bodies_and_foreign_hosts(stack):
    issuer = f"http://127.0.0.1:{stack.ports.web}/demo/token"
    for body in ([1, 2], "100100", {"account": ["100100"]}, {"account": "300300"}):
        reply = requests.post(issuer, json=body, timeout=10)
        assert reply.status_code == 400 and "token" not in reply.json()
    rebound = requests.post(issuer, json={"account": "100100"}, headers={"Host": f"evil.example:{stack.ports.web}"},
                            timeout=10)
    assert rebound.status_code == 421
    demo = requests.post(issuer, json={"account": "100100"}, timeout=10).json()["token"]
    assert jwt.decode(demo, options={"verify_signature": False})["iss"] == "prepago-demo"


def test_demo_tokens_are_refused_where_the_company_issues_its_own(monkeypatch):
    from bot.identity import verify_token
    from tools.webdemo import DEMO_ISSUER

    demo = issue_token(settings(), "100100")  # the demo issuer's name is the local default
    assert settings().jwt_issuer == DEMO_ISSUER and verify_token(settings(), demo).account == "100100"
    monkeypatch.setenv("PREPAGO_JWT_ISSUER", "https://login.empresa.mx")
    assert verify_token(settings(), demo).account is None


def test_a_flood_from_one_conversation_is_slowed_down_politely(stack):
    replies = [say(stack, "", session="flood-session-0001", raw=True) for _ in range(35)]
    refused = [r for r in replies if r.status_code == 429]
    assert refused and all(r.status_code in (200, 429) for r in replies)
    assert "Vas muy rápido" in texts(refused[0].json()["messages"])
    assert say(stack, "", session="calm-session-0001", raw=True).status_code == 200  # others are not affected


def test_new_session_ids_buy_no_new_budget(stack):
    """A script that invents a session per message still spends one budget: its address's."""
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    replies = [say(stack, "", session=f"minted-{uuid.uuid4().hex}", raw=True, address=address) for _ in range(125)]
    refused = [r for r in replies if r.status_code == 429]
    assert refused and all(r.status_code in (200, 429) for r in replies)
    assert "Vas muy rápido" in texts(refused[0].json()["messages"])
    assert say(stack, "", session=f"minted-{uuid.uuid4().hex}", raw=True).status_code == 200  # another address


def test_new_sockets_buy_no_new_budget(stack):
    """The same on socket.io: five sockets with five session keys, one client address, one budget."""
    import socketio

    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"

    async def flood() -> list[str]:
        seen: list[str] = []
        sockets = []
        for _ in range(5):
            client = socketio.AsyncClient()
            client.on("bot_uttered", lambda data: seen.append(data.get("text", "")))
            await client.connect(stack.rasa_url, socketio_path="/socket.io", transports=["websocket"],
                                 headers={"X-Forwarded-For": address}, auth={"session": uuid.uuid4().hex})
            sockets.append(client)
        for client in sockets:  # 26 each: every conversation stays within its own 30
            for _ in range(26):
                await client.emit("user_uttered", {"message": ""})
        for _ in range(200):
            if len(seen) >= 130:
                break
            await asyncio.sleep(0.05)
        for client in sockets:
            await client.disconnect()
        return seen

    seen = asyncio.run(flood())
    assert len(seen) == 130
    assert any("Vas muy rápido" in text for text in seen)


def test_anonymous_cases_are_capped_per_address(stack):
    """Each new session could open its own case; without an account, three an hour per address."""
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    answers = [texts(say(stack, "quiero hablar con una persona de soporte por favor", address=address,
                         session=f"case-{uuid.uuid4().hex}")) for _ in range(4)]
    assert all("Abrí tu caso #" in a or "fuera del horario" in a for a in answers[:3]), answers
    assert "Desde tu conexión ya se abrieron varios casos sin sesión" in answers[3]
    signed_in = texts(say(stack, "quiero hablar con una persona de soporte por favor", address=address,
                          token=token("200200"), session=f"case-{uuid.uuid4().hex}"))
    assert "caso #" in signed_in  # a verified account is not capped
