"""Helpdesks a company already uses, behind the built-in console's interface.

A desk receives what the console shows (new cases with their transcript, the
customer's later messages) and sends back what the console sends (an
agent's reply, closing the case) through the same `handoff.cases` calls and
the same relay. The built-in console is the default: `PREPAGO_DESK` unset.
"""
from __future__ import annotations

from typing import Optional, Protocol

from aiohttp import web

from bot.config import settings


class Desk(Protocol):
    interval: float  # seconds between two `sync` rounds

    async def sync(self) -> None:
        """Copy new cases and customer messages to the helpdesk (called every few seconds)."""

    def add_routes(self, app: web.Application, relay) -> None:
        """The helpdesk's webhook for agents' replies and closed conversations."""

    async def close(self) -> None:
        """Release connections."""


def configured_desk() -> Optional[Desk]:
    kind = settings().desk.strip().lower()
    if not kind or kind == "console":
        return None
    if kind == "chatwoot":
        from handoff.desks.chatwoot import ChatwootDesk

        return ChatwootDesk.from_env()
    raise SystemExit(f"PREPAGO_DESK={kind!r}: solo se admiten «console» (la consola propia) y «chatwoot».")
