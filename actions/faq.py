"""FAQ answers from the article, completed with the customer's own data."""
from __future__ import annotations

import logging
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import identity, send
from bot.config import settings
from bot.replies import faq_details
from bot.topics import FAQ_TITLES, faq_confidence, suggestions

logger = logging.getLogger(__name__)

# DIET is sure a message is "some FAQ" far more often than the response
# selector is sure which one; below this joint confidence, ask instead of guessing.
FAQ_CONFIDENCE_FLOOR = 0.7


def forced_key(tracker: Tracker) -> Optional[str]:
    """The answer a fallback button asked for (/faq{"faq_topic": ...}), if any."""
    forced = next(tracker.get_latest_entity_values("faq_topic"), None)
    return forced if forced in FAQ_TITLES else None


def faq_key(tracker: Tracker) -> Optional[str]:
    """The FAQ answer to give: forced by a button, else the response selector's pick."""
    if forced := forced_key(tracker):
        return forced
    selected = (
        tracker.latest_message.get("response_selector", {})
        .get("faq", {})
        .get("response", {})
        .get("intent_response_key", "")
    )
    key = selected.partition("/")[2]
    return key if key in FAQ_TITLES else None


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        key = faq_key(tracker)
        if key is None:
            dispatcher.utter_message(response="utter_help")
            return []
        if forced_key(tracker) is None and faq_confidence(tracker.latest_message) < FAQ_CONFIDENCE_FLOOR:
            offer = suggestions(tracker.latest_message)
            if offer is not None:
                dispatcher.utter_message(**offer)
                return []
        dispatcher.utter_message(response=f"utter_faq/{key}", portal_url=settings().portal_url)
        who = identity(tracker)
        if who.account is not None:
            try:
                details = faq_details(key, who.account)
            except Exception:  # noqa: BLE001 - the FAQ answer stands on its own
                logger.exception("personal details for faq/%s failed", key)
                details = None
            if details is not None:
                send(dispatcher, details)
        return []
