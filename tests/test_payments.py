"""Adding funds, auto-recharge settings and the card on file: the payments room with the real
store, the real Stripe SDK and the Stripe stand-in (tools/stripe_standin.py via tests/fake_providers.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from decimal import Decimal

import pytest
import requests
import time_machine

from bot.db import session_scope
from bot.models import LedgerEntry, utcnow
from bot.store import get_account
from payments import auto_recharge, cards, confirmation, funds, provider
from payments.audit import operations
from payments.funds import Actor
from payments.models import Operation, Status
from payments.reconcile import reconcile
from sqlalchemy import func, select

CUSTOMER = "cus_demo100100"


@pytest.fixture
def stripe_env(providers, db_url, monkeypatch):
    monkeypatch.setenv("PREPAGO_STRIPE_API_BASE", providers.base)
    monkeypatch.setenv("PREPAGO_STRIPE_TIMEOUT", "1")
    providers.stripe.reset()
    return providers.stripe


def actor(conversation="conv-pay-1", account="100100"):
    return Actor(account, f"web:{account} (billing)", "prepago", conversation)


def balance(engine, account="100100") -> Decimal:
    with session_scope(engine) as session:
        return get_account(session, account).balance


def deposits_since(engine, mark) -> int:
    with session_scope(engine) as session:
        return session.execute(select(func.count(LedgerEntry.id)).where(LedgerEntry.id > mark)).scalar_one()


def last_entry(engine) -> int:
    with session_scope(engine) as session:
        return session.execute(select(func.max(LedgerEntry.id))).scalar_one()


def statuses(engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return [(o.status.value, o.reason) for o in session.execute(select(Operation).order_by(Operation.id)).scalars()]


def test_confirmed_amount_is_charged_once_and_deposited_with_a_receipt(stripe_env, engine):
    before, mark = balance(engine), last_entry(engine)
    proposal = funds.propose(actor(), "recárgale $500 al prepago", turn="t1", engine=engine)
    assert "$500.00 MXN" in proposal.text and "Visa terminada en 4242" in proposal.text
    assert [b["payload"] for b in proposal.buttons] == ["/affirm", "/deny"]
    assert stripe_env.charges(CUSTOMER) == [] and deposits_since(engine, mark) == 0  # nothing before the «sí»
    done = confirmation.confirm(actor(), engine=engine)
    assert "Folio: **PP-" in done.text and "$500.00 MXN" in done.text
    assert balance(engine) == before + Decimal("500.00")
    assert f"$" in done.text and f"{before + 500:,.2f}" in done.text
    charged = stripe_env.charges(CUSTOMER)
    assert len(charged) == 1 and charged[0]["amount"] == 50000 and charged[0]["currency"] == "mxn"
    assert charged[0]["payment_method"] == "pm_demo100100"
    again = confirmation.confirm(actor(), engine=engine)  # the «sí» sent twice
    assert "ya quedó hecha" in again.text
    assert len(stripe_env.charges(CUSTOMER)) == 1 and deposits_since(engine, mark) == 1
    line = operations("100100", engine=engine)[0]
    assert (line.status, line.who, line.channel, line.amount) == ("hecha", "web:100100 (billing)", "prepago",
                                                                 Decimal("500.00"))
    assert line.reference == charged[0]["id"]


def test_two_confirmations_at_the_same_instant_charge_once(stripe_env, engine):
    mark = last_entry(engine)
    funds.propose(actor("conv-race"), "agrega 1000 pesos", turn="t1", engine=engine)
    barrier, answers = threading.Barrier(4), []

    def confirm():
        barrier.wait()
        answers.append(confirmation.confirm(actor("conv-race"), engine=engine).text)

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum("Folio" in a for a in answers) == 1, answers
    assert len(stripe_env.charges(CUSTOMER)) == 1 and deposits_since(engine, mark) == 1


@pytest.mark.parametrize("outcome", ["lost", "lost_all"])
def test_a_lost_answer_is_found_by_its_idempotency_key_and_never_charged_twice(stripe_env, engine, outcome):
    before, mark = balance(engine), last_entry(engine)
    stripe_env.plan(CUSTOMER, outcome)
    funds.propose(actor(), "recárgale 200", turn="t-lost", engine=engine)
    done = confirmation.confirm(actor(), engine=engine)
    assert "Folio" in done.text, done.text
    assert len(stripe_env.charges(CUSTOMER)) == 1 and deposits_since(engine, mark) == 1
    assert balance(engine) == before + 200
    posts = [r for r in stripe_env.requests if r["method"] == "POST" and r["path"] == "/v1/payment_intents"]
    assert len(posts) >= 2 and len({r["key"] for r in posts}) == 1  # retried, always with the same key


@pytest.mark.parametrize("outcome, reason, says", [
    ("card_declined", "card_declined", "rechazó"),
    ("expired_card", "expired_card", "vencida"),
    ("authentication_required", "authentication_required", "3-D Secure"),
    ("timeout", "timeout", "No pude confirmar"),
    ("error_500", "provider_error", "No pude confirmar"),
])
def test_a_failed_charge_deposits_nothing_says_why_and_is_audited(stripe_env, engine, outcome, reason, says):
    before, mark = balance(engine), last_entry(engine)
    stripe_env.plan(CUSTOMER, outcome)
    funds.propose(actor(), "$500", turn="t-fail", engine=engine)
    answer = confirmation.confirm(actor(), engine=engine)
    assert says in answer.text and "no" in answer.text.lower()
    assert balance(engine) == before and deposits_since(engine, mark) == 0
    assert stripe_env.charges(CUSTOMER) == []
    assert statuses(engine)[-1][1] == reason
    assert operations("100100", engine=engine)[0].status != "hecha"
    # Nothing is left pending: the next operation of the account may go ahead.
    funds.propose(actor(), "$200", turn="t-next", engine=engine)
    assert "Folio" in confirmation.confirm(actor(), engine=engine).text


def test_amounts_outside_the_menu_the_daily_limit_and_no_are_refused(stripe_env, engine, monkeypatch):
    assert "$200.00 MXN, $500.00 MXN, $1,000.00 MXN, $2,000.00 MXN" in funds.propose(
        actor(), "recárgale $350", turn="a", engine=engine).text
    menu = funds.propose(actor(), "quiero agregar fondos", turn="b", engine=engine)
    assert len(menu.buttons) == 4 and menu.buttons[1]["payload"] == '/add_funds{"amount": "500"}'
    funds.propose(actor(), "$500", turn="c", engine=engine)
    assert "no hice ningún cargo" in confirmation.cancel(actor(), engine=engine).text
    assert "No tengo ninguna operación" in confirmation.confirm(actor(), engine=engine).text
    monkeypatch.setenv("PREPAGO_ADD_FUNDS_DAILY_LIMIT", "2500")
    funds.propose(actor(), "$2,000", turn="d", engine=engine)
    confirmation.confirm(actor(), engine=engine)
    refused = funds.propose(actor(), "$1,000", turn="e", engine=engine)
    assert "hasta $2,500.00 MXN al día" in refused.text
    assert stripe_env.charges(CUSTOMER).__len__() == 1
    assert statuses(engine)[-1] == ("refused", "daily_limit")


def test_a_confirmation_expires(stripe_env, engine):
    funds.propose(actor(), "$500", turn="x", engine=engine)
    later = utcnow() + timedelta(minutes=11)
    assert "expiró" in confirmation.confirm(actor(), now=later, engine=engine).text
    assert stripe_env.charges(CUSTOMER) == []


def test_reconciliation_settles_a_charge_whose_answer_was_lost_and_lists_strays(stripe_env, engine):
    mark = last_entry(engine)
    funds.propose(actor(), "$500", turn="r1", engine=engine)
    operation_id, _ = funds.claim(actor(), utcnow(), engine)
    with session_scope(engine) as session:
        key = session.get(Operation, operation_id).idempotency_key
    # The provider charged, but this process died before writing anything.
    provider.charge(CUSTOMER, "pm_demo100100", Decimal("500.00"), key, {"idempotency_key": key, "account": "100100"})
    with session_scope(engine) as session:
        session.get(Operation, operation_id).status = Status.UNVERIFIED
    provider.charge(CUSTOMER, "pm_demo100100", Decimal("200.00"), "stray-key-000001", {"account": "100100"})
    found = reconcile(engine=engine)
    kinds = sorted(f.kind for f in found)
    assert kinds == ["charge_without_operation", "settled"], found
    assert deposits_since(engine, mark) == 1
    assert [f.kind for f in reconcile(engine=engine)] == ["charge_without_operation"]  # settled once only


@pytest.mark.parametrize("text, reason", [
    ("que se recargue $1,000 cuando baje de $50", "entre $100.00 MXN y $1,000.00 MXN"),
    ("que se recargue $300 cuando baje de $500", "tiene que ser mayor"),
    ("que se recargue $5,000 cuando baje de $300", "de $200.00 MXN a $2,000.00 MXN"),
    ("que se recargue mucho cuando baje poquito", "No entendí los montos"),
])
def test_auto_recharge_bad_values_get_a_reason(stripe_env, engine, text, reason):
    answer = auto_recharge.propose(actor(), text, turn="ar", engine=engine)
    assert reason in answer.text and not answer.buttons


def test_auto_recharge_good_values_are_confirmed_stored_and_echoed(stripe_env, engine):
    proposal = auto_recharge.propose(actor(), "que se recargue $1,000 cuando baje de $300", turn="ar1", engine=engine)
    assert "$300.00 MXN" in proposal.text and "$1,000.00 MXN" in proposal.text and proposal.buttons
    done = confirmation.confirm(actor(), engine=engine)
    assert "guardé" in done.text and "**activada**" in done.text and "$1,000.00 MXN" in done.text
    with session_scope(engine) as session:
        settings = get_account(session, "100100").auto_recharge
        assert (settings.enabled, settings.threshold, settings.amount) == (True, Decimal("300.00"), Decimal("1000.00"))
    auto_recharge.propose(actor(), "desactiva la recarga automática", turn="ar2", engine=engine)
    assert "**desactivada**" in confirmation.confirm(actor(), engine=engine).text
    with session_scope(engine) as session:
        assert get_account(session, "100100").auto_recharge.enabled is False
    assert stripe_env.charges(CUSTOMER) == []  # settings move no money


def _submit(url, number="5555555555554444"):
    return requests.post(url, data={"number": number, "exp_month": "12", "exp_year": "2031"}, timeout=10)


def test_the_card_link_works_once_and_puts_the_new_card_on_file(stripe_env, engine):
    answer = cards.request_link(actor(), turn="c1", engine=engine)
    url = answer.text.split("](", 1)[1].split(")", 1)[0]
    assert url.startswith(stripe_env.base + "/pay/cs_test_") and "una sola vez" in answer.text
    assert "Todavía no veo" in cards.check(actor(), engine=engine).text
    assert requests.get(url, timeout=10).status_code == 200
    assert _submit(url).status_code == 200
    done = cards.check(actor(), engine=engine)
    assert "Mastercard terminada en 4444" in done.text and "12/2031" in done.text
    with session_scope(engine) as session:
        card = get_account(session, "100100").card
        assert (card.brand, card.last4) == ("Mastercard", "4444")
    assert _submit(url, "4111111111111111").status_code == 410  # once only
    assert "ya se usó" in cards.check(actor(), engine=engine).text
    # The next charge goes to the new card.
    funds.propose(actor(), "$200", turn="c2", engine=engine)
    assert "Mastercard terminada en 4444" in confirmation.confirm(actor(), engine=engine).text
    assert stripe_env.charges(CUSTOMER)[-1]["payment_method"] != "pm_demo100100"


def test_the_card_link_expires(stripe_env, engine):
    answer = cards.request_link(actor(), turn="c3", engine=engine)
    url = answer.text.split("](", 1)[1].split(")", 1)[0]
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=True):
        assert _submit(url).status_code == 410
        assert "venció" in cards.check(actor(), engine=engine).text
    with session_scope(engine) as session:
        assert get_account(session, "100100").card.last4 == "4242"


def test_insights_count_operations_successes_and_declines_per_day(stripe_env, engine):
    stripe_env.plan(CUSTOMER, "succeed", "card_declined")
    for turn in ("i1", "i2"):
        funds.propose(actor(), "$200", turn=turn, engine=engine)
        confirmation.confirm(actor(), engine=engine)
    funds.propose(actor(), "$500", turn="i3", engine=engine)  # proposed, never confirmed: not an operation
    from payments.audit import summary

    now = utcnow()
    figures = summary(now - timedelta(days=1), now + timedelta(days=1), engine)
    assert (figures["operations"], figures["succeeded"], figures["declined"], figures["success_rate"]) == (2, 1, 1, 0.5)
    assert sum(d["operations"] for d in figures["days"]) == 2


POSTGRES_URL = os.environ.get("PREPAGO_TEST_POSTGRES_URL")
# Its own database: never the cluster tests' one.
PAYMENTS_DATABASE = os.environ.get("PREPAGO_PAYMENTS_TEST_DATABASE", "prepago_payments_test")

CONFIRM_IN_ANOTHER_PROCESS = """
import os, sys, time
from bot.db import engine_for
from payments import confirmation
from payments.funds import Actor
engine = engine_for(os.environ["PREPAGO_DATABASE_URL"])
engine.connect().close()
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.001)
print(confirmation.confirm(Actor("100100", "web:100100 (billing)", "prepago", "conv-pg-race"), engine=engine).text)
"""


def test_two_processes_confirming_at_the_same_instant_on_postgresql_charge_once(stripe_env, tmp_path):
    """Two replicas' action servers get the same «sí» at once: one charge, one deposit (PostgreSQL)."""
    if not POSTGRES_URL:
        pytest.skip("set PREPAGO_TEST_POSTGRES_URL (as .ci/run does) for the PostgreSQL race")
    from sqlalchemy.engine import make_url

    from bot.db import engine_for
    from bot.periods import today_in
    from tools.cluster import drop_database, ensure_database
    from tools.seed import seed_demo

    url = make_url(POSTGRES_URL).set(database=PAYMENTS_DATABASE).render_as_string(hide_password=False)
    drop_database(url)
    ensure_database(url)
    engine = engine_for(url)
    try:
        seed_demo(engine, today_in("America/Mexico_City"))
        mark = last_entry(engine)
        funds.propose(actor("conv-pg-race"), "recárgale $500", turn="t1", engine=engine)
        go = tmp_path / "go"
        env = {**os.environ, "PREPAGO_DATABASE_URL": url}
        workers = [subprocess.Popen([sys.executable, "-c", CONFIRM_IN_ANOTHER_PROCESS, str(go)], env=env,
                                    stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
                   for _ in range(2)]
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        go.touch()
        answers = [worker.communicate(timeout=60)[0] for worker in workers]
        assert sum("Folio" in a for a in answers) == 1, answers
        assert len(stripe_env.charges(CUSTOMER)) == 1 and deposits_since(engine, mark) == 1
    finally:
        engine.dispose()
        drop_database(url)


def test_the_consoles_account_panel_lists_the_operations(stripe_env, engine):
    from handoff.views import _context

    stripe_env.plan(CUSTOMER, "card_declined")
    funds.propose(actor(), "$500", turn="p1", engine=engine)
    confirmation.confirm(actor(), engine=engine)
    with session_scope(engine) as session:
        panel = _context(session, "100100")
    line = panel["operations"][0]
    assert "Agregar fondos $500.00 MXN, rechazada por el banco (web:100100 (billing))" in line
    assert "card_declined" in line and "ref. pi_" in line


def test_an_operation_whose_process_died_mid_charge_stops_blocking_the_account(stripe_env, engine):
    funds.propose(actor(), "$500", turn="d1", engine=engine)
    operation_id, _ = funds.claim(actor(), utcnow(), engine)  # …and the process died before charging
    assert "otra operación" in funds.propose(actor(), "$200", turn="d2", engine=engine).text
    assert reconcile(engine=engine) == []  # a charge takes seconds: not stale yet
    found = reconcile(now=utcnow() + timedelta(minutes=11), engine=engine)
    assert [f.kind for f in found] == ["not_charged"]
    assert statuses(engine)[-1] == ("unverified", "interrupted")
    assert "¿Confirmas" in funds.propose(actor(), "$200", turn="d3", engine=engine).text


def test_bot_reconcile_says_all_is_well_or_lists_the_mismatch(stripe_env, engine):
    bot = str(Path(sys.executable).with_name("bot"))
    clean = subprocess.run([bot, "reconcile"], capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0 and "cada cobro tiene su depósito" in clean.stdout, clean.stderr
    provider.charge(CUSTOMER, "pm_demo100100", Decimal("200.00"), "stray-key-000002", {"account": "100100"})
    stray = subprocess.run([bot, "reconcile"], capture_output=True, text=True, timeout=120)
    assert stray.returncode == 1 and "sin operación ni depósito" in stray.stdout and "Traceback" not in stray.stderr
