"""Balance, movements, spending and deposits of the verified customer."""
from __future__ import annotations

from abc import abstractmethod
from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import AccountAction, send
from bot import replies

NOTHING_MORE = "No tengo más movimientos pendientes de mostrar. Escribe «mis movimientos» para empezar."


def _text(tracker: Tracker) -> str:
    # Periods and extensions are read from the whole message by deterministic
    # grammars (bot.periods): statistical spans for numbers and dates were not
    # reliable enough ("la 103 en octubre de 2025" gave extension 2025).
    return tracker.latest_message.get("text") or ""


class ActionCheckBalance(AccountAction):
    howto_response = "utter_howto_balance"

    def name(self) -> str:
        return "action_check_balance"

    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        send(dispatcher, replies.balance(account))
        return []


class LookupAction(AccountAction):
    """A lookup remembered in `last_query`, so "ver más" and follow-ups continue it."""

    howto_response = "utter_faq_check_activity"

    @abstractmethod
    def query(self, tracker: Tracker) -> tuple[Optional[dict], int]:
        """The lookup to answer and the offset of the page, or (None, 0) when there is none."""

    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        query, offset = self.query(tracker)
        if query is None:
            dispatcher.utter_message(text=NOTHING_MORE)
            return []
        reply = replies.lookup(account, query, offset=offset)
        send(dispatcher, reply)
        return [SlotSet("last_query", {**query, "offset": reply.next_offset})]


class NewLookup(LookupAction):
    kind: str

    def query(self, tracker: Tracker) -> tuple[Optional[dict], int]:
        return replies.new_query(self.kind, _text(tracker)), 0


class ActionShowActivity(NewLookup):
    kind = replies.ACTIVITY

    def name(self) -> str:
        return "action_show_activity"


class ActionShowSpending(NewLookup):
    kind = replies.SPENDING

    def name(self) -> str:
        return "action_show_spending"


class ActionShowDeposits(NewLookup):
    kind = replies.DEPOSITS

    def name(self) -> str:
        return "action_show_deposits"


class ActionShowMore(LookupAction):
    """ "ver más": the next page of the last lookup."""

    def name(self) -> str:
        return "action_show_more"

    def query(self, tracker: Tracker) -> tuple[Optional[dict], int]:
        last = tracker.get_slot("last_query") or {}
        offset = last.get("offset") if isinstance(last, dict) else None
        return (last, int(offset)) if isinstance(offset, int) and offset > 0 else (None, 0)


class ActionRefineQuery(LookupAction):
    """ "¿y en septiembre?", "¿y nomás la 103?": the last lookup with one filter changed."""

    def name(self) -> str:
        return "action_refine_query"

    def query(self, tracker: Tracker) -> tuple[Optional[dict], int]:
        last = tracker.get_slot("last_query")
        return replies.refined_query(last if isinstance(last, dict) else None, _text(tracker)), 0
