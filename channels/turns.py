"""One turn of the assistant, for every channel: the customer always gets an answer.

Rasa swallows action-server failures and answers nothing, and a failure in
Rasa itself raises into the channel. Either way the customer gets the same
polite apology and the operator gets the cause in the log.

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

from channels.guard import DISPLAY_KEY, NO_ANSWER, Binding
from handoff import cases

logger = logging.getLogger(__name__)


async def run_turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], text: str, binding: Binding,
                   channel: str, extra_metadata: dict | None = None) -> list[dict]:
    """The bot messages that answer `text`; empty only while a person has the conversation."""
    collector = CollectingOutputChannel()
    metadata = {**binding.metadata(), **(extra_metadata or {})}
    try:
        await on_new_message(UserMessage(text, collector, binding.sender_id, input_channel=channel, metadata=metadata))
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
    return [{"recipient_id": binding.sender_id, "text": NO_ANSWER}]
