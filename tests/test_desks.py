"""Chatwoot as the helpdesk, at the HTTP layer: a second console with PREPAGO_DESK=chatwoot
against the session's real stack, and the recording stand-in in place of Chatwoot."""
from __future__ import annotations

import json
import secrets
import subprocess
import time
import urllib.request

import pytest
import requests

from sqlalchemy import select

from bot.db import session_scope
from handoff.models import SupportCase
from tests.conftest import _free_port
from tests.test_messaging import whatsapp, whatsapp_texts
from tools.serve import child_env, console_command

pytestmark = pytest.mark.server
SECRET = secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def chatwoot_console(stack, providers):
    port = _free_port()
    env = child_env({"PREPAGO_DATABASE_URL": str(stack.store.url), "PREPAGO_DESK": "chatwoot",
                     "CHATWOOT_URL": providers.base, "CHATWOOT_ACCOUNT_ID": "3", "CHATWOOT_INBOX_ID": "7",
                     "CHATWOOT_API_TOKEN": "cw-" + secrets.token_hex(8), "CHATWOOT_WEBHOOK_SECRET": SECRET,
                     "PREPAGO_DESK_SYNC_SECONDS": "0.5"})
    log = open(stack.work / "logs" / "console-chatwoot.log", "w")
    process = subprocess.Popen(console_command(port, stack.rasa_url), env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=15)


def chatwoot_calls(providers, mark, suffix):
    return [r for r in providers.since(mark) if r["path"].startswith("/api/v1/accounts/3/") and r["path"].endswith(suffix)]


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_whatsapp_handoff_answered_from_chatwoot(stack, providers, chatwoot_console):
    phone, mark = "+5215512349911", providers.mark()
    text = "quiero hablar con alguien, la recarga automática me cobró dos veces este mes"
    answer = whatsapp_texts(stack, providers, phone, text)
    assert "una persona de Soporte" in answer and "Abrí tu caso" in answer

    # The case reaches Chatwoot: a contact, a conversation in the API inbox, the transcript as a private note.
    with session_scope(stack.store) as session:
        case_id = session.execute(select(SupportCase.id).where(SupportCase.description == text,
                                                                SupportCase.channel == "whatsapp")).scalar_one()

    def desk_ref():
        with session_scope(stack.store) as session:
            return session.get(SupportCase, case_id).desk_ref

    conversation = int(wait_for(desk_ref))
    created = [c for c in chatwoot_calls(providers, mark, "/conversations")
               if c["body"]["custom_attributes"] == {"prepago_case": case_id}]
    assert len(created) == 1 and created[0]["body"]["inbox_id"] == 7 and created[0]["body"]["status"] == "open"
    assert all(c["headers"].get("api_access_token", "").startswith("cw-") for c in chatwoot_calls(providers, mark, ""))
    contact = next(c["body"] for c in chatwoot_calls(providers, mark, "/contacts")
                   if c["body"]["identifier"] == f"prepago-caso-{case_id}")
    assert contact["name"] == f"Caso #{case_id} · WhatsApp · sin sesión" and phone not in json.dumps(contact)
    note = [m["body"] for m in chatwoot_calls(providers, mark, f"/conversations/{conversation}/messages")]
    assert note[0]["private"] is True and note[0]["message_type"] == "outgoing"
    assert "Motivo: Pidió hablar con una persona" in note[0]["content"] and text in note[0]["content"]

    # A later customer message is copied as incoming.
    reply, sent = whatsapp(stack, providers, phone, "¿ya lo vieron?")
    assert sent == []
    wait_for(lambda: [m for m in chatwoot_calls(providers, mark, f"/conversations/{conversation}/messages")
                      if m["body"] == {"content": "¿ya lo vieron?", "message_type": "incoming"}])

    # Chatwoot's webhook: the agent's reply reaches WhatsApp; a wrong secret reaches nothing.
    event = {"event": "message_created", "message_type": "outgoing", "private": False, "id": 77,
             "content": "Hola, soy Carla. Ya devolvimos el cargo duplicado.",
             "sender": {"id": 4, "name": "Carla Ruiz", "type": "user"}, "conversation": {"id": conversation}}
    assert requests.post(f"{chatwoot_console}/desk/chatwoot/{'x' * 43}", json=event, timeout=10).status_code == 403
    mark = providers.mark()
    assert requests.post(f"{chatwoot_console}/desk/chatwoot/{SECRET}", json=event, timeout=30).status_code == 200
    bodies = [r["body"]["Body"] for r in providers.since(mark) if r["path"].endswith("/Messages.json")]
    assert "Carla Ruiz (Soporte): Hola, soy Carla. Ya devolvimos el cargo duplicado." in bodies
    # Its own echo (a private note, or the customer's message coming back) is ignored.
    echo = {**event, "private": True, "content": "nota interna"}
    requests.post(f"{chatwoot_console}/desk/chatwoot/{SECRET}", json=echo, timeout=30)
    assert not [r for r in providers.since(mark) if "nota interna" in str(r["body"])]

    mark = providers.mark()
    resolved = {"event": "conversation_status_changed", "id": conversation, "status": "resolved"}
    assert requests.post(f"{chatwoot_console}/desk/chatwoot/{SECRET}", json=resolved, timeout=30).status_code == 200
    bodies = [r["body"]["Body"] for r in providers.since(mark) if r["path"].endswith("/Messages.json")]
    assert any("cerró la conversación con Soporte" in b for b in bodies)
    assert "Agregar Fondos" in whatsapp_texts(stack, providers, phone, "¿cómo agrego fondos?")
