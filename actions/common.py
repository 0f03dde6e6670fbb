"""What every action needs: the verified identity and a safe way to reply."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.config import settings
from bot import linking
from bot.identity import UNLINKED, Identity, identity_from_metadata
from bot.replies import Reply, sign_in_needed
from bot.store import UnknownAccount

logger = logging.getLogger(__name__)

TECHNICAL_PROBLEM = (
    "Perdón, tuve un problema técnico para consultar tu cuenta. "
    "Intenta de nuevo en unos minutos; tus datos no se modificaron."
)
UNKNOWN_ACCOUNT = (
    "No encontré una Cuenta de Prepago asociada a tu sesión. "
    "Si crees que es un error, escribe «agente» y te digo cómo contactar a Soporte."
)


def identity(tracker: Tracker) -> Identity:
    """The account the channel verified for the latest message (MAC-checked)."""
    return identity_from_metadata(settings(), tracker.latest_message.get("metadata"), tracker.sender_id)


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None)


def account_lookup(run: Callable[..., list]) -> Callable[..., Any]:
    """Wrap an action that needs the customer's account.

    Anonymous web customers get the sign-in explanation, unlinked messaging
    identities start account linking; store failures get a polite Spanish
    apology instead of a stack trace.
    """

    @functools.wraps(run)
    def wrapper(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        who = identity(tracker)
        if who.account is None:
            if who.error == UNLINKED and who.subject:
                channel, _, user_id = who.subject.partition(":")
                dispatcher.utter_message(text=linking.begin(channel, user_id))
            else:
                send(dispatcher, sign_in_needed(who.error))
            return []
        try:
            return run(self, dispatcher, tracker, domain, who.account)
        except UnknownAccount:
            dispatcher.utter_message(text=UNKNOWN_ACCOUNT)
        except Exception:  # noqa: BLE001 - the customer must never see a trace
            logger.exception("action %s failed", self.name())
            dispatcher.utter_message(text=TECHNICAL_PROBLEM)
        return []

    return wrapper
