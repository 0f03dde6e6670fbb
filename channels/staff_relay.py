"""The relay: a support agent's messages into the customer's own conversation and channel.

POST /webhooks/handoff/deliver {"case": <id>}, called by the console (or a
helpdesk connector) with `Authorization: Bearer $RASA_API_TOKEN` after it
stored a message for the customer. Running in the Rasa process, it has what
the console has not: the conversation's tracker and the live channels.

For each pending message of the case, under the conversation's lock:
1. it is added to the conversation as a bot event carrying the agent's name
   (so the widget's history shows it at the next visit), and the assistant
   stays paused, or is resumed once the case is closed;
2. it is pushed live: emitted to the widget's room (any replica's emit reaches
   the socket through the Redis manager), or sent with the WhatsApp, Telegram
   or Messenger sender;
3. the account store records what happened. A channel that refuses it leaves
   it pending for the console to retry, then failed, shown to the agent:
   kept and reported, never lost.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import settings
from bot.formatting import CHANNEL_LABELS
from channels.guard import AGENT_KEY
from channels.messaging import MessagingInput
from channels.secure_rest import bearer_token
from channels.secure_socketio import SecureSocketIOInput
from handoff import relay
from handoff.models import Author, Delivery

logger = logging.getLogger(__name__)
WIDGET = "prepago_socketio"


def shown_text(message: relay.Outgoing) -> str:
    """How an agent's message reads on a channel without names on bubbles."""
    return f"{message.agent_name} (Soporte): {message.text}" if message.author == Author.AGENT else message.text


class StaffRelayInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "handoff"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("handoff_relay", __name__)

        @hook.route("/deliver", methods=["POST"])
        async def deliver(request: Request) -> HTTPResponse:
            expected = settings().rasa_api_token or ""
            given = bearer_token(request) or ""
            if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
                return response.json({"error": "no autorizado"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            case_id = body.get("case")
            if not isinstance(case_id, int):
                return response.json({"error": "falta el número de caso"}, status=400)
            route = await asyncio.to_thread(relay.pending, case_id)
            if route is None:
                return response.json({"error": "no existe ese caso"}, status=404)
            states = await self._relay(request.app.ctx.agent, route)
            return response.json({"delivered": states})

        return hook

    async def _relay(self, agent, route: relay.Route) -> dict[str, str]:
        async with agent.lock_store.lock(route.conversation_id):
            tracker = await agent.processor.get_tracker(route.conversation_id)
            for message in route.messages:
                if message.attempts == 0:  # a retry is already in the conversation
                    metadata = {AGENT_KEY: message.agent_name} if message.author == Author.AGENT else {}
                    tracker.update(BotUttered(message.text, metadata=metadata))
            # The case, not the session, decides: a session that expired while the case
            # waited started unpaused, and the agent's message pauses it again.
            if route.closed and tracker.is_paused():
                tracker.update(ConversationResumed())
                # Listening again, as after any turn: the rules expect the next message after action_listen.
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            elif not route.closed and not tracker.is_paused():
                tracker.update(ConversationPaused())
            await agent.processor.save_tracker(tracker)
        states: dict[str, str] = {}
        for message in route.messages:
            delivery, note = await self._push(route, message)
            await asyncio.to_thread(relay.mark, [message.id], delivery, note)
            states[str(message.id)] = delivery.value
        return states

    @staticmethod
    async def _push(route: relay.Route, message: relay.Outgoing) -> tuple[Delivery, Optional[str]]:
        if route.channel == WIDGET:
            sio = SecureSocketIOInput.live
            if sio is None:
                return Delivery.STORED, "El chat web no está activo en este servidor."
            payload = {"text": message.text}
            if message.author == Author.AGENT:
                payload["agent"] = message.agent_name
            await sio.emit("bot_uttered", payload, room=route.conversation_id)
            return Delivery.SENT, None
        target = MessagingInput.live.get(route.channel)
        if target is None or route.channel_user is None:
            # The API has no way to push; a messaging channel may have been switched off.
            note = None if route.channel == "prepago" else f"El canal {route.channel} no está activo."
            return (Delivery.STORED, note) if route.channel == "prepago" else (Delivery.PENDING, note)
        try:
            await target.send_as_agent(target.chat_of(route.channel_user), shown_text(message))
        except Exception as exc:  # noqa: BLE001 - kept pending, retried, then shown to the agent as failed
            logger.warning("handoff message %s on %s failed: %s", message.id, route.channel, exc)
            return Delivery.PENDING, f"{CHANNEL_LABELS.get(route.channel, route.channel)} no lo aceptó: {exc}"[:200]
        return Delivery.SENT, None
