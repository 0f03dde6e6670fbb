"""Self-service payments in the conversation: thin glue over payments/.

Every action checks, on its own turn, who is asking (payments/access.py): a
hidden payload such as `/add_funds{"amount": 2000}` only ever reaches a
proposal, and a «sí» only confirms the proposal this conversation was shown.
"""
from __future__ import annotations

from abc import abstractmethod

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import AccountAction, identity
from bot.identity import STEP_UP_REQUIRED
from payments import access, auto_recharge, cards, confirmation, funds
from payments.funds import Actor, Answer


def _turn(tracker: Tracker) -> str:
    """The id of the customer's message this turn answers (Rasa gives each one its own)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("message_id") or str(event.get("timestamp"))
    return "none"


class MoneyAction(AccountAction):
    """An action that moves money or changes how it is moved: only for whom payments/access.py allows."""

    @abstractmethod
    def act(self, tracker: Tracker, actor: Actor) -> Answer:
        """The operation itself, for a verified actor allowed to move money."""

    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        who = identity(tracker)
        decision = access.may_move_money(who)
        if decision.step_up:  # the messaging channel asks for the PIN, then carries on with this message
            dispatcher.utter_message(json_message={**STEP_UP_REQUIRED, "resume": self.resume(tracker)})
            return []
        if not decision.allowed:
            dispatcher.utter_message(text=decision.refusal)
            return []
        actor = Actor(account, access.actor_name(who), tracker.get_latest_input_channel() or "prepago",
                      tracker.sender_id)
        answer = self.act(tracker, actor)
        dispatcher.utter_message(text=answer.text, buttons=answer.buttons or None)
        return []

    def resume(self, tracker: Tracker) -> str | None:
        """What to run again once the PIN is proven: the request itself (a «sí» is never replayed)."""
        return tracker.latest_message.get("text")


class ActionProposeAddFunds(MoneyAction):
    howto_response = "utter_faq_add_funds"

    def name(self) -> str:
        return "action_propose_add_funds"

    def act(self, tracker: Tracker, actor: Actor) -> Answer:
        # The amount is read from the words (or a menu button's payload) and only ever proposed.
        return funds.propose(actor, tracker.latest_message.get("text") or "", _turn(tracker))


class ActionProposeAutoRecharge(MoneyAction):
    howto_response = "utter_faq_auto_recharge"

    def name(self) -> str:
        return "action_propose_auto_recharge"

    def act(self, tracker: Tracker, actor: Actor) -> Answer:
        return auto_recharge.propose(actor, tracker.latest_message.get("text") or "", _turn(tracker))


class ActionConfirmPayment(MoneyAction):
    def name(self) -> str:
        return "action_confirm_payment"

    def resume(self, tracker: Tracker) -> None:
        return None  # the step-up expired between proposal and «sí»: the customer asks again

    def act(self, tracker: Tracker, actor: Actor) -> Answer:
        return confirmation.confirm(actor)


class ActionCancelPayment(AccountAction):
    """«No» moves nothing: the account's own customer may always say it, role or PIN aside."""

    def name(self) -> str:
        return "action_cancel_payment"

    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        who = identity(tracker)
        actor = Actor(account, access.actor_name(who), tracker.get_latest_input_channel() or "prepago",
                      tracker.sender_id)
        dispatcher.utter_message(text=confirmation.cancel(actor).text)
        return []


class ActionCardLink(MoneyAction):
    howto_response = "utter_faq_change_card"

    def name(self) -> str:
        return "action_card_link"

    def act(self, tracker: Tracker, actor: Actor) -> Answer:
        return cards.request_link(actor, _turn(tracker))


class ActionCardCheck(MoneyAction):
    def name(self) -> str:
        return "action_card_check"

    def resume(self, tracker: Tracker) -> None:
        return None

    def act(self, tracker: Tracker, actor: Actor) -> Answer:
        return cards.check(actor)
