"""Low-confidence fallback: offer the two likeliest topics as buttons.

If the next message is not understood either, a rule hands the conversation to a person (action_handoff).
"""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.topics import suggestions


class ActionSuggestTopics(Action):
    def name(self) -> str:
        return "action_suggest_topics"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        offer = suggestions(tracker.latest_message)
        if offer is None:
            dispatcher.utter_message(response="utter_default")
        else:
            dispatcher.utter_message(**offer)
        return []
