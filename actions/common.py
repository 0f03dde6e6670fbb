"""What every action needs: the verified identity and a safe way to reply."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from bot.config import settings
from bot.identity import LINK_REQUIRED, UNLINKED, Identity, identity_from_metadata
from bot.replies import Reply, sign_in_needed
from bot.store import UnknownAccount
from bot.topics import COMPLAINT, HANDOFF, close_call

logger = logging.getLogger(__name__)

TECHNICAL_PROBLEM = (
    "Perdón, tuve un problema técnico para consultar tu cuenta. "
    "Intenta de nuevo en unos minutos; tus datos no se modificaron."
)
UNKNOWN_ACCOUNT = (
    "No encontré una Cuenta de Prepago asociada a tu sesión. "
    "Si crees que es un error, escribe «agente» y te comunico con una persona de Soporte."
)


def identity(tracker: Tracker) -> Identity:
    """The account the channel verified for the latest message (MAC-checked)."""
    return identity_from_metadata(settings(), tracker.latest_message.get("metadata"), tracker.sender_id)


def channel_address(who: Identity) -> str:
    """Where a messaging channel reaches this customer ("whatsapp:+52…" → "+52…"); "" for the widget and the API."""
    return who.subject.split(":", 1)[1] if who.subject and ":" in who.subject else ""


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None)


def utter_article(dispatcher: CollectingDispatcher, response: str) -> None:
    """An answer from the article, with links to this deployment's portal."""
    dispatcher.utter_message(response=response, portal_url=settings().portal_url)


EXPLAIN_CHARGE = "action_explain_charge"
HANDOFF_ACTION = "action_handoff"


class AnswerAction(Action, ABC):
    """An action that answers the message's intent, and holds up when the guess was close.

    When the classifier found a topic customers blur with this one nearly as likely
    (bot.topics.close_call), the answer is followed by a button for it; when a charge
    complaint was nearly as likely as this lookup, the complaint is answered instead
    (`action_explain_charge`, which then offers this lookup); when a person was asked for
    nearly as likely, the conversation goes to one (`action_handoff`).
    """

    @abstractmethod
    def name(self) -> str:
        """Every concrete action names itself; the bases stay abstract and unregistered."""

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        """The answer itself; returns the events."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        # The classified intent (a runner-up after nlu_fallback never reaches an answer: the fallback's rule runs).
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        call = close_call(tracker.latest_message, intent)
        if call.answer == COMPLAINT and self.name() != EXPLAIN_CHARGE:
            return [FollowupAction(EXPLAIN_CHARGE)]
        if call.answer == HANDOFF:
            return [FollowupAction(HANDOFF_ACTION)]
        events = self.answer(dispatcher, tracker, domain)
        also = call.also()
        linking = any(m.get("custom") == LINK_REQUIRED for m in dispatcher.messages)  # the chat asks for the account next
        if also is not None and not linking:
            dispatcher.utter_message(**also)
        return events


class AccountAction(AnswerAction):
    """An answer that needs the customer's own account.

    Customers without a session get what the article says about the same thing
    (`howto_response`) and how to sign in; for an unlinked messaging identity
    the action only says that an account is needed (`LINK_REQUIRED`) and the
    channel starts linking; store failures get a polite apology, never a trace.
    """

    howto_response: Optional[str] = None

    @abstractmethod
    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        """The action itself, for the verified `account`."""

    def without_account(self, dispatcher: CollectingDispatcher, who: Identity) -> None:
        """What a customer without a session gets: the article's how-to and how to sign in."""
        if self.howto_response:
            utter_article(dispatcher, self.howto_response)
        send(dispatcher, sign_in_needed(who.error))

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        who = identity(tracker)
        if who.account is None:
            if who.error == UNLINKED:
                dispatcher.utter_message(json_message=LINK_REQUIRED)
                return []
            self.without_account(dispatcher, who)
            return []
        try:
            return self.run_for(dispatcher, tracker, domain, who.account)
        except UnknownAccount:
            dispatcher.utter_message(text=UNKNOWN_ACCOUNT)
        except Exception:  # noqa: BLE001 - the customer must never see a trace
            logger.exception("action %s failed", self.name())
            dispatcher.utter_message(text=TECHNICAL_PROBLEM)
        return []
