"""FAQ answers from the article, completed with the customer's own data."""
from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import AnswerAction, identity, send, utter_article
from bot.context import coverage_note
from bot.identity import UNLINKED
from bot.replies import faq_details
from bot.topics import FAQ_PREFIX, FAQ_TITLES

logger = logging.getLogger(__name__)

SIGN_IN_HINT = ("Si inicias sesión en tu Administrador de Ooma Office y abres este chat desde ahí, "
                "también te muestro aquí tus propios datos.")
LINK_HINT = "Si me pides tu saldo, te ayudo a vincular tu cuenta y te muestro aquí tus propios datos."
# What the article says for everyone, but the account's own data replaces for a signed-in customer
# (an account whose auto-recharge is off must never read that it refills itself).
GENERAL_ONLY = {"add_funds": "utter_faq_add_funds_refill"}


class ActionAnswerFaq(AnswerAction):
    def name(self) -> str:
        return "action_answer_faq"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        intent = tracker.get_intent_of_latest_message() or ""
        key = intent[len(FAQ_PREFIX):] if intent.startswith(FAQ_PREFIX) else None
        if key not in FAQ_TITLES:
            dispatcher.utter_message(response="utter_help")
            return []
        utter_article(dispatcher, f"utter_{intent}")
        if key == "add_funds" and (note := coverage_note(tracker.latest_message.get("text") or "")):
            dispatcher.utter_message(text=note)  # «agregar fondos para llamar a Estados Unidos»: the goal, then the context
        who = identity(tracker)
        if who.account is None:
            if key in GENERAL_ONLY:
                utter_article(dispatcher, GENERAL_ONLY[key])
            dispatcher.utter_message(text=LINK_HINT if who.error == UNLINKED else SIGN_IN_HINT)
            return []
        try:
            details = faq_details(key, who.account)
        except Exception:  # noqa: BLE001 - the FAQ answer stands on its own
            logger.exception("personal details for %s failed", intent)
            details = None
        if details is not None:
            send(dispatcher, details)
        return []
