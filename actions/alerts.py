"""Opting in and out of proactive alerts, in conversation (the rules live in alerts/).

Only a signed-in or linked customer: `AccountAction` asks anyone else to sign
in or link first. The alerts go to the channel the customer is writing from.
"""
from __future__ import annotations

from decimal import Decimal

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import AccountAction, channel_address, identity
from alerts import subscriptions
from alerts.messages import parse_threshold


def _where(tracker: Tracker) -> tuple[str, str]:
    """(channel, user on it): a messaging identity's address, or "" for the web widget."""
    return tracker.get_latest_input_channel() or "prepago", channel_address(identity(tracker))


class ActionAlertSubscribe(AccountAction):
    def name(self) -> str:
        return "action_alert_subscribe"

    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        threshold = parse_threshold(tracker.latest_message.get("text") or "")
        if not isinstance(threshold, Decimal):
            dispatcher.utter_message(text=threshold)  # why that amount cannot be used
            return []
        dispatcher.utter_message(text=subscriptions.subscribe(account, *_where(tracker), threshold))
        return []


class ActionAlertList(AccountAction):
    def name(self) -> str:
        return "action_alert_list"

    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        dispatcher.utter_message(text=subscriptions.describe(account))
        return []


class ActionAlertUnsubscribe(AccountAction):
    def name(self) -> str:
        return "action_alert_unsubscribe"

    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        dispatcher.utter_message(text=subscriptions.unsubscribe(account, *_where(tracker)))
        return []
