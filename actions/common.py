"""What every action needs: the verified identity and a safe way to reply."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.config import settings
from bot.identity import LINK_REQUIRED, UNLINKED, Identity, identity_from_metadata
from bot.replies import Reply, sign_in_needed
from bot.store import UnknownAccount

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


class AccountAction(Action, ABC):
    """An action that needs the customer's own account.

    Customers without a session get what the article says about the same thing
    (`howto_response`) and how to sign in; for an unlinked messaging identity
    the action only says that an account is needed (`LINK_REQUIRED`) and the
    channel starts linking; store failures get a polite apology, never a trace.
    """

    howto_response: Optional[str] = None

    @abstractmethod
    def name(self) -> str:
        """Every concrete action names itself; the bases stay abstract and unregistered."""

    @abstractmethod
    def run_for(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, account: str) -> list:
        """The action itself, for the verified `account`."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        who = identity(tracker)
        if who.account is None:
            if who.error == UNLINKED:
                dispatcher.utter_message(json_message=LINK_REQUIRED)
                return []
            if self.howto_response:
                utter_article(dispatcher, self.howto_response)
            send(dispatcher, sign_in_needed(who.error))
            return []
        try:
            return self.run_for(dispatcher, tracker, domain, who.account)
        except UnknownAccount:
            dispatcher.utter_message(text=UNKNOWN_ACCOUNT)
        except Exception:  # noqa: BLE001 - the customer must never see a trace
            logger.exception("action %s failed", self.name())
            dispatcher.utter_message(text=TECHNICAL_PROBLEM)
        return []
