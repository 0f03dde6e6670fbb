"""At most one answer per client message, whichever replica gets the retry.

When a replica dies between taking a message and replying, the load balancer
(or the client) sends the message again, possibly to another replica. If the
first replica had already saved the turn, processing it again would answer
twice and store the turn twice. Clients that send a message id
(`channels.guard.message_key`) get exactly-once answers instead: the id is
kept in the stored user event's metadata, and a message whose id the
conversation already holds is answered with the replies stored after it.

The check runs inside `MessageProcessor.handle_message`, which Rasa calls
while holding the conversation's lock (`stores.lock_store`), so a retry
racing the original waits for it and then sees its saved turn.
"""
from __future__ import annotations

import functools
from typing import Any, Iterable, Optional

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import BotUttered, Event, UserUttered

from channels.guard import MESSAGE_ID_KEY

_NOT_REPLAYED = {"timestamp"}


def replies_to(events: Iterable[Event], message_id: str) -> Optional[list[dict[str, Any]]]:
    """The bot messages stored after the user message with `message_id`; None if it was never stored."""
    replies: Optional[list[dict[str, Any]]] = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if (event.metadata or {}).get(MESSAGE_ID_KEY) == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append({k: v for k, v in event.message().items() if v is not None and k not in _NOT_REPLAYED})
    return replies


def idempotent(handle_message):
    """Wrap MessageProcessor.handle_message (rasa 3.6) with the replay above."""

    @functools.wraps(handle_message)
    async def handle(self, message):
        message_id = (message.metadata or {}).get(MESSAGE_ID_KEY)
        if message_id:
            tracker = await self.tracker_store.retrieve(message.sender_id)
            replies = replies_to(tracker.events, message_id) if tracker else None
            if replies is not None:
                for reply in replies:
                    await message.output_channel.send_response(message.sender_id, reply)
                if isinstance(message.output_channel, CollectingOutputChannel):
                    return message.output_channel.messages
                return None
        return await handle_message(self, message)

    return handle
