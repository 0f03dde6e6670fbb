"""Balance and activity lookups for the verified customer."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import account_lookup, send
from bot import replies
from bot.periods import extension_in


def _message_text(tracker: Tracker) -> str:
    # Periods and extensions are read from the whole message by deterministic
    # grammars (bot.periods): DIET's spans for numbers and dates were not
    # reliable enough ("la 103 en octubre de 2025" gave extension 2025).
    return tracker.latest_message.get("text") or ""


class ActionCheckBalance(Action):
    def name(self) -> str:
        return "action_check_balance"

    @account_lookup
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        send(dispatcher, replies.balance(account))
        return []


class ActionShowActivity(Action):
    """Recent movements; with `show_more_activity`, the next page of the last query."""

    def name(self) -> str:
        return "action_show_activity"

    @account_lookup
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        query: dict[str, Any]
        if tracker.get_intent_of_latest_message() == "show_more_activity":
            query = tracker.get_slot("activity_page") or {}
            if not query:
                dispatcher.utter_message(text="No tengo más movimientos pendientes de mostrar. Escribe «mis movimientos» para empezar.")
                return []
        else:
            query = {
                "extension": extension_in(_message_text(tracker)),
                "period_text": _message_text(tracker),
                "offset": 0,
            }
        reply = replies.activity(
            account,
            extension=query.get("extension"),
            period_text=query.get("period_text"),
            offset=int(query.get("offset") or 0),
        )
        send(dispatcher, reply)
        return [SlotSet("activity_page", reply.next_page)]


class ActionShowSpending(Action):
    def name(self) -> str:
        return "action_show_spending"

    @account_lookup
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        send(dispatcher, replies.spending(account, period_text=_message_text(tracker)))
        return []
