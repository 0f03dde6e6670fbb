"""WhatsApp (Twilio), Telegram and Messenger through the real server.

Webhooks are posted in each provider's documented format; replies are sent by
the real SDKs to a local recording server (tests/fake_providers.py), and the
tests assert what the customer would receive.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import sqlite3
import uuid

import pytest
import requests
from twilio.request_validator import RequestValidator

from bot import formatting as fmt
from bot.db import session_scope
from bot.store import get_account
from tests.conftest import CHANNEL_SECRETS

pytestmark = pytest.mark.server
SID, TWILIO_TOKEN = CHANNEL_SECRETS["TWILIO_ACCOUNT_SID"], CHANNEL_SECRETS["TWILIO_AUTH_TOKEN"]


def balance(stack, account):
    with session_scope(stack.store) as session:
        return fmt.money(get_account(session, account).balance)


# --- senders in each provider's format -------------------------------------------------

def whatsapp(stack, providers, phone, text, sign=True, signature=None):
    url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
    form = {"SmsMessageSid": "SM" + uuid.uuid4().hex, "NumMedia": "0", "ProfileName": "Cliente", "WaId": phone[1:],
            "SmsStatus": "received", "Body": text, "To": "whatsapp:+14155238886", "NumSegments": "1",
            "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": SID, "From": f"whatsapp:{phone}",
            "ApiVersion": "2010-04-01"}
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = signature or RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    mark = providers.mark()
    reply = requests.post(url, data=form, headers=headers, timeout=60)
    sent = [r for r in providers.since(mark) if r["path"].endswith("/Messages.json")]
    return reply, sent


def whatsapp_texts(stack, providers, phone, text) -> str:
    reply, sent = whatsapp(stack, providers, phone, text)
    assert reply.status_code == 200, reply.text
    assert all(r["body"]["To"] == f"whatsapp:{phone}" and r["body"]["From"] == "whatsapp:+14155238886" for r in sent), sent
    return "\n".join(r["body"]["Body"] for r in sent)


_UPDATE_IDS = itertools.count(1000)  # Telegram numbers every update; retries repeat the number


def telegram(stack, providers, user_id, text=None, callback=None, secret=CHANNEL_SECRETS["TELEGRAM_WEBHOOK_SECRET"],
             raw=None):
    sender = {"id": user_id, "is_bot": False, "first_name": "Cliente", "language_code": "es"}
    chat = {"id": user_id, "first_name": "Cliente", "type": "private"}
    if callback is not None:
        update = {"update_id": next(_UPDATE_IDS), "callback_query": {"id": "cb1", "from": sender, "chat_instance": "1", "data": callback,
                                                     "message": {"message_id": 9, "date": 0, "chat": chat, "text": "x"}}}
    else:
        update = {"update_id": next(_UPDATE_IDS), "message": {"message_id": 10, "from": sender, "chat": chat, "date": 1764000000,
                                              "text": text}}
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    mark = providers.mark()
    reply = requests.post(f"{stack.rasa_url}/webhooks/telegram/webhook", data=raw or json.dumps(update),
                          headers=headers, timeout=60)
    return reply, providers.since(mark)


def messenger(stack, providers, psid, text=None, quick_reply=None, secret=CHANNEL_SECRETS["MESSENGER_APP_SECRET"],
              raw=None):
    message = {"mid": "m_" + uuid.uuid4().hex, "text": text}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    body = raw or json.dumps({"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": 1, "message": message}]}]}).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    mark = providers.mark()
    reply = requests.post(f"{stack.rasa_url}/webhooks/messenger/webhook", data=body, headers=headers, timeout=60)
    return reply, [r for r in providers.since(mark) if r["path"].endswith("/me/messages")]


def link_whatsapp(stack, providers, phone, account, pin):
    assert "Escribe tu número de cuenta" in whatsapp_texts(stack, providers, phone, "¿cuánto saldo tengo?")
    assert "PIN" in whatsapp_texts(stack, providers, phone, account)
    assert f"vinculado a la cuenta {account}" in whatsapp_texts(stack, providers, phone, pin)


# --- authentication of the webhooks ---------------------------------------------------

def test_whatsapp_requires_twilios_signature(stack, providers):
    reply, sent = whatsapp(stack, providers, "+5215500000001", "hola", sign=False)
    assert reply.status_code == 403 and sent == []
    reply, sent = whatsapp(stack, providers, "+5215500000001", "hola", signature="bm90LXRoZS1zaWduYXR1cmU=")
    assert reply.status_code == 403 and sent == []


def test_telegram_requires_the_secret_token(stack, providers):
    for secret in (None, "wrong-secret"):
        reply, sent = telegram(stack, providers, 7001, "hola", secret=secret)
        assert reply.status_code == 403 and sent == []


def test_messenger_requires_the_app_signature_and_verifies_subscriptions(stack, providers):
    for secret in (None, "not-the-app-secret"):
        reply, sent = messenger(stack, providers, "psid-0001", "hola", secret=secret)
        assert reply.status_code == 403 and sent == []
    url = f"{stack.rasa_url}/webhooks/messenger/webhook"
    ok = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": CHANNEL_SECRETS["MESSENGER_VERIFY_TOKEN"],
                                   "hub.challenge": "1158201444"}, timeout=10)
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}, timeout=10)
    assert bad.status_code == 403


def test_malformed_bodies_are_refused_without_reaching_the_assistant(stack, providers):
    reply, sent = telegram(stack, providers, 7002, raw=b"{not json")
    assert reply.status_code == 400 and sent == []
    reply, sent = messenger(stack, providers, "psid-0002", raw=b'{"object": "page"}')
    assert reply.status_code == 400 and sent == []
    url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
    form = {"Body": "hola", "From": "sms:+5215500000009"}
    signed = {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}
    assert requests.post(url, data=form, headers=signed, timeout=10).status_code == 400


# --- conversations -------------------------------------------------------------------------

def test_faq_works_without_linking(stack, providers):
    text = whatsapp_texts(stack, providers, "+5215500000010", "¿cómo deposito fondos a mi cuenta de prepago?")
    assert "Agregar Fondos" in text and "(https://portal.example.mx/#prepaid_account)" in text


def test_whatsapp_linking_flow_and_the_pin_is_never_stored(stack, providers):
    phone = "+5215500000011"
    link_whatsapp(stack, providers, phone, "100100", "4321")
    assert balance(stack, "100100") in whatsapp_texts(stack, providers, phone, "¿cuánto saldo tengo?")
    trackers = sqlite3.connect(stack.work / "trackers.db")
    stored = "\n".join(r[0] for r in trackers.execute("select data from events"))
    assert '"text": "4321"' not in stored and "4321\"" not in stored
    for log in stack.log_dir.glob("*.log"):
        assert "4321" not in log.read_text(errors="replace")


def test_wrong_pins_lock_linking_for_a_while(stack, providers):
    user = 7010
    _, sent = telegram(stack, providers, user, "mi saldo")
    assert "número de cuenta" in sent[-1]["body"]["text"]
    # An account that does not exist: its count locks all the same, and the
    # demo accounts stay usable for the other tests of this shared stack.
    for attempt in range(5):
        telegram(stack, providers, user, "555555")
        _, sent = telegram(stack, providers, user, "0000")
    assert "bloqueada" in sent[-1]["body"]["text"]
    _, sent = telegram(stack, providers, user, "mi saldo")
    assert "bloqueada" in sent[-1]["body"]["text"] and "MXN" not in sent[-1]["body"]["text"]


def test_unlinking(stack, providers):
    phone = "+5215500000012"
    link_whatsapp(stack, providers, phone, "200200", "8765")
    assert "desvinculé este chat de la cuenta 200200" in whatsapp_texts(stack, providers, phone, "desvincular")
    assert "Escribe tu número de cuenta" in whatsapp_texts(stack, providers, phone, "¿cuánto saldo tengo?")
    whatsapp_texts(stack, providers, phone, "cancelar")


def test_two_linked_identities_never_see_each_others_data(stack, providers):
    phone, psid = "+5215500000013", "psid-0013"
    link_whatsapp(stack, providers, phone, "100100", "4321")
    for text, expect in (("mi saldo", "número de cuenta"), ("200200", "PIN"), ("8765", "vinculado a la cuenta 200200")):
        _, sent = messenger(stack, providers, psid, text)
        assert expect in sent[-1]["body"]["message"]["text"]
    wa = whatsapp_texts(stack, providers, phone, "¿cuánto saldo tengo?")
    _, sent = messenger(stack, providers, psid, "¿cuánto saldo tengo?")
    fb = "\n".join(r["body"]["message"]["text"] for r in sent)
    assert balance(stack, "100100") in wa and balance(stack, "200200") not in wa
    assert balance(stack, "200200") in fb and balance(stack, "100100") not in fb


def test_whatsapp_suggestions_are_numbered_options(stack, providers):
    phone = "+5215500000014"
    text = whatsapp_texts(stack, providers, phone, "ayuda")
    assert "1. Consultar mi saldo" in text and "Responde con el número de la opción" in text
    # "1" is "Consultar mi saldo": this number is not linked yet, so linking starts.
    assert "Escribe tu número de cuenta" in whatsapp_texts(stack, providers, phone, "1")
    assert "Cancelé la vinculación" in whatsapp_texts(stack, providers, phone, "cancelar")


def test_telegram_inline_keyboard_and_callback(stack, providers):
    _, sent = telegram(stack, providers, 7020, "ayuda")
    keyboard = json.loads(sent[-1]["body"]["reply_markup"]) if isinstance(sent[-1]["body"].get("reply_markup"), str) \
        else sent[-1]["body"]["reply_markup"]
    payloads = [row[0]["callback_data"] for row in keyboard["inline_keyboard"]]
    assert "/check_balance" in payloads
    _, sent = telegram(stack, providers, 7020, callback='/faq_add_funds')
    paths = [r["path"] for r in sent]
    assert any(p.endswith("/answerCallbackQuery") for p in paths)
    assert any("Agregar Fondos" in (r["body"].get("text") or "") for r in sent)


def test_messenger_quick_replies(stack, providers):
    _, sent = messenger(stack, providers, "psid-0020", "ayuda")
    quick = sent[-1]["body"]["message"]["quick_replies"]
    assert {"content_type": "text", "title": "Consultar mi saldo", "payload": "/check_balance"} in quick
    assert all(len(q["title"]) <= 20 for q in quick)
    _, sent = messenger(stack, providers, "psid-0020", "Agregar fondos", quick_reply='/faq_add_funds')
    assert any("Agregar Fondos" in r["body"]["message"]["text"] for r in sent)
    assert sent[-1]["query"]["access_token"] == [CHANNEL_SECRETS["MESSENGER_PAGE_ACCESS_TOKEN"]]


def _forget_link_guards(stack):
    from sqlalchemy import text

    with stack.store.begin() as connection:
        connection.execute(text("DELETE FROM link_guards"))


def test_telegram_groups_get_no_linking_and_no_account_data(stack, providers):
    group = {"id": -100777, "title": "Oficina", "type": "supergroup"}
    sender = {"id": 7300, "is_bot": False, "first_name": "Cliente"}
    for text in ("¿cuánto saldo tengo?", "100100", "4321"):
        update = {"update_id": next(_UPDATE_IDS), "message": {"message_id": 11, "from": sender, "chat": group, "date": 1, "text": text}}
        reply, sent = telegram(stack, providers, 7300, raw=json.dumps(update))
        assert reply.status_code == 200
        said = "\n".join(r["body"].get("text") or "" for r in sent)
        assert "chats privados" in said
        assert "número de cuenta" not in said and "PIN" not in said and "MXN" not in said
    _, sent = telegram(stack, providers, 7300, "¿cuánto saldo tengo?")  # the same person, privately
    assert "número de cuenta" in sent[-1]["body"]["text"]
    telegram(stack, providers, 7300, "cancelar")


def test_a_lock_alerts_the_account_holder_on_their_linked_chat(stack, providers):
    holder, attacker = 7400, "+5215500000099"
    for text in ("mi saldo", "200200", "8765"):
        telegram(stack, providers, holder, text)
    try:
        mark = providers.mark()
        whatsapp_texts(stack, providers, attacker, "mi saldo")
        for _ in range(5):
            whatsapp_texts(stack, providers, attacker, "200200")
            last = whatsapp_texts(stack, providers, attacker, "0000")
        assert "bloqueada" in last
        alerts = [r for r in providers.since(mark) if r["path"].endswith("/sendMessage")]
        assert len(alerts) == 1 and alerts[0]["body"]["chat_id"] in (holder, str(holder))
        assert "Aviso de seguridad" in alerts[0]["body"]["text"] and "200200" in alerts[0]["body"]["text"]
    finally:
        _forget_link_guards(stack)
        telegram(stack, providers, holder, "desvincular")


def test_a_retried_delivery_is_answered_once(stack, providers):
    sender = {"id": 7500, "is_bot": False, "first_name": "Cliente"}
    update = json.dumps({"update_id": 987654, "message": {"message_id": 1, "from": sender, "date": 1, "text": "hola",
                                                          "chat": {"id": 7500, "type": "private"}}})
    first = telegram(stack, providers, 7500, raw=update)
    retry = telegram(stack, providers, 7500, raw=update)  # Telegram retries with the same update_id
    assert first[0].status_code == retry[0].status_code == 200
    assert [r for r in first[1] if r["path"].endswith("/sendMessage")] and not retry[1]
    form_sid = "SM" + uuid.uuid4().hex
    url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
    form = {"MessageSid": form_sid, "From": "whatsapp:+5215500000077", "To": "whatsapp:+14155238886", "Body": "hola",
            "AccountSid": SID, "NumMedia": "0"}
    headers = {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}
    sends = []
    for _ in range(2):
        mark = providers.mark()
        assert requests.post(url, data=form, headers=headers, timeout=60).status_code == 200
        sends.append([r for r in providers.since(mark) if r["path"].endswith("/Messages.json")])
    assert sends[0] and not sends[1]


@pytest.mark.parametrize("body", [
    {"update_id": 3, "message": {"from": "x", "chat": 5, "text": "hola"}},
    {"update_id": "x", "message": {"from": {"id": 1}, "chat": {"id": 1, "type": "private"}, "text": "hola"}},
    [1, 2, 3],
])
def test_signed_but_malformed_telegram_bodies_get_400(stack, providers, body):
    reply, sent = telegram(stack, providers, 1, raw=json.dumps(body))
    assert reply.status_code == 400 and not sent


@pytest.mark.parametrize("body", [{"object": "page", "entry": ["x"]}, {"object": "page", "entry": [{"messaging": [5]}]},
                                  {"object": "page"}])
def test_signed_but_malformed_messenger_bodies_get_400(stack, providers, body):
    reply, sent = messenger(stack, providers, "psid-x", raw=json.dumps(body).encode())
    assert reply.status_code == 400 and not sent
