"""What WhatsApp, Telegram and Messenger channels share: the webhook itself.

`MessagingInput.blueprint` is the one skeleton: verify the provider's
signature, parse the body, drop retried deliveries, link the identity in
front of Rasa, run the turn, send the replies, log what failed. Each provider
module supplies only `verified`, `parse` and `send` (and optionally
`acknowledge` and `extra_routes`).
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from alerts.messages import texts
from bot import deliveries, linking
from bot.identity import LINK_REQUIRED, STEP_UP_REQUIRED
from channels.guard import DISPLAY_KEY, bind_messaging, screen_text
from channels.turns import run_turn
from stores.rate_limits import MESSAGES, TOO_FAST

logger = logging.getLogger(__name__)

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")


def plain_text(text: str, bold: str = "") -> str:
    """Our bubbles' Markdown for apps without it: links spelled out, `**x**` as `{bold}x{bold}`."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return re.sub(r"\*\*(.+?)\*\*", lambda m: f"{bold}{m.group(1)}{bold}", text)


class Malformed(ValueError):
    """A signed body that is not what the provider documents: answered with 400."""


@dataclass(frozen=True)
class Inbound:
    """One customer message, as the provider delivered it."""

    user_id: str  # the chat identity that links to an account
    text: Any  # what was written or tapped; checked before it reaches Rasa
    reply_to: Any  # where the replies go
    message_id: str  # the provider's id, the same on every retry
    refusal: Optional[str] = None  # answer only this, without running a turn
    ack: Optional[str] = None  # a provider token to acknowledge (Telegram's callback query)


class MessagingInput(InputChannel):
    """Base of the messaging channels; `channel_key` names the provider."""

    channel_key = "messaging"

    @classmethod
    def name(cls) -> str:
        """Rasa's name for the channel (its webhook path and `input_channel`): the provider's key."""
        return cls.channel_key

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

    # --- what each provider supplies ---------------------------------------
    def verified(self, request: Request) -> bool:
        raise NotImplementedError

    def parse(self, request: Request) -> list[Inbound]:
        """The customer messages in a verified body; raise Malformed if it is not the documented shape."""
        raise NotImplementedError

    async def send(self, reply_to: Any, messages: list[dict]) -> None:
        raise NotImplementedError

    async def send_as_agent(self, reply_to: Any, text: str) -> None:
        """A support agent's message (channels/staff_relay.py); a provider with rules for
        human replies overrides it (Messenger's HUMAN_AGENT tag)."""
        await self.send(reply_to, [{"text": text}])

    async def send_alert(self, user_id: str, kind: str, variables: dict) -> None:
        """A proactive alert (alerts/worker.py); providers with rules for them override it."""
        await self.send(self.chat_of(user_id), [{"text": texts(kind, variables)}])

    async def acknowledge(self, inbound: Inbound) -> None:
        """Tell the provider a tap was received (only Telegram needs it)."""

    def extra_routes(self, hook: Blueprint) -> None:
        """More routes on the webhook (Messenger's subscription check)."""

    def received(self) -> HTTPResponse:
        return response.text("ok")

    # --- the skeleton ------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = self.new_blueprint()
        self.extra_routes(hook)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.verified(request):
                return response.text("firma inválida", status=403)
            try:
                inbound = self.parse(request)
            except (Malformed, AttributeError, KeyError, TypeError, ValueError):
                return response.text("cuerpo inválido", status=400)
            for message in inbound:
                await self.handle(on_new_message, message)
            return self.received()

        return hook

    async def handle(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], inbound: Inbound) -> None:
        if not await asyncio.to_thread(deliveries.first_delivery, self.channel_key, inbound.message_id):
            return  # a retry of a message already answered
        await self.acknowledge(inbound)
        if inbound.refusal is not None:
            messages = [{"text": inbound.refusal}]
        elif not await MESSAGES.allow(f"{self.channel_key}:{inbound.user_id}"):
            messages = [{"text": TOO_FAST}]
        else:
            messages = await self.process(on_new_message, inbound.user_id, inbound.text)
        if not messages:
            return  # a person has the conversation: they answer
        try:
            await self.send(inbound.reply_to, messages)
        except Exception:  # noqa: BLE001 - providers do not retry a 200; log for the operator
            logger.exception("sending the %s reply failed", self.channel_key)

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
        binding = bind_messaging(self.channel_key, user_id, decision.account)
        shown = {DISPLAY_KEY: decision.title} if decision.title else None
        messages = []
        for message in await run_turn(on_new_message, decision.text, binding, self.name(), shown):
            custom = message.get("custom") if isinstance(message.get("custom"), dict) else {}
            if custom == LINK_REQUIRED:  # an action needs the account: link this chat first
                message = {"text": await asyncio.to_thread(linking.begin, self.channel_key, user_id)}
            elif custom.get("prepago") == STEP_UP_REQUIRED["prepago"]:  # money moves only after the PIN, again
                message = {"text": await asyncio.to_thread(linking.begin_step_up, self.channel_key, user_id,
                                                           custom.get("resume"))}
            messages.append(message)
        return messages

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
