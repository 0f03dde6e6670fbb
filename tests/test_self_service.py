"""Self-service payments through the real servers: Rasa, the action server, the SQLite store,
the real Stripe SDK against the stand-in (tests/fake_providers.py), the web and Telegram channels."""
from __future__ import annotations

import re
import sqlite3
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from bot.config import settings
from bot.db import session_scope
from bot.identity import issue_token
from bot.models import LedgerEntry, StepUp
from bot.store import get_account
from payments.models import Operation
from tests.test_messaging import telegram
from tests.test_server import say, texts

pytestmark = pytest.mark.server
CUSTOMER = "cus_demo100100"


@pytest.fixture
def stripe(providers):
    providers.stripe.reset()
    return providers.stripe


@pytest.fixture(autouse=True)
def same_card_and_settings_after(stack):
    """Other modules share the stack: each test leaves 100100's card and auto-recharge as it found them."""
    from payments.models import PaymentProfile

    with session_scope(stack.store) as session:
        account = get_account(session, "100100")
        card = (account.card.brand, account.card.last4, account.card.exp_month, account.card.exp_year)
        auto = (account.auto_recharge.enabled, account.auto_recharge.threshold, account.auto_recharge.amount)
        method = session.get(PaymentProfile, account.id).payment_method_id
    yield
    with session_scope(stack.store) as session:
        account = get_account(session, "100100")
        account.card.brand, account.card.last4, account.card.exp_month, account.card.exp_year = card
        account.auto_recharge.enabled, account.auto_recharge.threshold, account.auto_recharge.amount = auto
        session.get(PaymentProfile, account.id).payment_method_id = method


def web(role="billing", account="100100"):
    return issue_token(settings(), account, role=role)


def balance(stack, account="100100") -> Decimal:
    with session_scope(stack.store) as session:
        return get_account(session, account).balance


def entries(stack) -> int:
    with session_scope(stack.store) as session:
        return session.execute(select(func.count(LedgerEntry.id))).scalar_one()


def audit(stack, conversation_prefix="100100-"):
    with session_scope(stack.store) as session:
        return [(o.status.value, o.reason, o.actor, o.channel, o.amount, o.provider_ref)
                for o in session.execute(select(Operation).order_by(Operation.id)).scalars()]


def test_add_funds_asks_then_charges_once_even_when_yes_is_sent_twice_at_once(stack, stripe):
    before, count, t = balance(stack), entries(stack), web()
    ask = say(stack, "recárgale $500 al prepago", token=t, session="pay-web-000001")
    assert "**$500.00 MXN**" in texts(ask) and "Visa terminada en 4242" in texts(ask)
    assert [b["payload"] for b in ask[0]["buttons"]] == ["/affirm", "/deny"]
    assert stripe.charges() == [] and entries(stack) == count  # nothing before the «sí»
    replies, barrier = [], threading.Barrier(2)

    def yes():
        barrier.wait()
        replies.append(texts(say(stack, "/affirm", token=t, session="pay-web-000001")))

    threads = [threading.Thread(target=yes) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    receipt = next(r for r in replies if "Folio" in r)
    assert sum("Folio" in r for r in replies) == 1, replies
    assert re.search(r"Folio: \*\*PP-\d{8}-\d{6}\*\*", receipt)
    assert len(stripe.charges()) == 1 and entries(stack) == count + 1
    assert balance(stack) == before + 500
    assert f"{before + 500:,.2f}" in receipt
    # Again, in a new message after the answer: nothing more is charged.
    again = texts(say(stack, "sí", token=t, session="pay-web-000001"))
    assert "Folio" not in again and len(stripe.charges()) == 1 and entries(stack) == count + 1


def test_a_lost_provider_answer_is_retried_with_the_same_key_and_charged_once(stack, stripe):
    count, t = entries(stack), web()
    stripe.plan(CUSTOMER, "lost")
    say(stack, "ponle 1000 pesos de saldo", token=t, session="pay-web-lost01")
    assert "Folio" in texts(say(stack, "/affirm", token=t, session="pay-web-lost01"))
    posts = [r for r in stripe.requests if r["path"] == "/v1/payment_intents" and r["method"] == "POST"]
    assert len(posts) >= 2 and len({p["key"] for p in posts}) == 1
    assert len(stripe.charges()) == 1 and entries(stack) == count + 1


@pytest.mark.parametrize("outcome, says", [
    ("card_declined", "Tu banco rechazó el cargo"),
    ("authentication_required", "3-D Secure"),
    ("timeout", "No pude confirmar el cargo"),
    ("error_500", "No pude confirmar el cargo"),
])
def test_a_failed_charge_deposits_nothing_and_says_what_to_do(stack, stripe, outcome, says):
    count, before, t = entries(stack), balance(stack), web()
    session = f"pay-fail-{outcome}"[:40].replace("_", "-")
    stripe.plan(CUSTOMER, outcome)
    say(stack, "recárgale 200 al prepago", token=t, session=session)
    answer = texts(say(stack, "/affirm", token=t, session=session))
    assert says in answer and "portal" in answer and "Folio" not in answer
    assert entries(stack) == count and balance(stack) == before and stripe.charges() == []
    status, reason, actor, channel, amount, _ = audit(stack)[-1]
    assert status != "succeeded" and reason and actor == "web:100100 (billing)" and amount == 200


@pytest.mark.parametrize("token_of, expected", [
    (lambda: web(role="viewer"), "no tiene permiso para hacer pagos"),
    (lambda: web(role=None), "no tiene permiso para hacer pagos"),
    (lambda: None, "necesito saber que eres tú"),
])
def test_without_the_role_or_a_session_nothing_is_proposed_or_charged(stack, stripe, token_of, expected):
    count, t, session = entries(stack), token_of(), "pay-who-" + str(abs(hash(expected)) % 10**8)
    for text in ("recárgale $500 al prepago", '/add_funds{"amount": "2000"}', "/affirm"):
        reply = texts(say(stack, text, token=t, session=session))
        assert "Confirmas" not in reply and "Folio" not in reply, reply
    assert expected in texts(say(stack, "recárgale $500 al prepago", token=t, session=session))
    assert stripe.charges() == [] and entries(stack) == count


def test_hidden_payloads_never_skip_the_confirmation(stack, stripe):
    """Each hidden payload, on its own, in a conversation of its own: never a charge.

    (A payload Rasa cannot parse is read as text, and the classifier may take it for a request to
    add funds: then it gets a proposal, like any request, and still nothing is charged.)
    """
    count, t = entries(stack), web(role="admin")
    payloads = ('/confirm_payment{"amount": 2000}', "/affirm", "/action_confirm_payment",
                '/add_funds{"amount": "2000", "confirmed": true}')
    for n, payload in enumerate(payloads):
        reply = texts(say(stack, payload, token=t, session=f"pay-hidden-{n:04d}"))
        assert "Folio" not in reply, (payload, reply)
    assert "¿Confirmas" in reply and "**$2,000.00 MXN**" in reply  # a payload only ever reaches a proposal
    assert stripe.charges() == [] and entries(stack) == count
    session = f"pay-hidden-{len(payloads) - 1:04d}"
    # A «sí» from another conversation of the same account cannot confirm it either.
    assert "Folio" not in texts(say(stack, "/affirm", token=t, session="pay-hidden-0099"))
    assert stripe.charges() == []
    assert "no hice ningún cargo" in texts(say(stack, "/deny", token=t, session=session))
    assert "Folio" not in texts(say(stack, "/affirm", token=t, session=session)) and stripe.charges() == []


def test_an_amount_off_the_menu_gets_the_menu(stack, stripe):
    reply = say(stack, "recárgale $350 al prepago", token=web(), session="pay-menu-00001")
    assert "$200.00 MXN, $500.00 MXN, $1,000.00 MXN, $2,000.00 MXN" in texts(reply)
    assert [b["payload"] for b in reply[0]["buttons"]][0] == '/add_funds{"amount": "200"}'


def _link_telegram(stack, providers, user_id):
    telegram(stack, providers, user_id, "cuál es mi saldo")
    telegram(stack, providers, user_id, "100100")
    _, sent = telegram(stack, providers, user_id, "4321")
    assert "quedó vinculado" in " ".join(r["body"].get("text", "") for r in sent)


def _telegram_text(stack, providers, user_id, text) -> str:
    reply, sent = telegram(stack, providers, user_id, text)
    assert reply.status_code == 200
    return "\n".join(r["body"].get("text", "") for r in sent if r["path"].endswith("/sendMessage"))


def test_a_linked_chat_needs_a_fresh_pin_before_money_moves(stack, providers, stripe):
    user, count = 770001, entries(stack)
    _link_telegram(stack, providers, user)
    asked = _telegram_text(stack, providers, user, "recárgale $500 al prepago")
    assert "escribe el PIN" in asked and stripe.charges() == []
    assert "no coincide" in _telegram_text(stack, providers, user, "1111")
    proposal = _telegram_text(stack, providers, user, "4321")  # the PIN never reaches Rasa: the request resumes
    assert "¿Confirmas" in proposal and "$500.00 MXN" in proposal
    assert "Folio" in _telegram_text(stack, providers, user, "sí")
    assert len(stripe.charges()) == 1 and entries(stack) == count + 1
    assert audit(stack)[-1][2] == f"telegram:{user}"
    trackers = sqlite3.connect(stack.work / "trackers.db")
    assert trackers.execute("""select count(*) from events where data like '%"text": "4321"%'""").fetchone()[0] == 0
    # Minutes later the PIN proof has expired: the next «sí» charges nothing and asks for it again.
    _telegram_text(stack, providers, user, "recárgale 200 al prepago")
    with session_scope(stack.store) as session:
        proof = session.get(StepUp, ("telegram", str(user)))
        proof.verified_at -= timedelta(minutes=6)
    again = _telegram_text(stack, providers, user, "sí")
    assert "escribe el PIN" in again and "Folio" not in again
    assert len(stripe.charges()) == 1 and entries(stack) == count + 1
    assert "Cancelé la verificación" in _telegram_text(stack, providers, user, "cancelar")
    # Asked for the PIN, the customer writes something else: it is answered, not taken as a PIN attempt.
    assert "escribe el PIN" in _telegram_text(stack, providers, user, "recárgale 200 al prepago")
    assert "saldo de tu Cuenta de Prepago" in _telegram_text(stack, providers, user, "cuál es mi saldo")
    assert len(stripe.charges()) == 1 and entries(stack) == count + 1


def test_auto_recharge_bad_values_get_reasons_and_good_ones_are_stored_and_echoed(stack, stripe):
    t, session = web(), "pay-auto-000001"
    assert "tiene que ser mayor" in texts(say(stack, "que se recargue $300 cuando baje de $500", token=t,
                                              session=session))
    assert "entre $100.00 MXN y $1,000.00 MXN" in texts(say(stack, "que se recargue $1,000 cuando baje de $20",
                                                             token=t, session=session))
    ask = texts(say(stack, "que se recargue $1,000 cuando baje de $300", token=t, session=session))
    assert "¿Confirmas" in ask and "$300.00 MXN" in ask and "$1,000.00 MXN" in ask
    done = texts(say(stack, "sí", token=t, session=session))
    assert "guardé" in done and "$1,000.00 MXN" in done and "$300.00 MXN" in done
    with session_scope(stack.store) as s:
        settings_now = get_account(s, "100100").auto_recharge
        assert (settings_now.enabled, settings_now.threshold, settings_now.amount) == (
            True, Decimal("300.00"), Decimal("1000.00"))
    assert "recarga automática **activada**" in done and stripe.charges() == []


def test_the_card_link_works_once_and_the_chat_confirms_the_new_card(stack, stripe):
    t, session = web(), "pay-card-000001"
    reply = texts(say(stack, "mándame el enlace para cambiar mi tarjeta", token=t, session=session))
    url = re.search(r"\]\((http[^)]+/pay/cs_test_\w+)\)", reply).group(1)
    assert "una sola vez" in reply
    form = {"number": "5555555555554444", "exp_month": "11", "exp_year": "2031"}
    assert requests.post(url, data=form, timeout=10).status_code == 200
    done = texts(say(stack, "/affirm", token=t, session=session))
    assert "Mastercard terminada en 4444" in done and "11/2031" in done
    assert requests.post(url, data=form, timeout=10).status_code == 410
    with session_scope(stack.store) as s:
        card = get_account(s, "100100").card
        assert (card.brand, card.last4) == ("Mastercard", "4444")


def test_the_demo_issuer_signs_the_role(stack, stripe):
    """The demo page's tokens carry the role, and the assistant honours it."""
    def issued(body):
        return requests.post(f"{stack.web_url}/demo/token", json=body, timeout=10)

    admin, viewer = issued({"account": "100100"}).json()["token"], issued({"account": "100100", "role": "viewer"}).json()["token"]
    assert "¿Confirmas" in texts(say(stack, "recárgale $500 al prepago", token=admin, session="pay-demo-admin1"))
    assert "no tiene permiso" in texts(say(stack, "recárgale $500 al prepago", token=viewer, session="pay-demo-view1"))
    assert issued({"account": "100100", "role": "root"}).status_code == 400
    assert stripe.charges() == []
