"""Telegram: POST /webhooks/telegram/webhook.

Telegram sends the secret given to `setWebhook(secret_token=...)` in the
`X-Telegram-Bot-Api-Secret-Token` header; anything without it gets 403.
Rasa 3.6's Telegram connector accepts any caller. Suggestions become an
inline keyboard; a tap arrives as a callback query carrying the payload.
"""
from __future__ import annotations

import hmac
import logging
from typing import Optional

from sanic.request import Request

from alerts.messages import RetryLater, texts
from bot.config import settings
from channels.messaging import Inbound, Malformed, MessagingInput, buttons_of, plain_text

logger = logging.getLogger(__name__)


PRIVATE_ONLY = ("Por seguridad solo atiendo en chats privados: escríbeme directamente y con gusto te ayudo "
                "con tu Cuenta de Prepago.")


class SecureTelegramInput(MessagingInput):
    channel_key = "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> "SecureTelegramInput":
        c = credentials or {}
        return cls(c.get("access_token") or "", c.get("secret_token") or "",
                   settings().telegram_api_base)

    def __init__(self, access_token: str, secret_token: str, api_base: Optional[str] = None) -> None:
        self.access_token, self.secret_token, self.api_base = access_token, secret_token, api_base
        self._bot = None

    def bot(self):
        if self._bot is None:
            from aiogram import Bot  # aiogram: ≈ 1 s of imports, paid only by a process that sends on Telegram
            # aiogram: ≈ 1 s of imports, paid only by a process that sends on Telegram
            from aiogram.bot.api import TelegramAPIServer

            kwargs = {"server": TelegramAPIServer.from_base(self.api_base)} if self.api_base else {}
            self._bot = Bot(self.access_token, **kwargs)
        return self._bot

    def chat_of(self, user_id: str) -> int:
        return int(user_id)  # a private chat's id is the user's id

    def verified(self, request: Request) -> bool:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
        return bool(self.secret_token) and hmac.compare_digest(given.encode(), self.secret_token.encode())

    async def send(self, chat_id: int, messages: list[dict]) -> None:
        # aiogram: ≈ 1 s of imports, paid only by a process that sends on Telegram
        from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

        buttons = buttons_of(messages)
        texts = [plain_text(m.get("text") or "") for m in messages if m.get("text")] or ["…"]
        for i, text in enumerate(texts):
            markup = None
            if buttons and i == len(texts) - 1:
                markup = InlineKeyboardMarkup(inline_keyboard=[
                    [InlineKeyboardButton(b["title"], callback_data=b["payload"][:64])] for b in buttons])
            await self.bot().send_message(chat_id, text[:4096], reply_markup=markup, disable_web_page_preview=True)

    async def send_alert(self, user_id: str, kind: str, variables: dict) -> None:
        # aiogram: ≈ 1 s of imports, paid only by a process that sends on Telegram
        from aiogram.utils.exceptions import RetryAfter

        try:
            await self.bot().send_message(int(user_id), texts(kind, variables), disable_web_page_preview=True)
        except RetryAfter as exc:  # Telegram's flood control says how long to wait
            raise RetryLater(float(exc.timeout), str(exc)) from exc

    def parse(self, request: Request) -> list[Inbound]:
        update = request.json
        if not isinstance(update, dict):
            raise Malformed("update")
        callback = update.get("callback_query")
        message = update.get("message") or update.get("edited_message")
        if isinstance(callback, dict):
            sender, text, ack = callback.get("from") or {}, callback.get("data"), callback.get("id")
            chat = (callback.get("message") or {}).get("chat") or {"id": sender.get("id"), "type": "private"}
        elif isinstance(message, dict):
            sender, text, ack, chat = message.get("from") or {}, message.get("text"), None, message.get("chat") or {}
        else:
            return []  # other update types: nothing to answer
        update_id, user, chat_id = update.get("update_id"), sender.get("id"), chat.get("id")
        if not all(isinstance(v, int) for v in (update_id, user, chat_id)):
            raise Malformed("ids")
        # A group sees every message: no linking, no PIN, no account data there.
        private = chat.get("type") == "private" and chat_id == user
        return [Inbound(str(user), text, chat_id, str(update_id), refusal=None if private else PRIVATE_ONLY, ack=ack)]

    async def acknowledge(self, inbound: Inbound) -> None:
        if inbound.ack:
            try:
                await self.bot().answer_callback_query(inbound.ack)
            except Exception:  # noqa: BLE001 - only stops the button's spinner
                logger.warning("answerCallbackQuery failed")
