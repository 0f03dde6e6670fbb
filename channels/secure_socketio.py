"""socket.io channel for the web widget, with verified identity.

Rasa 3.6's SocketIOInput lets the client pick the conversation id (its
`jwt_key` only gates the connection). Here the client sends its token and a
client session key when connecting (`auth: {token, session}`); the server
derives the conversation from the verified account, joins the socket to that
room only, and replays that conversation's history on reconnect.

Across replicas (`bot cluster`), `redis_url` turns on python-socketio's
Redis client manager: an emit to a conversation's room from any replica (a
reply, a `trigger_intent`, an agent's message) reaches the socket wherever it
is connected. The load balancer keeps each socket on one replica (sticky
cookie) and the widget reconnects through it when that replica dies; the
history comes from the shared tracker store.

python-socketio is pinned to 5.9 (enter_room became a coroutine in 5.10 and
Rasa 3.6 calls it without await: RasaHQ/rasa#13027); `_maybe_await` keeps
this channel correct on either side of that change.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from alerts.outbox import for_visit
from channels.guard import AGENT_KEY, DISPLAY_KEY, MESSAGE_ID_KEY, BadRequest, bind, message_key, screen_text
from channels.secure_rest import request_client
from channels.turns import run_turn
from stores.rate_limits import TOO_FAST, allow_message

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 50


async def _maybe_await(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


class _AppAwareBlueprint(SocketBlueprint):
    def register(self, app: Sanic, options: dict) -> None:
        self.ctx.app = app
        super().register(app, options)


def history_of(events, limit: int = HISTORY_LIMIT) -> list[dict]:
    """What the widget shows for past turns: customer texts and bot bubbles."""
    items: list[dict] = []
    for event in events:
        if isinstance(event, UserUttered) and event.text is not None:
            metadata = event.metadata or {}
            items.append({"from": "user", "text": metadata.get(DISPLAY_KEY) or event.text,
                          "id": metadata.get(MESSAGE_ID_KEY)})
        elif isinstance(event, BotUttered) and (event.text or event.data.get("buttons")):
            buttons = [{"title": b.get("title"), "payload": b.get("payload")} for b in event.data.get("buttons") or []]
            item = {"from": "bot", "text": event.text or "", "buttons": buttons}
            agent = (event.metadata or {}).get(AGENT_KEY)
            if agent:  # a person's reply: the widget shows it as plain text, with their name
                item["agent"] = agent
            items.append(item)
    return items[-limit:]


class SecureSocketIOInput(InputChannel):
    # The running server, so a support agent's reply can be emitted into a
    # conversation's room (channels/staff_relay.py); any replica's emit reaches it.
    live: Optional[AsyncServer] = None

    @classmethod
    def name(cls) -> str:
        return "prepago_socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> "SecureSocketIOInput":
        credentials = credentials or {}
        return cls(
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            cors_allowed_origins=credentials.get("cors_allowed_origins", "*"),
            redis_url=credentials.get("redis_url") or None,  # "${VAR}" left empty: one process, no manager
            redis_channel=credentials.get("redis_channel") or "prepago-socketio",
        )

    def __init__(self, socketio_path: str = "/socket.io", cors_allowed_origins: Any = "*",
                 redis_url: Optional[str] = None, redis_channel: str = "prepago-socketio") -> None:
        self.socketio_path = socketio_path
        self.cors_allowed_origins = cors_allowed_origins
        self.redis_url = redis_url
        self.redis_channel = redis_channel
        self.sio: Optional[AsyncServer] = None

    def get_output_channel(self) -> Optional[SocketIOOutput]:
        return SocketIOOutput(self.sio, "bot_uttered") if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        manager = AsyncRedisManager(self.redis_url, channel=self.redis_channel) if self.redis_url else None
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.cors_allowed_origins, client_manager=manager)
        hook = _AppAwareBlueprint(sio, self.socketio_path, "prepago_socketio_webhook", __name__)
        self.sio = SecureSocketIOInput.live = sio

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: str, environ: dict, auth: Optional[dict]) -> bool:
            auth = auth if isinstance(auth, dict) else {}
            try:
                # engineio's Sanic driver leaves REMOTE_ADDR at 127.0.0.1: the address is on its request.
                binding = bind(auth.get("token") or None, auth.get("session"), request_client(environ["sanic.request"]))
            except BadRequest:
                return False  # the widget always sends a well-formed session key
            await sio.save_session(sid, {"binding": binding})
            await _maybe_await(sio.enter_room(sid, binding.sender_id))
            return True

        @sio.on("session_request")
        async def session_request(sid: str, _data: Any = None) -> None:
            binding = (await sio.get_session(sid))["binding"]
            if binding.identity.expired():  # no account, history or alerts on a token that has expired
                await sio.emit("session_expired", {"id": None}, room=sid)
                return
            error = binding.identity.error
            await sio.emit(
                "session_confirm",
                {"signed_in": binding.account is not None, "account": binding.account,
                 "auth_error": error if error != "missing" else None,
                 "history": await self._history(hook, binding.sender_id)},
                room=sid,
            )
            if binding.account:  # alerts that waited for this visit (alerts/), shown once
                for text in await self._alerts_for(binding.account):
                    await sio.emit("bot_uttered", {"text": text, "alert": True}, room=sid)

        @sio.on("user_uttered")
        async def handle_message(sid: str, data: Any) -> None:
            binding = (await sio.get_session(sid))["binding"]
            data = data if isinstance(data, dict) else {}
            text = data.get("message")
            try:
                key = message_key(data.get("id"))
            except BadRequest:
                key = None  # an id is only a retry guard; a bad one never costs the customer an answer
            if binding.identity.expired():
                # The token expired on an open socket: ask the widget for a fresh one; it sends this again.
                await sio.emit("session_expired", {"id": (key or {}).get(MESSAGE_ID_KEY)}, room=sid)
                return
            output = SocketIOOutput(sio, "bot_uttered")
            polite = TOO_FAST if not await allow_message(binding.sender_id, binding.client) else screen_text(text)
            if polite is not None:
                messages = [{"text": polite}]
            else:
                title = data.get("title")
                shown = {DISPLAY_KEY: title[:80]} if isinstance(title, str) and text.startswith("/") else {}
                messages = await run_turn(on_new_message, text, binding, self.name(), {**shown, **(key or {})})
            for message in messages:  # none while a person has the conversation
                # Rasa renders each collected message as it would have streamed it.
                await output.send_response(binding.sender_id, {k: v for k, v in message.items() if k != "recipient_id"})
            await sio.emit("bot_done", {"id": (key or {}).get(MESSAGE_ID_KEY)}, room=sid)

        return hook

    @staticmethod
    async def _alerts_for(account: str) -> list[str]:
        try:
            return await asyncio.to_thread(for_visit, account)
        except Exception:  # noqa: BLE001 - an alert is never worth a failed connection; it stays waiting
            logger.exception("could not load the alerts waiting for this visit")
            return []

    async def _history(self, hook: _AppAwareBlueprint, sender_id: str) -> list[dict]:
        agent = getattr(getattr(hook.ctx, "app", None), "ctx", None)
        agent = getattr(agent, "agent", None)
        if agent is None or agent.tracker_store is None:
            return []
        try:
            tracker = await _maybe_await(agent.tracker_store.retrieve(sender_id))
        except Exception:  # noqa: BLE001 - history is a convenience, never a failure
            logger.exception("could not load history")
            return []
        return history_of(tracker.events) if tracker else []
