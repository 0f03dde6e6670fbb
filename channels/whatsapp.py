"""WhatsApp through Twilio: POST /webhooks/whatsapp/webhook.

Twilio signs every webhook (`X-Twilio-Signature`, HMAC-SHA1 of the URL it
called and the form fields, keyed by the auth token); unsigned or wrongly
signed requests get 403 and never reach the assistant. Rasa 3.6's Twilio
connector checks nothing and replies with a blocking call; we reply with the
Twilio SDK's asyncio client. WhatsApp has no buttons here, so suggestions
become numbered options that the customer answers with the number.
"""
from __future__ import annotations

import json
import logging
from typing import Optional

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from alerts.messages import PermanentFailure, template
from bot.config import settings
from channels.messaging import Inbound, Malformed, MessagingInput, buttons_of, plain_text

logger = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TwilioWhatsAppInput(MessagingInput):
    channel_key = "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> "TwilioWhatsAppInput":
        c = credentials or {}
        return cls(c.get("account_sid") or "", c.get("auth_token") or "", c.get("whatsapp_number") or "",
                   c.get("webhook_url") or "", settings().twilio_api_base)

    def __init__(self, account_sid: str, auth_token: str, whatsapp_number: str, webhook_url: str = "",
                 api_base: Optional[str] = None) -> None:
        self.account_sid, self.auth_token, self.number = account_sid, auth_token, whatsapp_number
        self.webhook_url, self.api_base = webhook_url, api_base
        self._client = None

    def client(self):
        if self._client is None:
            # twilio's client: paid only by a process that sends on WhatsApp
            from twilio.http.async_http_client import AsyncTwilioHttpClient
            from twilio.rest import Client

            self._client = Client(self.account_sid, self.auth_token, http_client=AsyncTwilioHttpClient())
            if self.api_base:  # tests point the real SDK at a local recording server
                self._client.api.base_url = self.api_base
        return self._client

    def verified(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        if not (self.auth_token and signature):
            return False
        # Twilio signs the public URL it called; behind a proxy set `webhook_url`.
        url = self.webhook_url or request.url
        params = {key: values[0] for key, values in request.form.items()}
        return RequestValidator(self.auth_token).validate(url, params, signature)

    async def send(self, user_id: str, messages: list[dict]) -> None:
        buttons = buttons_of(messages)
        texts = [plain_text(m.get("text") or "", bold="*") for m in messages if m.get("text")]
        if buttons:
            options = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, 1))
            texts.append(f"{options}\nResponde con el número de la opción.")
        await self.remember_options(user_id, buttons)
        for body in texts:
            await self.client().messages.create_async(
                from_=f"whatsapp:{self.number}", to=f"whatsapp:{user_id}", body=body[:1600])

    async def send_alert(self, user_id: str, kind: str, variables: dict) -> None:
        # The business starts this conversation, so WhatsApp requires an approved template
        # (Content SID and its variables), inside or outside the 24-hour window; never a body.
        approved = template(kind, variables)
        if approved is None:
            raise PermanentFailure(f"falta la plantilla aprobada de WhatsApp (PREPAGO_WA_TEMPLATE_{kind.upper()})")
        sid, values = approved
        await self.client().messages.create_async(from_=f"whatsapp:{self.number}", to=f"whatsapp:{user_id}",
                                                  content_sid=sid, content_variables=json.dumps(values))

    def parse(self, request: Request) -> list[Inbound]:
        sender = request.form.get("From") or ""
        message_id = request.form.get("MessageSid") or request.form.get("SmsMessageSid")
        if not sender.startswith("whatsapp:+") or not sender[10:].isdigit() or not message_id:
            raise Malformed("remitente o MessageSid inválido")
        user_id = sender[len("whatsapp:"):]
        return [Inbound(user_id, request.form.get("Body"), user_id, message_id)]

    def received(self) -> HTTPResponse:
        return response.text(EMPTY_TWIML, content_type="text/xml")
