"""Human handoff through the real servers: the case, the paused assistant, the console's API and its sign-in.

The stack (conftest.py) runs Rasa, the action server, the demo page and the
staff console on one SQLite store; WhatsApp replies go through the real
Twilio SDK to the recording stand-in (tests/fake_providers.py).
"""
from __future__ import annotations

import json
import re
import sqlite3
import uuid

import pytest
import requests
from sqlalchemy import select, update

from bot.db import session_scope
from bot.models import Account
from handoff.views import version
from handoff.models import StaffUser
from handoff.staff import create_user
from tests.conftest import AGENT, CHANNEL_SECRETS
from tests.test_messaging import messenger, telegram, whatsapp, whatsapp_texts
from tests.test_server import say, texts, token

pytestmark = pytest.mark.server


def console_url(stack) -> str:
    return f"http://127.0.0.1:{stack.ports.console}"


def login_form(session: requests.Session, stack) -> str:
    page = session.get(f"{console_url(stack)}/login", timeout=10)
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(stack, username=AGENT[0], password=AGENT[2]) -> requests.Session:
    agent = requests.Session()
    reply = agent.post(f"{console_url(stack)}/login", allow_redirects=False, timeout=30,
                       data={"csrf": login_form(agent, stack), "username": username, "password": password})
    assert reply.status_code == 303, reply.text
    index = agent.get(f"{console_url(stack)}/", timeout=10)
    agent.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', index.text).group(1)
    return agent


def case_with(agent, stack, words: str) -> dict:
    """The open case whose description or transcript has `words`."""
    for summary in agent.get(f"{console_url(stack)}/api/cases", timeout=10).json()["cases"]:
        case = agent.get(f"{console_url(stack)}/api/cases/{summary['id']}", timeout=10).json()
        if any(words in line["text"] for line in case["transcript"]) or words in (case["description"] or ""):
            return case
    raise AssertionError(f"no open case mentions {words!r}")


def act(agent, stack, case_id, action, **body):
    return agent.post(f"{console_url(stack)}/api/cases/{case_id}/{action}", json=body, timeout=30)


def test_a_person_takes_over_and_hands_back_to_the_assistant(stack):
    session, customer = f"handoff-{uuid.uuid4().hex[:12]}", token("100100")
    opened = texts(say(stack, "quiero hablar con un agente", token=customer, session=session))
    assert "te comunico con una persona de Soporte" in opened and re.search(r"Abrí tu caso #\d+", opened)
    assert "¿me cuentas en pocas palabras qué pasó?" in opened  # no description yet
    noted = texts(say(stack, "mi tarjeta 4111 1111 1111 1111 no pasa en la recarga", token=customer, session=session))
    assert noted.startswith("Gracias, ya lo anoté en tu caso")
    # While the case is open the assistant stays quiet: the message goes to the agent.
    assert say(stack, "¿cuánto saldo tengo?", token=customer, session=session) == []

    agent = sign_in(stack)
    case = case_with(agent, stack, "no pasa en la recarga")
    assert case["status"] == "waiting" and case["account"] == "100100" and case["channel"] == "API"
    assert case["reason"] == "Pidió hablar con una persona"
    lines = [(line["author"], line["text"]) for line in case["transcript"]]
    assert ("customer", "quiero hablar con un agente") in lines and ("customer", "¿cuánto saldo tengo?") in lines
    assert any(author == "bot" and "te comunico" in text for author, text in lines)
    # Account context for the agent; never a token, a PIN hash or a full card number.
    assert case["context"]["balance"].endswith("MXN") and len(case["context"]["movements"]) == 5
    shown = json.dumps(case, ensure_ascii=False)
    assert "[número oculto]" in shown and "4111 1111 1111 1111" not in shown
    assert customer not in shown and "scrypt" not in shown and "pin" not in shown.lower()

    taken = act(agent, stack, case["id"], "take").json()
    assert taken["status"] == "with_agent" and taken["agent"] == "Ana López"
    replied = act(agent, stack, case["id"], "reply", text="Hola, soy Ana. Ya revisé tu tarjeta: inténtalo de nuevo.")
    last = replied.json()["transcript"][-1]
    # The API has no way to push: the reply waits in the conversation.
    assert last["author"] == "agent" and last["delivery_state"] == "stored"

    closed = act(agent, stack, case["id"], "close").json()
    assert closed["status"] == "closed"
    assert act(agent, stack, case["id"], "reply", text="¿sigues ahí?").status_code == 409
    answer = texts(say(stack, "¿cuánto saldo tengo?", token=customer, session=session))
    assert "El saldo de tu Cuenta de Prepago es de" in answer  # the assistant is back


@pytest.mark.parametrize("text", ["¿me pasas con un humano?", "quiero hablar con una persona",
                                  "pásame con un agente por favor", "necesito un asesor de verdad",
                                  "kiero hablar con alguien de soporte", "me atiende alguien de carne y hueso?"])
def test_every_way_of_asking_for_a_person_reaches_a_person(stack, text):
    reply = texts(say(stack, text, session=f"ask-person-{uuid.uuid4().hex[:10]}"))
    assert "te comunico con una persona de Soporte" in reply and "Soy un asistente virtual" not in reply


def test_two_misunderstandings_in_a_row_hand_over_with_what_was_not_understood(stack):
    session = f"fallback-{uuid.uuid4().hex[:12]}"
    first = texts(say(stack, "oye y lo de la cosa esa?", session=session))
    assert "No estoy seguro" in first
    second = texts(say(stack, "mmm pues eso que te dije", session=session))
    assert "no logré entenderte" in second and "caso #" in second
    case = case_with(sign_in(stack), stack, "pues eso que te dije")
    assert case["reason"] == "El asistente no le entendió dos veces seguidas"
    assert case["description"] == "oye y lo de la cosa esa? / mmm pues eso que te dije"
    assert case["account"] == "sin sesión" and case["context"] is None


def test_an_upset_customer_about_a_charge_reaches_a_person_with_their_words(stack):
    text = "me cobraron 300 pesos de una llamada que nadie hizo, esto es un robo"
    session = f"money-{uuid.uuid4().hex[:12]}"
    explained = texts(say(stack, text, token=token("200200"), session=session))
    assert explained.startswith("Revisé tu cuenta.") and "caso #" not in explained  # explained first, from the account
    reply = texts(say(stack, "/report_charge_problem", token=token("200200"), session=session))  # «Que lo revise una persona»
    assert "que lo revise una persona de Soporte" in reply and "¿me cuentas" not in reply
    case = case_with(sign_in(stack), stack, "nadie hizo")
    assert case["reason"] == "Molesto por un cobro o un depósito" and case["description"] == text


def test_outside_business_hours_the_case_is_kept_and_answered_later(stack):
    with session_scope(stack.store) as s:  # the account's own time zone decides: 15 hours ahead of Mexico City
        s.execute(update(Account).where(Account.number == "200200").values(timezone="Asia/Tokyo"))
    try:
        session = f"after-hours-{uuid.uuid4().hex[:8]}"
        reply = texts(say(stack, "necesito hablar con un asesor", token=token("200200"), session=session))
    finally:
        with session_scope(stack.store) as s:
            s.execute(update(Account).where(Account.number == "200200").values(timezone="America/Mexico_City"))
    assert "fuera del horario de atención" in reply and "quedó guardado" in reply
    assert re.search(r"te responderá aquí mismo (hoy|mañana|el \w+ \d+ de \w+) a partir de las \d+:\d\d", reply)
    agent = sign_in(stack)
    case = case_with(agent, stack, "necesito hablar con un asesor")
    assert act(agent, stack, case["id"], "reply", text="Buenos días, ya vi tu caso.").status_code == 200
    texts_after = say(stack, "gracias", token=token("200200"), session=session)
    assert texts_after == [] or "caso" in texts(texts_after)


def test_handoff_on_whatsapp_relays_both_ways(stack, providers):
    phone = "+5215512340077"
    assert "te comunico con una persona de Soporte" in whatsapp_texts(stack, providers, phone, "quiero un asesor")
    assert whatsapp_texts(stack, providers, phone, "me cobraron doble la recarga de ayer").startswith("Gracias")
    reply, sent = whatsapp(stack, providers, phone, "¿hola?")
    assert reply.status_code == 200 and sent == []  # the agent answers, not the assistant

    agent = sign_in(stack)
    case = case_with(agent, stack, "doble la recarga")
    assert case["channel"] == "WhatsApp" and phone not in json.dumps(case)
    mark = providers.mark()
    act(agent, stack, case["id"], "reply", text="Hola, soy Ana. Ya reembolsamos la recarga duplicada.")
    bodies = [(r["body"]["To"], r["body"]["Body"]) for r in providers.since(mark) if r["path"].endswith("/Messages.json")]
    assert (f"whatsapp:{phone}", "Ana López, de Soporte, tomó tu caso y te escribirá aquí mismo.") in bodies
    assert (f"whatsapp:{phone}", "Ana López (Soporte): Hola, soy Ana. Ya reembolsamos la recarga duplicada.") in bodies
    detail = agent.get(f"{console_url(stack)}/api/cases/{case['id']}", timeout=10).json()
    assert [line["delivery_state"] for line in detail["transcript"] if line["author"] in ("agent", "system")] == \
        ["sent", "sent"]

    mark = providers.mark()
    act(agent, stack, case["id"], "close")
    closing = [r["body"]["Body"] for r in providers.since(mark) if r["path"].endswith("/Messages.json")]
    assert closing and "cerró la conversación con Soporte" in closing[0]
    assert "Agregar Fondos" in whatsapp_texts(stack, providers, phone, "¿cómo agrego fondos?")


def test_a_reply_the_channel_refuses_is_kept_and_reported(stack, providers):
    phone = "+5215599990000"  # the stand-in refuses messages to this number (outside WhatsApp's 24-hour window)
    whatsapp(stack, providers, phone, "quiero hablar con una persona, no me llegó el depósito de ayer")
    agent = sign_in(stack)
    case = case_with(agent, stack, "no me llegó el depósito")
    act(agent, stack, case["id"], "reply", text="Revisé tu depósito, ya aparece.")
    detail = agent.get(f"{console_url(stack)}/api/cases/{case['id']}", timeout=10).json()
    reply = detail["transcript"][-1]
    assert reply["text"] == "Revisé tu depósito, ya aparece." and reply["delivery_state"] == "pending"
    assert "WhatsApp no lo aceptó" in reply["delivery_note"]
    act(agent, stack, case["id"], "close")


# --- the console's sign-in ----------------------------------------------------------------

def test_the_console_needs_a_staff_session(stack):
    anonymous = requests.Session()
    page = anonymous.get(f"{console_url(stack)}/", allow_redirects=False, timeout=10)
    assert page.status_code == 303 and page.headers["Location"] == "/login"
    assert anonymous.get(f"{console_url(stack)}/api/cases", timeout=10).status_code == 401
    customer = token("100100")  # a customer's token opens nothing, as a header or as the cookie
    assert anonymous.get(f"{console_url(stack)}/api/cases", headers={"Authorization": f"Bearer {customer}"},
                         timeout=10).status_code == 401
    assert requests.get(f"{console_url(stack)}/api/cases", cookies={"prepago_staff": customer},
                        timeout=10).status_code == 401


def test_wrong_password_and_login_without_the_forms_token_are_refused(stack):
    agent = requests.Session()
    csrf = login_form(agent, stack)
    wrong = agent.post(f"{console_url(stack)}/login", data={"csrf": csrf, "username": AGENT[0], "password": "nope"},
                       allow_redirects=False, timeout=30)
    assert wrong.status_code == 401 and "Usuario o contraseña incorrectos." in wrong.text
    assert "prepago_staff" not in agent.cookies
    forged = requests.post(f"{console_url(stack)}/login", allow_redirects=False, timeout=30,
                           data={"csrf": "x" * 43, "username": AGENT[0], "password": AGENT[2]})
    assert forged.status_code == 403 and "prepago_staff" not in forged.cookies


def test_changes_need_the_sessions_csrf_token_and_the_consoles_origin(stack):
    agent = sign_in(stack)
    case_text = f"quiero hablar con una persona sobre mi factura número {uuid.uuid4().hex[:6]} por favor"
    say(stack, case_text, session=f"csrf-{uuid.uuid4().hex[:10]}")
    case = case_with(agent, stack, case_text[-20:])
    url = f"{console_url(stack)}/api/cases/{case['id']}/take"
    good = agent.headers.pop("X-CSRF-Token")
    assert agent.post(url, json={}, timeout=10).status_code == 403
    assert agent.post(url, json={}, headers={"X-CSRF-Token": "x" * 43}, timeout=10).status_code == 403
    assert agent.post(url, json={}, headers={"X-CSRF-Token": good, "Origin": "https://evil.example"},
                      timeout=10).status_code == 403
    assert agent.get(f"{console_url(stack)}/api/cases/{case['id']}", timeout=10).json()["status"] == "waiting"
    assert agent.post(url, json={}, headers={"X-CSRF-Token": good}, timeout=10).json()["status"] == "with_agent"
    act(agent, stack, case["id"], "close")


def test_repeated_failures_lock_the_staff_account(stack):
    username = f"beto{uuid.uuid4().hex[:6]}"
    create_user(username, "Beto", "otra-contraseña-segura", engine=stack.store)
    session = requests.Session()
    for _ in range(5):
        reply = session.post(f"{console_url(stack)}/login", allow_redirects=False, timeout=30,
                             data={"csrf": login_form(session, stack), "username": username, "password": "adivina"})
        assert reply.status_code == 401
    assert "bloqueada" in reply.text
    right = session.post(f"{console_url(stack)}/login", allow_redirects=False, timeout=30,
                         data={"csrf": login_form(session, stack), "username": username,
                               "password": "otra-contraseña-segura"})
    assert right.status_code == 401 and "bloqueada" in right.text  # even the right password, for 15 minutes
    with session_scope(stack.store) as s:
        assert s.execute(select(StaffUser.locked_until).where(StaffUser.username == username)).scalar() is not None


def test_the_live_queue_streams_a_change_when_a_case_opens(stack):
    agent = sign_in(stack)
    with agent.get(f"{console_url(stack)}/api/events", stream=True, timeout=30) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        before = version(engine=stack.store)
        say(stack, "pásame con un agente por favor", session=f"live-{uuid.uuid4().hex[:10]}")
        after = version(engine=stack.store)
        assert after != before
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("data:") and json.loads(line[5:])["version"] == after:
                break  # pushed without the page asking


def test_an_agents_reply_reaches_only_its_own_customer(stack):
    first, second = f"mine-{uuid.uuid4().hex[:10]}", f"other-{uuid.uuid4().hex[:10]}"
    say(stack, "quiero hablar con una persona porque no me aparece el depósito del lunes", token=token("100100"),
        session=first)
    say(stack, "quiero hablar con una persona porque la recarga automática no funciona", token=token("200200"),
        session=second)
    agent = sign_in(stack)
    mine = case_with(agent, stack, "depósito del lunes")
    secret = f"Tu folio es {uuid.uuid4().hex[:8]}"  # ASCII: the tracker stores JSON with escaped accents
    act(agent, stack, mine["id"], "reply", text=secret)
    trackers = sqlite3.connect(stack.work / "trackers.db")
    holders = {row[0] for row in trackers.execute("select sender_id from events where data like ?", (f"%{secret}%",))}
    assert len(holders) == 1 and next(iter(holders)).startswith("100100-")
    other = case_with(agent, stack, "recarga automática no funciona")
    assert secret not in json.dumps(other, ensure_ascii=False)
    for case in (mine, other):
        act(agent, stack, case["id"], "close")


def test_replies_reach_telegram_and_messenger_through_their_senders(stack, providers):
    user, psid = 7_000_000 + int(uuid.uuid4().int % 100_000), f"psid-{uuid.uuid4().hex[:10]}"
    telegram(stack, providers, user, "quiero hablar con una persona, me cobraron una llamada que no hice")
    messenger(stack, providers, psid, "quiero hablar con una persona, no me aparece el depósito de hoy")
    agent = sign_in(stack)
    for words, sent_to in (("me cobraron una llamada que no hice", f"/bot{CHANNEL_SECRETS['TELEGRAM_BOT_TOKEN']}"),
                           ("no me aparece el depósito de hoy", "/me/messages")):
        case = case_with(agent, stack, words)
        mark = providers.mark()
        act(agent, stack, case["id"], "reply", text=f"Revisando: {words}")
        sent = [r["body"] for r in providers.since(mark) if sent_to in r["path"]]
        if case["channel"] == "Telegram":
            assert {"chat_id": user, "text": f"Ana López (Soporte): Revisando: {words}"}.items() <= \
                {**sent[-1], "chat_id": int(sent[-1]["chat_id"])}.items()
        else:
            assert sent[-1]["recipient"] == {"id": psid}
            assert sent[-1]["message"]["text"] == f"Ana López (Soporte): Revisando: {words}"
            # A person's reply may come after Messenger's 24-hour window: Meta's HUMAN_AGENT tag.
            assert (sent[-1]["messaging_type"], sent[-1]["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
        act(agent, stack, case["id"], "close")


# --- bad input, forged requests, foreign hosts ---------------------------------------------

SPANISH = ("inválid", "no existe", "caracteres", "Fechas", "Elige", "Falta", "expiró", "rango")


def refused_politely(reply, statuses=range(400, 500)):
    assert reply.status_code in statuses, (reply.status_code, reply.text[:300])
    assert "Traceback" not in reply.text and "Internal Server Error" not in reply.text
    assert any(word in reply.text for word in SPANISH), reply.text[:300]
    assert reply.headers.get("Content-Security-Policy") and reply.headers.get("X-Frame-Options") == "DENY"


def test_bad_input_to_the_console_gets_a_spanish_4xx_never_a_500(stack):
    agent = sign_in(stack)
    base = console_url(stack)
    text = f"quiero hablar con una persona sobre un cobro raro {uuid.uuid4().hex[:6]} por favor"
    say(stack, text, session=f"odd-{uuid.uuid4().hex[:10]}")
    case = case_with(agent, stack, text[-25:])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    latin1 = "csrf=x&username=jos\xe9&password=contrase\xf1a".encode("latin-1")  # not UTF-8
    refused_politely(requests.post(f"{base}/login", data=latin1, headers=form, allow_redirects=False, timeout=10))
    refused_politely(agent.post(f"{base}/logout", data=latin1, headers=form, allow_redirects=False, timeout=10))
    refused_politely(agent.get(f"{base}/api/cases/9223372036854775808", timeout=10))
    refused_politely(agent.post(f"{base}/api/cases/9223372036854775808/take", json={}, timeout=10))
    json_body = {"Content-Type": "application/json"}
    for body in (b'{"text": "x", "label": []}', b"{}", b'{"text": "\\ud800", "label": "faq_add_funds"}',
                 b'{"text": "hola", "label": {"a": 1}}'):
        refused_politely(agent.post(f"{base}/api/insights/labels", data=body, headers=json_body, timeout=10))
    refused_politely(agent.post(f"{base}/api/cases/{case['id']}/reply", data=b'{"text": "hola \\udc00"}',
                                headers=json_body, timeout=10))
    for query in ("until=0001-01-05", "until=2026-13-01"):
        refused_politely(agent.get(f"{base}/api/insights?{query}", timeout=10))
    assert agent.get(f"{base}/api/cases/{case['id']}", timeout=10).json()["status"] == "waiting"  # nothing changed
    act(agent, stack, case["id"], "close")


def test_a_cross_site_logout_signs_nobody_out(stack):
    agent = sign_in(stack)
    base = console_url(stack)
    forged = agent.post(f"{base}/logout", data={"csrf": "x" * 43}, headers={"Origin": "https://evil.example"},
                        allow_redirects=False, timeout=10)
    assert forged.status_code == 403 and "prepago_staff" not in forged.headers.get("Set-Cookie", "")
    assert agent.get(f"{base}/api/cases", timeout=10).status_code == 200  # still signed in
    csrf = agent.headers["X-CSRF-Token"]
    real = agent.post(f"{base}/logout", data={"csrf": csrf}, allow_redirects=False, timeout=10)
    assert real.status_code == 303 and agent.get(f"{base}/api/cases", timeout=10).status_code == 401


def test_the_console_answers_only_its_own_host_names(stack):
    """DNS rebinding: a page on evil.example that resolves to the console must not sign in (and lock accounts)."""
    port = stack.ports.console
    rebound = requests.Session()
    page = rebound.get(f"{console_url(stack)}/login", headers={"Host": f"evil.example:{port}"}, timeout=10)
    assert page.status_code == 421 and "Host" in page.text and page.headers.get("Content-Security-Policy")
    csrf = login_form(rebound, stack)
    login = rebound.post(f"{console_url(stack)}/login", allow_redirects=False, timeout=30,
                         headers={"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"},
                         data={"csrf": csrf, "username": AGENT[0], "password": AGENT[2]})
    assert login.status_code == 421 and "prepago_staff" not in rebound.cookies
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert requests.get(f"{console_url(stack)}/login", headers={"Host": host}, timeout=10).status_code == 200


def test_only_the_agent_holding_a_case_replies_or_closes_it_and_restart_keeps_it_with_them(stack):
    username = f"caro{uuid.uuid4().hex[:6]}"
    create_user(username, "Carolina Ruiz", "contraseña-de-carolina", engine=stack.store)
    ana, carolina = sign_in(stack), sign_in(stack, username, "contraseña-de-carolina")
    session = f"held-{uuid.uuid4().hex[:10]}"
    words = f"quiero hablar con una persona, no me llegó la recarga {uuid.uuid4().hex[:6]}"
    say(stack, words, token=token("100100"), session=session)
    case = case_with(ana, stack, words[-20:])
    assert act(ana, stack, case["id"], "take").status_code == 200
    for action, body in (("reply", {"text": "Yo lo veo"}), ("close", {})):
        refused = act(carolina, stack, case["id"], action, **body)
        assert refused.status_code == 409 and "Ana López ya atiende este caso" in refused.json()["error"]
    shown = ana.get(f"{console_url(stack)}/api/cases/{case['id']}", timeout=10).json()
    assert shown["status"] == "with_agent" and "Yo lo veo" not in json.dumps(shown, ensure_ascii=False)
    # The customer's /restart does not wake the assistant: the case stays with Ana, and they are told why.
    restarted = texts(say(stack, "/restart", token=token("100100"), session=session))
    assert f"Tu caso #{case['id']} sigue con una persona de Soporte" in restarted
    assert say(stack, "¿cuánto saldo tengo?", token=token("100100"), session=session) == []  # for Ana, not the bot
    assert act(ana, stack, case["id"], "reply", text="Ya revisé tu recarga.").status_code == 200
    assert act(ana, stack, case["id"], "close").json()["status"] == "closed"
