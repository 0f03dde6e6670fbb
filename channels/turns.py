"""One turn of the assistant, for every channel: the customer always gets an answer.

Rasa swallows action-server failures and answers nothing, and a failure in
Rasa itself raises into the channel. Either way the customer gets the same
polite apology and the operator gets the cause in the log.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from channels.guard import NO_ANSWER, Binding

logger = logging.getLogger(__name__)


async def run_turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], text: str, binding: Binding,
                   channel: str, extra_metadata: dict | None = None) -> list[dict]:
    """The bot messages that answer `text`, never an empty list."""
    collector = CollectingOutputChannel()
    metadata = {**binding.metadata(), **(extra_metadata or {})}
    try:
        await on_new_message(UserMessage(text, collector, binding.sender_id, input_channel=channel, metadata=metadata))
    except Exception:  # noqa: BLE001 - the customer gets an apology, the log gets the cause
        logger.exception("%s turn failed", channel)
    return collector.messages or [{"recipient_id": binding.sender_id, "text": NO_ANSWER}]
