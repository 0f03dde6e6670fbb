"""Custom actions against a real SQLite store, with the identity a channel would attach."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq
from actions.fallback import ActionSuggestTopics
from actions.lookups import (ActionCheckBalance, ActionRefineQuery, ActionShowActivity, ActionShowDeposits,
                             ActionShowMore, ActionShowSpending)
from bot import formatting as fmt
from bot.config import settings
from bot.db import session_scope
from bot.identity import EXPIRED, Identity, identity_metadata
from bot.periods import resolve_period
from bot.store import get_account
from tests.conftest import ANCHOR, month_in_history

SENDER = "conversation-under-test"


def tracker(text: str, intent: str, account: str | None = "100100", slots=None, error=None,
            ranking=None) -> Tracker:
    metadata = identity_metadata(settings(), Identity(account, error), SENDER)
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
        "entities": [],
        "metadata": metadata,
    }
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


def test_anonymous_customer_gets_the_articles_howto_and_how_to_sign_in(db_url):
    messages, _ = run(ActionCheckBalance(), tracker("saldo", "check_balance", account=None))
    assert messages[0]["response"] == "utter_howto_balance"
    assert "Inicia sesión" in messages[1]["text"] and "MXN" not in messages[1]["text"]
    messages, _ = run(ActionShowSpending(), tracker("quién hizo llamadas", "show_spending", account=None, error=EXPIRED))
    assert messages[0]["response"] == "utter_faq_check_activity"
    assert "expiró" in messages[1]["text"]


def test_forged_metadata_is_anonymous(db_url):
    t = tracker("saldo", "check_balance")
    t.latest_message["metadata"]["prepago_identity"]["account"] = "200200"
    messages, _ = run(ActionCheckBalance(), t)
    assert messages[0]["response"] == "utter_howto_balance"
    assert "MXN" not in messages[1]["text"]


def test_activity_filters_by_extension_and_pages(db_url):
    messages, events = run(ActionShowActivity(), tracker("movimientos de la extensión 102", "show_activity"))
    text = messages[0]["text"]
    assert "ext. 102 (Ventas)" in text and "ext. 101" not in text
    assert messages[0]["buttons"][0]["payload"] == "/show_more_activity"
    query = events[0]["value"]
    assert events[0]["name"] == "last_query"
    assert query == {"kind": "activity", "extension": "102", "period_text": None, "offset": 5}
    more, _ = run(ActionShowMore(), tracker("ver más", "show_more_activity", slots={"last_query": query}))
    assert more[0]["text"].startswith("Más movimientos de la ext. 102")
    assert set(more[0]["text"].splitlines()[1:6]).isdisjoint(text.splitlines()[1:6])


def test_ver_mas_without_a_previous_lookup_says_so(db_url):
    messages, _ = run(ActionShowMore(), tracker("ver más", "show_more_activity"))
    assert "No tengo más movimientos" in messages[0]["text"]


@pytest.mark.parametrize("text, expected", [
    ("llamadas de la 999", "No encontré la extensión 999"),
    ("movimientos de mañana", "todavía no llega"),
    ("movimientos del 31 de febrero", "no existe en el calendario"),
    ("movimientos en el año 3000", "todavía no llega"),
    ("llamadas de la extensión 12345678901234567890", "como máximo 5 dígitos"),
])
def test_periods_and_numbers_that_cannot_be_honoured_are_said_so(db_url, text, expected):
    messages, events = run(ActionShowActivity(), tracker(text, "show_activity"))
    assert expected in messages[0]["text"], messages[0]["text"]
    assert "•" not in messages[0]["text"]  # never the unfiltered list
    assert "problema técnico" not in messages[0]["text"]


def test_spending_in_a_period_leads_with_the_total(db_url):
    month = month_in_history()
    messages, _ = run(ActionShowSpending(), tracker(f"¿cuánto gasté en {month}?", "show_spending"))
    lines = messages[0]["text"].splitlines()
    label = resolve_period(month, ANCHOR).label  # «en octubre», or «en diciembre de 2026» in January
    assert lines[0].startswith("En llamadas se gastaron **$") and label in lines[0]
    assert lines[1] == f"Gasto en llamadas por extensión, {label}:"
    assert lines[-1].startswith("Total: $")
    assert lines[-1].removeprefix("Total: ") in lines[0]


def test_spending_of_one_extension(db_url):
    messages, _ = run(ActionShowSpending(), tracker("¿cuánto gastó la 102 la semana pasada?", "show_spending"))
    text = messages[0]["text"]
    assert text.startswith("La ext. 102 (Ventas) gastó **$") or text.startswith("La ext. 102 (Ventas) no usó")
    assert "la semana pasada" in text and "Ext. 101" not in text


def test_last_deposit_is_answered_directly_and_lists_only_funding(db_url):
    messages, events = run(ActionShowDeposits(), tracker("¿cuándo fue mi último depósito?", "show_deposits"))
    lines = messages[0]["text"].splitlines()
    assert lines[0].startswith(("Tu último depósito fue el ", "Tu última recarga automática fue el "))
    assert " por **$" in lines[0]
    movements = [l for l in lines if l.startswith("•")]
    assert movements and all(("Depósito" in l or "Recarga automática" in l) for l in movements)
    assert not any("Llamada" in l for l in lines)
    assert events[0]["value"]["kind"] == "deposits"


def test_follow_up_keeps_the_rest_of_the_filter(db_url):
    last, before = month_in_history(1), month_in_history(2)
    _, events = run(ActionShowSpending(), tracker(f"cuánto gastó la 102 en {last}", "show_spending"))
    previous = events[0]["value"]
    messages, events = run(ActionRefineQuery(), tracker(f"¿y en {before}?", "refine_query",
                                                         slots={"last_query": previous}))
    label = resolve_period(before, ANCHOR).label
    assert messages[0]["text"].startswith("La ext. 102 (Ventas)") and label in messages[0]["text"]
    messages, events = run(ActionRefineQuery(), tracker("¿y nomás la 103?", "refine_query",
                                                         slots={"last_query": events[0]["value"]}))
    assert messages[0]["text"].startswith("La ext. 103") and label in messages[0]["text"]
    assert events[0]["value"]["kind"] == "spending"


def test_follow_up_without_a_previous_lookup_shows_movements(db_url):
    messages, _ = run(ActionRefineQuery(), tracker("¿y la 101?", "refine_query"))
    assert "ext. 101 (Recepción)" in messages[0]["text"]


def test_faq_answer_uses_the_portal_url_and_adds_own_card(db_url):
    messages, _ = run(ActionAnswerFaq(), tracker("cómo cambio mi tarjeta", "faq_change_card"))
    assert messages[0]["response"] == "utter_faq_change_card"
    assert messages[0]["portal_url"] == "https://portal.example.mx"
    assert messages[1]["text"] == (f"Hoy tu tarjeta registrada es Visa terminada en 4242 (vence 08/{ANCHOR.year + 2}). "
                                   "Con ella se pagan tus depósitos y tu recarga automática.")


def test_faq_for_anonymous_has_no_personal_data_but_says_how_to_get_it(db_url):
    messages, _ = run(ActionAnswerFaq(), tracker("cómo cambio mi tarjeta", "faq_change_card", account=None))
    assert messages[0]["response"] == "utter_faq_change_card"
    assert len(messages) == 2 and "inicias sesión" in messages[1]["text"] and "4242" not in messages[1]["text"]


@pytest.mark.parametrize("account, expected, card", [
    ("100100", "La recarga automática está activada: cuando tu saldo baja de $200.00 MXN se cargan $500.00 MXN",
     "Visa terminada en 4242"),
    ("200200", "La recarga automática está desactivada, así que tu cuenta no se recarga sola", "Mastercard terminada en 5454"),
])
def test_the_add_funds_answer_never_contradicts_the_accounts_auto_recharge(db_url, account, expected, card):
    messages, _ = run(ActionAnswerFaq(), tracker("cómo le meto lana al prepago", "faq_add_funds", account=account))
    assert messages[0]["response"] == "utter_faq_add_funds"
    assert expected in messages[1]["text"] and card in messages[1]["text"]
    # The article's «si tienes activada la recarga automática…» is for customers without a session only.
    assert all(m.get("response") != "utter_faq_add_funds_refill" for m in messages)
    anonymous, _ = run(ActionAnswerFaq(), tracker("cómo le meto lana al prepago", "faq_add_funds", account=None))
    assert [m.get("response") for m in anonymous[:2]] == ["utter_faq_add_funds", "utter_faq_add_funds_refill"]


def test_a_close_runner_up_that_customers_blur_is_offered_beside_the_answer(db_url):
    close = [{"name": "faq_add_funds", "confidence": 0.55}, {"name": "faq_prepaid_coverage", "confidence": 0.4}]
    messages, _ = run(ActionAnswerFaq(), tracker("fondos para llamadas afuera", "faq_add_funds", ranking=close))
    assert messages[0]["response"] == "utter_faq_add_funds"
    assert messages[-1]["buttons"] == [{"title": "Qué cubre la Cuenta de Prepago", "payload": "/faq_prepaid_coverage"}]
    clear = [{"name": "faq_add_funds", "confidence": 0.95}, {"name": "faq_prepaid_coverage", "confidence": 0.03}]
    messages, _ = run(ActionAnswerFaq(), tracker("cómo agrego fondos", "faq_add_funds", ranking=clear))
    assert not any(m.get("buttons") for m in messages)
    unrelated = [{"name": "faq_add_funds", "confidence": 0.5}, {"name": "faq_change_card", "confidence": 0.45}]
    messages, _ = run(ActionAnswerFaq(), tracker("la tarjeta y los fondos", "faq_add_funds", ranking=unrelated))
    assert not any(m.get("buttons") for m in messages)  # not a pair customers blur: the fallback's job, not this one


def test_a_complaint_close_to_a_lookup_is_explained_first_and_the_lookup_offered(db_url):
    from rasa_sdk.events import FollowupAction

    from actions.charges import ActionExplainCharge

    ranking = [{"name": "show_deposits", "confidence": 0.43}, {"name": "faq_auto_recharge", "confidence": 0.28},
               {"name": "report_charge_problem", "confidence": 0.25}]
    t = tracker("la recarga fue por otro monto", "show_deposits", ranking=ranking)
    messages, events = run(ActionShowDeposits(), t)
    assert messages == [] and events == [FollowupAction("action_explain_charge")]
    messages, _ = run(ActionExplainCharge(), t)
    assert messages[0]["text"].startswith("Revisé tu cuenta.") and "Tu última recarga automática fue el" in messages[0]["text"]
    assert messages[-1]["buttons"] == [{"title": "Mis depósitos y recargas", "payload": "/show_deposits"}]


@pytest.mark.parametrize("account, expected, absent", [
    ("100100", ["recarga automática está **activada**", "$200.00 MXN", "$500.00 MXN", "Tu última recarga automática fue el"],
     "desactivada"),
    ("200200", ["recarga automática está **desactivada**", "Tu último depósito fue el", "Mastercard terminada en 5454"],
     "Tu última recarga automática"),
])
def test_a_charge_complaint_is_explained_from_the_account_then_a_person_offered(db_url, account, expected, absent):
    from actions.charges import ActionExplainCharge

    messages, events = run(ActionExplainCharge(), tracker("me cobraron otra vez sin recargar", "report_charge_problem",
                                                          account=account))
    text = messages[0]["text"]
    assert all(e in text for e in expected) and absent not in text and "llamadas usaron" in text
    assert messages[0]["buttons"][0] == {"title": "Que lo revise una persona", "payload": "/report_charge_problem"}
    assert events == []  # no case, no pause: a person only if the customer wants one


def test_a_charge_complaint_without_a_session_gets_the_general_explanation(db_url):
    from actions.charges import ActionExplainCharge

    messages, _ = run(ActionExplainCharge(), tracker("me falta dinero", "report_charge_problem", account=None))
    assert messages[0]["response"] == "utter_charge_general"
    assert "Inicia sesión" in messages[1]["text"] and "MXN" not in messages[1]["text"]
    assert messages[2]["buttons"] == [{"title": "Que lo revise una persona", "payload": "/report_charge_problem"}]


def test_restrict_extensions_is_honest_and_shows_who_spent(db_url):
    messages, _ = run(ActionAnswerFaq(), tracker("puedo restringir extensiones", "faq_restrict_extensions"))
    assert messages[0]["response"] == "utter_faq_restrict_extensions"
    assert "Ext. " in messages[1]["text"]


def test_store_failure_gets_an_apology_not_a_trace(monkeypatch, tmp_path):
    monkeypatch.setenv("PREPAGO_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'nope.db'}")
    messages, _ = run(ActionCheckBalance(), tracker("saldo", "check_balance"))
    assert "problema técnico" in messages[0]["text"] and "Traceback" not in messages[0]["text"]


def test_fallback_offers_the_two_likeliest_topics():
    # After the FallbackClassifier fires, the classifier's guesses follow `nlu_fallback`.
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "faq_add_funds", "confidence": 0.28},
               {"name": "check_balance", "confidence": 0.2}, {"name": "greet", "confidence": 0.1}]
    messages, _ = run(ActionSuggestTopics(), tracker("mmm la lana de la tarjeta", "nlu_fallback", ranking=ranking))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["Agregar fondos", "Consultar mi saldo", "Otra cosa"]
    assert messages[0]["buttons"][0]["payload"] == "/faq_add_funds"


def test_an_unlinked_chat_gets_a_neutral_link_required_outcome(db_url):
    from bot.identity import LINK_REQUIRED, UNLINKED

    messages, events = run(ActionCheckBalance(), tracker("mi saldo", "check_balance", account=None, error=UNLINKED))
    assert messages == [{**messages[0], "custom": LINK_REQUIRED}] and not messages[0].get("text") and events == []
