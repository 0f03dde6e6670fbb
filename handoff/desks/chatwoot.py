"""Chatwoot as the helpdesk: its agents answer handed-over conversations in their own inbox.

Why Chatwoot: it is open source and self-hosted like this assistant (no
per-agent cloud licence), and its "API channel" inbox exists for exactly this
relay: we create the contact and the conversation, post the customer's
messages as incoming, and Chatwoot calls our webhook with each agent reply.
It has no maintained Python client, so this speaks its REST API with aiohttp
(`api_access_token` header), as Chatwoot documents it.

- every `interval` seconds `sync()` copies new cases (one conversation each,
  opened with a private note holding the reason and the transcript) and the
  customer's later messages;
- `POST /desk/chatwoot/<secret>` takes Chatwoot's `message_created`
  (outgoing, not private: an agent's reply) and `conversation_status_changed`
  (resolved: the case closes) and relays them to the customer exactly like
  the built-in console does. Chatwoot does not sign its webhooks; the secret
  in the URL is what a caller must know.

Settings (environment): PREPAGO_DESK=chatwoot, CHATWOOT_URL,
CHATWOOT_ACCOUNT_ID, CHATWOOT_INBOX_ID (an API-channel inbox),
CHATWOOT_API_TOKEN (an agent bot's or user's access token) and
CHATWOOT_WEBHOOK_SECRET (32+ characters, also in the webhook URL you give
Chatwoot: https://<console>/desk/chatwoot/<secret>).
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Optional

import aiohttp
from aiohttp import web

from bot.config import ConfigError, settings
from handoff import cases, desk_sync

logger = logging.getLogger(__name__)


class ChatwootDesk:
    def __init__(self, base_url: str, account_id: str, inbox_id: int, api_token: str, webhook_secret: str,
                 interval: float = 2.0) -> None:
        if len(webhook_secret) < 32:
            raise SystemExit("CHATWOOT_WEBHOOK_SECRET debe tener al menos 32 caracteres aleatorios.")
        self.api = f"{base_url.rstrip('/')}/api/v1/accounts/{account_id}"
        self.inbox_id, self.token, self.secret, self.interval = inbox_id, api_token, webhook_secret, interval
        self.http: Optional[aiohttp.ClientSession] = None

    @classmethod
    def from_env(cls) -> "ChatwootDesk":
        c = settings()
        try:
            c.require("chatwoot_url", "chatwoot_account_id", "chatwoot_inbox_id", "chatwoot_api_token",
                      "chatwoot_webhook_secret")
        except ConfigError as exc:
            raise SystemExit(f"PREPAGO_DESK=chatwoot: {exc}") from None
        return cls(c.chatwoot_url, c.chatwoot_account_id, c.chatwoot_inbox_id, c.chatwoot_api_token,
                   c.chatwoot_webhook_secret, c.desk_sync_seconds)

    async def _post(self, path: str, body: dict) -> dict:
        if self.http is None:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20),
                                              headers={"api_access_token": self.token})
        async with self.http.post(f"{self.api}{path}", json=body) as response:
            if response.status >= 300:
                raise RuntimeError(f"Chatwoot answered {response.status} to {path}: {(await response.text())[:200]}")
            return await response.json()

    # --- our cases into Chatwoot -------------------------------------------------
    async def sync(self) -> None:
        new, messages = await asyncio.to_thread(desk_sync.desk_backlog)
        for case in new:
            contact = await self._post("/contacts", {"inbox_id": self.inbox_id, "name": case.title,
                                                     "identifier": f"prepago-caso-{case.id}"})
            payload = contact.get("payload") or {}
            source_id = (payload.get("contact_inbox") or {}).get("source_id")
            conversation = await self._post("/conversations", {
                "source_id": source_id, "inbox_id": self.inbox_id, "contact_id": (payload.get("contact") or {}).get("id"),
                "status": "open", "custom_attributes": {"prepago_case": case.id}})
            ref = str(conversation["id"])
            await self._post(f"/conversations/{ref}/messages",
                             {"content": case.summary, "message_type": "outgoing", "private": True})
            await asyncio.to_thread(desk_sync.set_desk_ref, case.id, ref)
        for message_id, ref, text in messages:
            await self._post(f"/conversations/{ref}/messages", {"content": text, "message_type": "incoming"})
            await asyncio.to_thread(desk_sync.mark_synced, [message_id])

    # --- Chatwoot's agents back to the customer ------------------------------------
    def add_routes(self, app: web.Application, relay) -> None:
        async def webhook(request: web.Request) -> web.Response:
            if not hmac.compare_digest(request.match_info["secret"].encode(), self.secret.encode()):
                return web.json_response({"error": "no autorizado"}, status=403)
            try:
                event = await request.json()
            except ValueError:
                return web.json_response({"error": "JSON inválido"}, status=400)
            if not isinstance(event, dict):
                return web.json_response({"error": "JSON inválido"}, status=400)
            case_id = await self._apply(event)
            if case_id is not None:
                await relay(case_id)
            return web.json_response({"ok": True})

        app.router.add_post("/desk/chatwoot/{secret}", webhook)

    async def _apply(self, event: dict) -> Optional[int]:
        """Store what the event means for our case; None if it means nothing to us."""
        kind = event.get("event")
        if kind == "message_created":
            agent_reply = event.get("message_type") == "outgoing" and not event.get("private")
            ref = (event.get("conversation") or {}).get("id")
            text = event.get("content")
            if not agent_reply or ref is None or not isinstance(text, str):
                return None  # our own notes and the customer's messages come back too: ignore them
            action = lambda case_id: cases.agent_reply(  # noqa: E731
                case_id, None, text, desk_agent=(event.get("sender") or {}).get("name"))
        elif kind == "conversation_status_changed" and event.get("status") == "resolved":
            ref = event.get("id")
            action = lambda case_id: cases.close(case_id, None, desk_agent="Soporte")  # noqa: E731
        else:
            return None
        case_id = await asyncio.to_thread(desk_sync.case_for_desk, str(ref))
        if case_id is None:
            return None
        try:
            await asyncio.to_thread(action, case_id)
        except cases.CaseError as exc:  # e.g. a reply to a case closed here: Chatwoot needs no retry
            logger.info("Chatwoot event for case %s ignored: %s", case_id, exc)
            return None
        return case_id

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
