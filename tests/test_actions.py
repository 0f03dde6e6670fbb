"""Custom actions against a real SQLite store, with the identity a channel would attach."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq
from actions.fallback import ActionSuggestTopics
from actions.lookups import ActionCheckBalance, ActionShowActivity, ActionShowSpending
from bot import formatting as fmt
from bot.config import settings
from bot.db import session_scope
from bot.identity import EXPIRED, Identity, identity_metadata
from bot.store import get_account

SENDER = "conversation-under-test"


def tracker(text: str, intent: str, account: str | None = "100100", entities=(), slots=None,
            response_key: str | None = None, error=None, ranking=None) -> Tracker:
    metadata = identity_metadata(settings(), Identity(account, error), SENDER)
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
        "entities": [{"entity": e, "value": v} for e, v in entities],
        "metadata": metadata,
    }
    if response_key:
        message["response_selector"] = {"faq": {"response": {"intent_response_key": response_key, "confidence": 0.95},
                                                "ranking": [{"intent_response_key": response_key, "confidence": 0.95}]}}
    return Tracker(SENDER, slots or {}, message, [], False, None, {}, "action_listen")


def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {})
    return dispatcher.messages, events


def test_balance_is_the_customers_own(db_url):
    messages, _ = run(ActionCheckBalance(), tracker("cuánto saldo tengo", "check_balance"))
    with session_scope() as session:
        expected = fmt.money(get_account(session, "100100").balance)
    assert expected in messages[0]["text"]
    assert "Visa terminada en 4242" in messages[0]["text"]


def test_other_account_sees_its_own_balance(db_url):
    messages, _ = run(ActionCheckBalance(), tracker("saldo", "check_balance", account="200200"))
    with session_scope() as session:
        assert fmt.money(get_account(session, "200200").balance) in messages[0]["text"]
        assert fmt.money(get_account(session, "100100").balance) not in messages[0]["text"]


def test_anonymous_customer_is_told_how_to_sign_in(db_url):
    messages, _ = run(ActionCheckBalance(), tracker("saldo", "check_balance", account=None))
    assert "Inicia sesión" in messages[0]["text"] and "MXN" not in messages[0]["text"]
    messages, _ = run(ActionCheckBalance(), tracker("saldo", "check_balance", account=None, error=EXPIRED))
    assert "expiró" in messages[0]["text"]


def test_forged_metadata_is_anonymous(db_url):
    t = tracker("saldo", "check_balance")
    t.latest_message["metadata"]["prepago_identity"]["account"] = "200200"
    messages, _ = run(ActionCheckBalance(), t)
    assert "MXN" not in messages[0]["text"]


def test_activity_filters_by_extension_and_pages(db_url):
    messages, events = run(ActionShowActivity(), tracker("movimientos de la extensión 102", "show_activity"))
    text = messages[0]["text"]
    assert "ext. 102 (Ventas)" in text and "ext. 101" not in text
    assert messages[0]["buttons"][0]["payload"] == "/show_more_activity"
    page = events[0]
    assert page == SlotSet("activity_page", {"extension": "102", "period_text": "movimientos de la extensión 102", "offset": 5})
    more, _ = run(ActionShowActivity(), tracker("ver más", "show_more_activity", slots={"activity_page": page["value"]}))
    assert more[0]["text"].startswith("Más movimientos de la ext. 102")
    assert set(more[0]["text"].splitlines()[1:6]).isdisjoint(text.splitlines()[1:6])


def test_unknown_extension_and_future_period_get_polite_answers(db_url):
    messages, _ = run(ActionShowActivity(), tracker("llamadas de la 999", "show_activity"))
    assert "No encontré la extensión 999" in messages[0]["text"] and "101 (Recepción)" in messages[0]["text"]
    messages, _ = run(ActionShowActivity(), tracker("movimientos de mañana", "show_activity"))
    assert "todavía no llega" in messages[0]["text"]


def test_spending_summary(db_url):
    messages, _ = run(ActionShowSpending(), tracker("quién se gastó la lana", "show_spending"))
    assert messages[0]["text"].startswith("Gasto en llamadas por extensión")
    assert "Total: $" in messages[0]["text"]


def test_faq_answer_uses_the_portal_url_and_adds_own_card(db_url):
    messages, _ = run(ActionAnswerFaq(), tracker("cómo cambio mi tarjeta", "faq", response_key="faq/change_card"))
    assert messages[0]["response"] == "utter_faq/change_card"
    assert messages[0]["portal_url"] == "https://portal.example.mx"
    assert messages[1]["text"] == "Hoy tu tarjeta registrada es Visa terminada en 4242 (vence 08/2028)."


def test_faq_for_anonymous_has_no_personal_data(db_url):
    messages, _ = run(ActionAnswerFaq(), tracker("cómo cambio mi tarjeta", "faq", account=None, response_key="faq/change_card"))
    assert len(messages) == 1 and messages[0]["response"] == "utter_faq/change_card"


def test_faq_button_payload_forces_the_answer(db_url):
    messages, _ = run(ActionAnswerFaq(), tracker('/faq{"faq_topic": "add_funds"}', "faq", entities=[("faq_topic", "add_funds")]))
    assert messages[0]["response"] == "utter_faq/add_funds"


def test_restrict_extensions_is_honest_and_shows_who_spent(db_url):
    messages, _ = run(ActionAnswerFaq(), tracker("puedo restringir extensiones", "faq", response_key="faq/restrict_extensions"))
    assert messages[0]["response"] == "utter_faq/restrict_extensions"
    assert "Ext. " in messages[1]["text"]


def test_store_failure_gets_an_apology_not_a_trace(monkeypatch, tmp_path):
    monkeypatch.setenv("PREPAGO_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'nope.db'}")
    messages, _ = run(ActionCheckBalance(), tracker("saldo", "check_balance"))
    assert "problema técnico" in messages[0]["text"] and "Traceback" not in messages[0]["text"]


def test_fallback_offers_the_two_likeliest_topics():
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "faq", "confidence": 0.4},
               {"name": "check_balance", "confidence": 0.3}, {"name": "greet", "confidence": 0.2}]
    t = tracker("mmm la lana de la tarjeta", "nlu_fallback", ranking=ranking)
    t.latest_message["response_selector"] = {"faq": {"ranking": [
        {"intent_response_key": "faq/add_funds", "confidence": 0.9},
        {"intent_response_key": "faq/change_card", "confidence": 0.1}]}}
    messages, _ = run(ActionSuggestTopics(), t)
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["Agregar fondos", "Consultar mi saldo", "Otra cosa"]
    assert messages[0]["buttons"][0]["payload"] == '/faq{"faq_topic": "add_funds"}'


def test_unsure_faq_answer_asks_instead_of_guessing(db_url):
    t = tracker("la cosa esa de la recarga", "faq", response_key="faq/add_funds",
                ranking=[{"name": "faq", "confidence": 0.99}])
    t.latest_message["response_selector"]["faq"] = {
        "response": {"intent_response_key": "faq/add_funds", "confidence": 0.6},
        "ranking": [{"intent_response_key": "faq/add_funds", "confidence": 0.6},
                    {"intent_response_key": "faq/auto_recharge", "confidence": 0.3}]}
    messages, _ = run(ActionAnswerFaq(), t)
    assert [b["title"] for b in messages[0]["buttons"]] == ["Agregar fondos", "Recarga automática", "Otra cosa"]
