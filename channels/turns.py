"""One turn of the assistant, for every channel: the customer always gets an answer.

Rasa swallows action-server failures and answers nothing, and a failure in
Rasa itself raises into the channel. Either way the customer gets the same
polite apology and the operator gets the cause in the log. One failure has
its own answer: the lock store's `LockError`, raised when the conversation's
previous turn held it longer than a message may wait (`TICKET_LOCK_LIFETIME`);
the message was not processed, so the customer is asked to send it again.

The one silence that is right: a person has the conversation (a support
case is open and Rasa paused it). Then the message goes to the case and the
agent answers (handoff/); only the account store is asked, and only when
Rasa said nothing, so the usual turn costs nothing extra.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError
from rasa.shared.core.constants import USER_INTENT_RESTART
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from channels.guard import DISPLAY_KEY, NO_ANSWER, Binding
from handoff import cases

logger = logging.getLogger(__name__)

STILL_ANSWERING = ("Todavía estoy terminando de responder tu mensaje anterior. Cuando te conteste, "
                   "envíame otra vez este mensaje, por favor.")
STILL_WITH_SUPPORT = ("Tu caso #{case} sigue con una persona de Soporte, así que no puedo reiniciar la conversación "
                      "ahora. Escríbele aquí lo que necesites; cuando cierre el caso, vuelvo a atenderte.")


def _is_restart(text: str) -> bool:
    """Whether Rasa would read `text` as `/restart`, which it runs even on a paused conversation."""
    match = YAMLStoryReader._regex_message_pattern().match(text.strip())  # Rasa's own payload syntax
    return bool(match) and match.group(INTENT_NAME_KEY).strip() == USER_INTENT_RESTART


async def run_turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], text: str, binding: Binding,
                   channel: str, extra_metadata: dict | None = None) -> list[dict]:
    """The bot messages that answer `text`; empty only while a person has the conversation."""
    if _is_restart(text):
        # Rasa restarts even a paused conversation: the assistant would answer while a person has the case.
        case = await asyncio.to_thread(cases.open_case_of, binding.sender_id)
        if case is not None:
            return [{"recipient_id": binding.sender_id, "text": STILL_WITH_SUPPORT.format(case=case)}]
    collector = CollectingOutputChannel()
    metadata = {**binding.metadata(), **(extra_metadata or {})}
    apology = NO_ANSWER
    try:
        await on_new_message(UserMessage(text, collector, binding.sender_id, input_channel=channel, metadata=metadata))
    except LockError:
        logger.warning("%s turn of %s waited too long for the previous one", channel, binding.sender_id)
        apology = STILL_ANSWERING
    except Exception:  # noqa: BLE001 - the customer gets an apology, the log gets the cause
        logger.exception("%s turn failed", channel)
    if collector.messages:
        return collector.messages
    try:
        shown = (extra_metadata or {}).get(DISPLAY_KEY) or text
        note = await asyncio.to_thread(cases.customer_wrote, binding.sender_id, shown)
    except Exception:  # noqa: BLE001 - the customer still gets the apology below
        logger.exception("adding a message to its support case failed")
        note = None
    if note is not None:  # with a person: only the first message is acknowledged, as the description
        return [{"recipient_id": binding.sender_id, "text": note}] if note else []
    return [{"recipient_id": binding.sender_id, "text": apology}]
