"""Proactive alerts: opting in through the real server, triggers on the real store, the worker's
outbox through the providers' real SDKs and the recording stand-ins, kill -9 and two workers."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from alerts import outbox, subscriptions, triggers
from alerts.models import AlertOutbox, AlertStatus
from bot.db import engine_for, session_scope
from bot.identity import issue_token
from bot.config import settings
from bot.models import Card, EntryKind, utcnow
from bot.store import get_account, record_entry, record_recharge_failure
from tests.conftest import ALERT_SETTINGS, CHANNEL_SECRETS, PROJECT_ROOT
from tests.test_messaging import link_whatsapp, whatsapp_texts
from tests.test_server import say, texts, token

TELEGRAM_SEND = f"/bot{CHANNEL_SECRETS['TELEGRAM_BOT_TOKEN']}/sendMessage"


def wait_for(condition, timeout=20.0, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(step)
    raise AssertionError("timed out waiting")


def move(engine, account, amount, kind=EntryKind.CALL_CHARGE):
    with session_scope(engine) as session:
        extension = "101" if kind == EntryKind.CALL_CHARGE else None
        return record_entry(session, account, kind=kind, amount=Decimal(amount), occurred_at=utcnow(),
                            extension_number=extension, destination_country="Colombia" if extension else None,
                            duration_seconds=60 if extension else None).balance_after


def balance(engine, account) -> Decimal:
    with session_scope(engine) as session:
        return get_account(session, account).balance


# --- through the real server and the stack's own worker ------------------------------------

@pytest.mark.server
def test_opting_in_on_whatsapp_gives_one_template_alert_per_crossing(stack, providers):
    phone, account = "+5215512347788", "200200"
    link_whatsapp(stack, providers, phone, account, "8765")
    move(stack.store, account, "1000.00", EntryKind.DEPOSIT)
    threshold = (balance(stack.store, account) - Decimal("50")).quantize(Decimal("1"))
    confirmed = whatsapp_texts(stack, providers, phone, f"avísame cuando mi saldo baje de ${threshold}")
    assert f"te aviso por WhatsApp cuando tu saldo baje de ${threshold:,.2f} MXN" in confirmed
    assert f"${threshold:,.2f} MXN" in whatsapp_texts(stack, providers, phone, "¿qué avisos tengo?")

    def templates(mark):
        return [r["body"] for r in providers.since(mark)
                if r["path"].endswith("/Messages.json") and r["body"].get("To") == f"whatsapp:{phone}"
                and "ContentSid" in r["body"]]

    mark = providers.mark()
    after = move(stack.store, account, "-60.00")  # below the threshold
    sent = wait_for(lambda: templates(mark))
    assert len(sent) == 1 and "Body" not in sent[0]
    assert sent[0]["ContentSid"] == ALERT_SETTINGS["PREPAGO_WA_TEMPLATE_LOW_BALANCE"]
    assert json.loads(sent[0]["ContentVariables"]) == {"1": f"${after:,.2f} MXN", "2": f"${threshold:,.2f} MXN"}

    move(stack.store, account, "-5.00")  # still low: no second alert
    time.sleep(2)
    assert len(templates(mark)) == 1
    mark = providers.mark()
    move(stack.store, account, "200.00", EntryKind.DEPOSIT)  # back above: armed again
    move(stack.store, account, "-200.00")  # a new crossing
    assert len(wait_for(lambda: templates(mark))) == 1
    assert "ya no te enviaré avisos" in whatsapp_texts(stack, providers, phone, "ya no me avises")
    whatsapp_texts(stack, providers, phone, "desvincular")  # other tests' security alerts go to linked chats


@pytest.fixture(scope="module")
def linked_phone(stack, providers):
    phone = "+5215512347701"
    link_whatsapp(stack, providers, phone, "100100", "4321")
    yield phone
    whatsapp_texts(stack, providers, phone, "desvincular")


@pytest.mark.server
@pytest.mark.parametrize("text, expected", [
    ("avísame cuando mi saldo baje de $0", "mayor que cero"),
    ("avísame cuando mi saldo baje de -50 pesos", "mayor que cero"),
    ("avísame cuando mi saldo baje de $1,000,000", "entre $10.00 MXN y $50,000.00 MXN"),
    ("avísame cuando mi saldo baje de $150.555", "dos decimales"),
    ("avísame cuando se me esté acabando el saldo", "¿De cuánto?"),
])
def test_thresholds_that_cannot_be_used_get_a_clear_answer(stack, providers, linked_phone, text, expected):
    assert expected in whatsapp_texts(stack, providers, linked_phone, text)


@pytest.mark.server
def test_alerts_need_an_account_and_a_channel_that_can_reach_the_customer(stack):
    anonymous = texts(say(stack, "avísame cuando mi saldo baje de $150", session=f"alerts-{uuid.uuid4().hex[:8]}"))
    assert "necesito saber que eres tú" in anonymous
    api = texts(say(stack, "avísame cuando mi saldo baje de $150", token=token("100100"),
                    session=f"alerts-{uuid.uuid4().hex[:8]}"))
    assert api == subscriptions.NO_PUSH


@pytest.mark.server
def test_the_widget_shows_a_waiting_alert_at_the_next_visit(stack):
    import socketio

    account = "100100"
    subscriptions.subscribe(account, "prepago_socketio", "", balance(stack.store, account) - Decimal("1"),
                            engine=stack.store)
    move(stack.store, account, "-5.00")

    def waiting():
        with session_scope(stack.store) as s:
            return s.execute(sa.select(AlertOutbox.id).where(AlertOutbox.account == account,
                                                             AlertOutbox.status == AlertStatus.WAITING_VISIT)).all()

    wait_for(waiting)

    async def visit() -> list[dict]:
        seen: list[dict] = []
        client = socketio.AsyncClient()
        client.on("bot_uttered", lambda data: seen.append(data))
        await client.connect(stack.rasa_url, socketio_path="/socket.io", transports=["websocket"],
                             auth={"token": issue_token(settings(), account), "session": uuid.uuid4().hex})
        await client.emit("session_request", {})
        await asyncio.sleep(1.5)
        await client.disconnect()
        return seen

    first = asyncio.run(visit())
    assert [m for m in first if m.get("alert") and "tu saldo bajó a" in m["text"]]
    assert not [m for m in asyncio.run(visit()) if m.get("alert")]  # shown once
    subscriptions.unsubscribe(account, "prepago_socketio", "", engine=stack.store)


# --- triggers and the outbox on a store of their own ----------------------------------------

def subscribe_telegram(engine, account, chat, threshold):
    return subscriptions.subscribe(account, "telegram", str(chat), Decimal(threshold), engine=engine)


def alerts_of(engine, account=None):
    with session_scope(engine) as s:
        query = sa.select(AlertOutbox).order_by(AlertOutbox.id)
        if account:
            query = query.where(AlertOutbox.account == account)
        return [(a.kind, a.status, json.loads(a.variables), a.next_attempt_at) for a in s.execute(query).scalars()]


def test_no_opt_in_no_alert_and_history_never_alerts(engine):
    triggers.scan(engine=engine)  # a new deployment starts from now
    move(engine, "100100", "-700.00")
    triggers.scan(engine=engine)
    assert alerts_of(engine) == []


def test_quiet_hours_delay_an_alert_to_the_morning(engine, monkeypatch):
    monkeypatch.setenv("PREPAGO_ALERT_QUIET_HOURS", "22:00-08:00")
    triggers.scan(engine=engine)
    subscribe_telegram(engine, "100100", 501, balance(engine, "100100") - 1)
    move(engine, "100100", "-5.00")
    night = datetime(2026, 11, 25, 23, 30, tzinfo=ZoneInfo("America/Mexico_City")).astimezone(timezone.utc)
    triggers.scan(now=night, engine=engine)
    [(kind, status, _, due)] = alerts_of(engine)
    assert kind == "low_balance" and status == AlertStatus.PENDING
    assert due == datetime(2026, 11, 26, 8, 0, tzinfo=ZoneInfo("America/Mexico_City"))
    assert outbox.claim(10, now=night + timedelta(hours=1), engine=engine) == []  # delayed, not dropped
    assert len(outbox.claim(10, now=due + timedelta(minutes=1), engine=engine)) == 1


def test_a_refused_recharge_and_a_card_about_to_expire_alert_once(engine, monkeypatch):
    monkeypatch.setenv("PREPAGO_ALERT_QUIET_HOURS", "00:00-00:00")
    triggers.scan(engine=engine)
    subscribe_telegram(engine, "100100", 502, "10")
    with session_scope(engine) as s:
        record_recharge_failure(s, "100100", amount=Decimal("500.00"), occurred_at=utcnow(),
                                reason="tarjeta rechazada por el banco")
        card = s.execute(sa.select(Card).join(Card.account).where(Card.account.has(number="100100"))).scalar_one()
        today = datetime.now(ZoneInfo("America/Mexico_City")).date()
        card.exp_month, card.exp_year = today.month, today.year  # expires at the end of this month
    triggers.scan(engine=engine)
    triggers.scan(engine=engine)  # again: nothing new
    kinds = {kind: variables for kind, _, variables, _ in alerts_of(engine)}
    assert set(kinds) == {"recharge_failed", "card_expiring"}
    assert kinds["recharge_failed"]["reason"] == "tarjeta rechazada por el banco"
    assert kinds["recharge_failed"]["amount"] == "$500.00 MXN"
    assert kinds["card_expiring"]["card"] == "Visa terminada en 4242"


def test_a_send_that_keeps_failing_backs_off_then_is_given_up_with_the_reason(engine):
    # 09:00 in Mexico City, outside the default quiet hours: this test is about the back-off.
    now = utcnow().astimezone(ZoneInfo("America/Mexico_City")).replace(hour=9, minute=0, second=0, microsecond=0)
    triggers.scan(now=now, engine=engine)
    subscribe_telegram(engine, "100100", 503, balance(engine, "100100") - 1)
    move(engine, "100100", "-5.00")
    triggers.scan(now=now, engine=engine)
    for attempt in range(outbox.MAX_ATTEMPTS):
        [claimed] = outbox.claim(1, now=now, engine=engine)
        state = outbox.retry(claimed, "Telegram no respondió", now=now, engine=engine)
        now += timedelta(hours=2)
    assert state == AlertStatus.FAILED
    with session_scope(engine) as s:
        row = s.execute(sa.select(AlertOutbox)).scalar_one()
        assert row.last_error == "Telegram no respondió" and row.attempts == outbox.MAX_ATTEMPTS


# --- the worker as a process: kill -9, and two at once on PostgreSQL ---------------------------

def worker(db_url, providers, **env):
    return subprocess.Popen(
        [sys.executable, "-m", "tools.alert_worker", "--idle", "0.2"], cwd=PROJECT_ROOT, start_new_session=True,
        env={**os.environ, **CHANNEL_SECRETS, "PREPAGO_DATABASE_URL": db_url,
             "PREPAGO_TELEGRAM_API_BASE": providers.base, "PREPAGO_ALERT_QUIET_HOURS": "00:00-00:00", **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def telegram_chats(providers, mark, chats) -> list[int]:
    return [int(r["body"]["chat_id"]) for r in providers.since(mark)
            if r["path"] == TELEGRAM_SEND and int(r["body"]["chat_id"]) in chats]


def test_a_worker_killed_between_claim_and_send_loses_nothing_and_sends_once(db_url, engine, providers):
    triggers.scan(engine=engine)
    chat = 7_100_000 + int(uuid.uuid4().int % 1000)
    subscribe_telegram(engine, "100100", chat, balance(engine, "100100") - 1)
    move(engine, "100100", "-5.00")
    mark = providers.mark()
    first = worker(db_url, providers, PREPAGO_ALERTS_HOLD_AFTER_CLAIM="60", PREPAGO_ALERTS_LEASE_SECONDS="2")
    try:
        wait_for(lambda: [a for a in alerts_of(engine) if a[1] == AlertStatus.SENDING], timeout=60)
        os.killpg(first.pid, signal.SIGKILL)  # claimed, not sent
    finally:
        first.wait(timeout=10)
    assert telegram_chats(providers, mark, {chat}) == []
    second = worker(db_url, providers)
    try:
        wait_for(lambda: telegram_chats(providers, mark, {chat}), timeout=60)
        time.sleep(1.5)
        assert telegram_chats(providers, mark, {chat}) == [chat]  # once
        assert [a[1] for a in alerts_of(engine)] == [AlertStatus.SENT]
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=15)


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("PREPAGO_TEST_POSTGRES_URL"), reason="set PREPAGO_TEST_POSTGRES_URL")
def test_two_workers_on_postgresql_never_send_the_same_alert(providers):
    from sqlalchemy.engine import make_url

    from tools.cluster import drop_database, ensure_database
    from tools.seed import seed_demo

    url = make_url(os.environ["PREPAGO_TEST_POSTGRES_URL"]).set(database="prepago_alerts_test")
    url = url.render_as_string(hide_password=False)
    drop_database(url)
    ensure_database(url)
    engine = engine_for(url)
    try:
        seed_demo(engine, datetime.now(ZoneInfo("America/Mexico_City")).date())
        triggers.scan(engine=engine)
        chats = {7_200_000 + i for i in range(80)}
        threshold = balance(engine, "100100") - 1
        for chat in chats:
            subscribe_telegram(engine, "100100", chat, threshold)
        move(engine, "100100", "-5.00")  # one crossing, 80 subscriptions: 80 alerts
        mark = providers.mark()
        workers = [worker(url, providers) for _ in range(2)]
        try:
            wait_for(lambda: len(telegram_chats(providers, mark, chats)) >= 80, timeout=90)
            time.sleep(1.5)
        finally:
            for w in workers:
                os.killpg(w.pid, signal.SIGTERM)
                w.wait(timeout=15)
        sent = telegram_chats(providers, mark, chats)
        assert sorted(sent) == sorted(chats)  # every alert, each exactly once
        assert {a[1] for a in alerts_of(engine)} == {AlertStatus.SENT}
    finally:
        engine.dispose()
        drop_database(url)


# --- each provider's rules, through its real SDK -------------------------------------------------

def test_each_provider_gets_an_alert_in_its_own_allowed_form(providers, monkeypatch):
    from alerts.messages import PermanentFailure
    from channels.messenger import SecureMessengerInput
    from channels.whatsapp import TwilioWhatsAppInput

    variables = {"balance": "$120.00 MXN", "threshold": "$150.00 MXN"}
    messenger = SecureMessengerInput(CHANNEL_SECRETS["MESSENGER_PAGE_ACCESS_TOKEN"], "", "", providers.base)
    whatsapp = TwilioWhatsAppInput(CHANNEL_SECRETS["TWILIO_ACCOUNT_SID"], CHANNEL_SECRETS["TWILIO_AUTH_TOKEN"],
                                   "+14155238886", api_base=providers.base)
    mark = providers.mark()
    asyncio.run(messenger.send_alert("psid-alert-1", "low_balance", variables))
    [sent] = [r["body"] for r in providers.since(mark) if r["path"].endswith("/me/messages")]
    # Outside Messenger's 24-hour window only a tagged message may go: a change to the customer's account.
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "ACCOUNT_UPDATE")
    assert "tu saldo bajó a $120.00 MXN" in sent["message"]["text"]
    monkeypatch.delenv("PREPAGO_WA_TEMPLATE_LOW_BALANCE", raising=False)
    with pytest.raises(PermanentFailure, match="plantilla aprobada"):  # never a free-form body instead
        asyncio.run(whatsapp.send_alert("+5215500001111", "low_balance", variables))
    assert not [r for r in providers.since(mark) if r["path"].endswith("/Messages.json")]
