"""A complaint about a charge: explained from the customer's own ledger, then a person is offered.

Never a case straight away: the explanation (bot/charges.py) answers most of
these, and its button, a «sí» or the complaint repeated hand over to Support
(data/rules.yml).
"""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EXPLAIN_CHARGE, AccountAction, send
from bot import charges
from bot.identity import Identity


class ActionExplainCharge(AccountAction):
    howto_response = "utter_charge_general"

    def name(self) -> str:
        return EXPLAIN_CHARGE

    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        send(dispatcher, charges.explain(account))
        return []

    def without_account(self, dispatcher: CollectingDispatcher, who: Identity) -> None:
        super().without_account(dispatcher, who)
        send(dispatcher, charges.offer_person())
