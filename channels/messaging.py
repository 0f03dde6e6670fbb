"""What WhatsApp, Telegram and Messenger channels share: verified identity,
account linking in front of Rasa, and rendering replies for plain-text apps.

Each provider module only authenticates its webhook, parses its payload and
sends the replies with the provider's SDK.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response

from bot import linking
from bot.config import settings
from bot.identity import UNLINKED, Identity, channel_conversation_id, identity_metadata
from channels.guard import DISPLAY_KEY, NO_ANSWER, screen_text

logger = logging.getLogger(__name__)

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")


def plain_text(text: str, bold: str = "") -> str:
    """Our bubbles' Markdown for apps without it: links spelled out, `**x**` as `{bold}x{bold}`."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return re.sub(r"\*\*(.+?)\*\*", lambda m: f"{bold}{m.group(1)}{bold}", text)


class MessagingInput(InputChannel):
    """Base of the messaging channels; `channel_key` names the provider."""

    channel_key = "messaging"
    # The running channels by key: a lock found on one channel alerts the
    # account holder on the channels their account is linked to.
    live: dict[str, "MessagingInput"] = {}

    def new_blueprint(self) -> Blueprint:
        """The channel's blueprint, with the health check every channel has."""
        MessagingInput.live[self.channel_key] = self
        hook = Blueprint(f"{self.channel_key}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        return hook

    async def process(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], user_id: str,
                      text: Any) -> list[dict]:
        """Run one inbound text; returns the bot messages to deliver to `user_id`."""
        polite = screen_text(text)
        if polite is not None:
            return [{"text": polite}]
        # Linking state lives in the account store; keep its blocking I/O off the event loop.
        decision = await asyncio.to_thread(linking.intercept, self.channel_key, user_id, text)
        if decision.alert:
            await self._alert(decision.alert, decision.alert_to)
        if decision.reply is not None:
            return [{"text": decision.reply}]
        account = decision.account
        cfg = settings()
        sender_id = channel_conversation_id(cfg, self.channel_key, user_id)
        who = Identity(account, None if account else UNLINKED, subject=f"{self.channel_key}:{user_id}")
        metadata = identity_metadata(cfg, who, sender_id)
        if decision.title:
            metadata[DISPLAY_KEY] = decision.title
        collector = CollectingOutputChannel()
        try:
            await on_new_message(UserMessage(decision.text, collector, sender_id,
                                             input_channel=self.name(), metadata=metadata))
        except Exception:  # noqa: BLE001 - the customer gets an apology, the log gets the cause
            logger.exception("%s message failed", self.channel_key)
        return collector.messages or [{"text": NO_ANSWER}]

    def chat_of(self, user_id: str) -> Any:
        """Where `send` delivers to a linked identity (its own chat)."""
        return user_id

    @staticmethod
    async def _alert(text: str, identities: tuple[tuple[str, str], ...]) -> None:
        for channel, user_id in identities:
            target = MessagingInput.live.get(channel)
            if target is None:
                logger.warning("security alert not sent: channel %s is not running", channel)
                continue
            try:
                await target.send(target.chat_of(user_id), [{"text": text}])
            except Exception:  # noqa: BLE001 - the lock holds whether or not the alert arrives
                logger.exception("security alert on %s failed", channel)

    async def remember_options(self, user_id: str, buttons: list[dict]) -> None:
        await asyncio.to_thread(linking.remember_options, self.channel_key, user_id, buttons)


def buttons_of(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in (m.get("buttons") or [])]
