"""Facebook Messenger: GET/POST /webhooks/messenger/webhook.

GET answers Meta's subscription check (`hub.verify_token`). POST requires
`X-Hub-Signature-256`, the HMAC-SHA256 of the raw body keyed by the app
secret; anything else gets 403. Suggestions become Messenger quick replies.
Replies go out with the `fbmessenger` SDK (blocking `requests`), run in a
worker thread so the server never waits on Meta.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from alerts.messages import texts
from bot.config import settings
from channels.messaging import Inbound, Malformed, MessagingInput, buttons_of, plain_text

logger = logging.getLogger(__name__)
GRAPH_VERSION = "2.12"


class SecureMessengerInput(MessagingInput):
    channel_key = "messenger"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> "SecureMessengerInput":
        c = credentials or {}
        return cls(c.get("page-access-token") or "", c.get("secret") or "", c.get("verify") or "",
                   settings().graph_api_base)

    def __init__(self, page_access_token: str, app_secret: str, verify_token: str,
                 api_base: Optional[str] = None) -> None:
        self.page_access_token, self.app_secret, self.verify_token = page_access_token, app_secret, verify_token
        self.api_base = api_base
        self._client = None

    def client(self):
        if self._client is None:
            from fbmessenger import MessengerClient  # fbmessenger: paid only by a process that sends on Messenger

            self._client = MessengerClient(self.page_access_token, api_version=GRAPH_VERSION)
            if self.api_base:  # tests point the real SDK at a local recording server
                self._client.graph_url = f"{self.api_base.rstrip('/')}/v{GRAPH_VERSION}"
        return self._client

    def verified(self, request: Request) -> bool:
        given = request.headers.get("X-Hub-Signature-256") or ""
        if not (self.app_secret and given.startswith("sha256=")):
            return False
        expected = hmac.new(self.app_secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given[len("sha256="):], expected)

    async def send(self, psid: str, messages: list[dict]) -> None:
        buttons = buttons_of(messages)[:13]
        texts = [plain_text(m.get("text") or "") for m in messages if m.get("text")] or ["…"]
        for i, text in enumerate(texts):
            payload: dict = {"text": text[:2000]}
            if buttons and i == len(texts) - 1:
                payload["quick_replies"] = [
                    {"content_type": "text", "title": b["title"][:20], "payload": b["payload"]} for b in buttons]
            await asyncio.to_thread(self.client().send, payload, psid, "RESPONSE")

    async def _tagged(self, psid: str, text: str, tag: str) -> None:
        # Outside Messenger's 24-hour window only a tagged message may go. Errors come back as a body.
        result = await asyncio.to_thread(self.client().send, {"text": plain_text(text)[:2000]}, psid,
                                         "MESSAGE_TAG", "REGULAR", 20, tag)
        if isinstance(result, dict) and result.get("error"):
            raise RuntimeError((result["error"] or {}).get("message") or "Messenger rechazó el mensaje")

    async def send_as_agent(self, psid: str, text: str) -> None:
        await self._tagged(psid, text, "HUMAN_AGENT")  # a person's reply, up to 7 days after the customer wrote

    async def send_alert(self, psid: str, kind: str, variables: dict) -> None:
        await self._tagged(psid, texts(kind, variables), "ACCOUNT_UPDATE")  # a change to the customer's account

    def extra_routes(self, hook: Blueprint) -> None:
        @hook.route("/webhook", methods=["GET"])
        async def subscribe(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if (request.args.get("hub.mode") == "subscribe" and self.verify_token
                    and hmac.compare_digest(token.encode(), self.verify_token.encode())):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("token de verificación inválido", status=403)

    def parse(self, request: Request) -> list[Inbound]:
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
            raise Malformed("entry")
        inbound = []
        for entry in body["entry"]:
            for event in (entry or {}).get("messaging") or []:
                psid = ((event or {}).get("sender") or {}).get("id")
                message, postback = event.get("message") or {}, event.get("postback") or {}
                if not isinstance(psid, str) or message.get("is_echo"):
                    continue
                text = (message.get("quick_reply") or {}).get("payload") or postback.get("payload") or message.get("text")
                if text is None and not message:
                    continue  # delivery/read receipts
                mid = message.get("mid") or postback.get("mid") or f"{psid}:{event.get('timestamp')}"
                inbound.append(Inbound(psid, text, psid, str(mid)))
        return inbound

    def received(self) -> HTTPResponse:
        return response.text("EVENT_RECEIVED")
