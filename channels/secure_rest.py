"""REST channel with verified identity: POST /webhooks/prepago/webhook.

Body: {"session": "<client conversation key>", "message": "<text>",
       "message_id": "<optional client id of this message>"}.
With a message id, sending the same message again (after a timeout or a
502) returns the same answer instead of a second one (tools/exactly_once.py).
Header: `Authorization: Bearer <customer JWT>` (optional: without it the
assistant answers the FAQ and explains how to sign in).
Unlike Rasa's RestInput, the client never chooses the conversation id.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.guard import BadRequest, bind, message_key, screen_text
from stores.rate_limits import TOO_FAST, allow_message, client_address
from channels.turns import run_turn


def request_client(request: Request) -> str:
    """The client's address (stores/rate_limits.py decides whom to believe).

    Every X-Forwarded-For line counts: HAProxy adds its own line after any the
    client wrote, and reading only the first would believe the client's.
    """
    return client_address(request.ip, ", ".join(request.headers.getall("X-Forwarded-For", [])))


def bearer_token(request: Request) -> Optional[str]:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class SecureRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "prepago"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("prepago_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - Sanic raises on invalid JSON
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "El cuerpo debe ser un objeto JSON."}, status=400)
            try:
                binding = bind(bearer_token(request), body.get("session"), request_client(request))
                key = message_key(body.get("message_id"))
            except BadRequest as exc:
                return response.json({"error": str(exc)}, status=400)
            if not await allow_message(binding.sender_id, binding.client):
                return response.json({"messages": [{"recipient_id": binding.sender_id, "text": TOO_FAST}]}, status=429)
            polite = screen_text(body.get("message"))
            if polite is not None:
                return response.json({"messages": [{"recipient_id": binding.sender_id, "text": polite}]})
            return response.json({"messages": await run_turn(on_new_message, body["message"], binding, self.name(), key)})

        return hook
