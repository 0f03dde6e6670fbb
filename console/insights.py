"""The insights page of the staff console: charts, the unanswered questions, labelling.

Same sign-in and CSRF rules as the rest of the console (console/app.py).
Figures come from `insight_turns`, brought up to date (incrementally) when the
console starts (the first run also groups the unanswered messages stored before
the groups existed) and before each answer, at most every few seconds. The
unanswered list comes a page at a time (`?limit=&offset=`).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
import yaml
from aiohttp import web

from bot.config import BUSINESS_TIMEZONE, PROJECT_ROOT
from bot.periods import today_in
from bot.privacy import redact
from bot.topics import INTENT_TITLES
from console.app import require_staff, staff_page
from console.web import add_files
from insights import metrics, unanswered
from insights.ingest import events, ingest
from insights.source import tracker_engine
from payments.audit import summary

logger = logging.getLogger(__name__)
WEB = PROJECT_ROOT / "web"
FILES = {"/insights.js": WEB / "console" / "insights.js",
         "/vendor/chart.umd.min.js": WEB / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"}
FRESH_SECONDS = 5.0
MAX_DAYS = 366
MAX_OFFSET = 1_000_000


@functools.lru_cache(maxsize=1)
def _intents() -> frozenset[str]:
    """The assistant's intents, read once: a label must be one of them."""
    return frozenset(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["intents"])


def _range(request: web.Request) -> tuple[date, date]:
    try:
        until = date.fromisoformat(request.query["until"]) if request.query.get("until") else today_in(BUSINESS_TIMEZONE)
        since = date.fromisoformat(request.query["since"]) if request.query.get("since") else until - timedelta(29)
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "Fechas inválidas: usa AAAA-MM-DD."}', content_type="application/json")
    if since > until or (until - since).days > MAX_DAYS:
        raise web.HTTPBadRequest(text='{"error": "El rango de fechas no es válido (máximo un año)."}',
                                 content_type="application/json")
    return since, until


def _page(request: web.Request) -> tuple[int, int]:
    """`limit` (1 to 100, 20 unless given) and `offset` (from 0) of the unanswered list."""
    bounds = {"limit": (unanswered.PAGE, 1, unanswered.MAX_PAGE), "offset": (0, 0, MAX_OFFSET)}
    values = []
    for name, (default, low, high) in bounds.items():
        raw = request.query.get(name, "")
        if not raw:
            values.append(default)
            continue
        if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
            raise web.HTTPBadRequest(text=json.dumps({"error": f"«{name}» debe ser un número entero entre {low} y "
                                                               f"{high:,}."}, ensure_ascii=False),
                                     content_type="application/json")
        values.append(int(raw))
    return values[0], values[1]


class _Fresh:
    """Ingest new events before answering, one run at a time, at most every FRESH_SECONDS."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.last = 0.0

    async def __call__(self) -> None:
        async with self.lock:
            if time.monotonic() - self.last >= FRESH_SECONDS:
                await asyncio.to_thread(ingest, tracker_engine())
                self.last = time.monotonic()


def _transcript(sender_id: str) -> list[dict]:
    """A conversation as the customer and the assistant saw it, redacted, for the unanswered list's links."""
    with tracker_engine().connect() as connection:
        rows = connection.execute(
            sa.select(events.c.type_name, events.c.data).where(events.c.sender_id == sender_id,
                                                              events.c.type_name.in_(("user", "bot")))
            .order_by(events.c.id.desc()).limit(80)).all()
    lines = []
    for kind, data in reversed(rows):
        body = json.loads(data)
        text = (body.get("metadata") or {}).get("display_text") or body.get("text") or ""
        if text:
            lines.append({"author": "customer" if kind == "user" else "bot", "text": redact(text)})
    return lines


def _self_service(since: date, until: date) -> dict:
    """Payments done from the chat (payments/): operations, success rate and declines per day."""
    midnight = datetime.min.time()
    return summary(datetime.combine(since, midnight, timezone.utc),
                   datetime.combine(until + timedelta(days=1), midnight, timezone.utc))


def add_routes(app: web.Application) -> None:
    fresh = _Fresh()

    async def insights_page(request: web.Request) -> web.Response:
        return await staff_page(request, "insights.html")

    async def figures(request: web.Request) -> web.Response:
        await require_staff(request)
        since, until = _range(request)
        await fresh()
        body = await asyncio.to_thread(metrics.report, since, until)
        body["self_service"] = await asyncio.to_thread(_self_service, since, until)
        # The page's default range is the business's last 30 days, not the browser's calendar.
        body["range"] = {"since": since.isoformat(), "until": until.isoformat()}
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def figures_csv(request: web.Request) -> web.Response:
        await require_staff(request)
        since, until = _range(request)
        await fresh()
        body = metrics.to_csv(await asyncio.to_thread(metrics.report, since, until))
        return web.Response(text=body, content_type="text/csv", charset="utf-8", headers={
            "Content-Disposition": f'attachment; filename="insights-{since}-{until}.csv"', "Cache-Control": "no-store"})

    async def missed(request: web.Request) -> web.Response:
        await require_staff(request)
        since, until = _range(request)
        limit, offset = _page(request)
        await fresh()
        found = await asyncio.to_thread(unanswered.groups, since, until, limit=limit, offset=offset)
        choices = [{"intent": i, "title": INTENT_TITLES.get(i, i)} for i in sorted(_intents())]
        return web.json_response({**found, "intents": choices}, headers={"Cache-Control": "no-store"})

    async def label(request: web.Request) -> web.Response:
        who = await require_staff(request, change=True)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.json_response({"error": "El cuerpo debe ser un objeto JSON."}, status=400)
        try:
            await asyncio.to_thread(unanswered.label, body.get("text"), body.get("label"), who.display_name,
                                    _intents())
        except unanswered.LabelError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def conversation(request: web.Request) -> web.Response:
        await require_staff(request)
        lines = await asyncio.to_thread(_transcript, request.match_info["sender"][:255])
        if not lines:
            return web.json_response({"error": "No encontré esa conversación."}, status=404)
        return web.json_response({"lines": lines}, headers={"Cache-Control": "no-store"})

    async def catch_up(app: web.Application) -> None:
        # At start, not in the first request: after an upgrade the first run groups every stored message.
        async def run() -> None:
            try:
                await fresh()
            except Exception as exc:  # noqa: BLE001 - e.g. Rasa has not created its tables yet: the next request tries again
                logger.warning("insights: the ingest at start did not run (%s)", exc)

        app["insights_catch_up"] = asyncio.create_task(run())

    async def stop_catching_up(app: web.Application) -> None:
        app["insights_catch_up"].cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app["insights_catch_up"]

    app.on_startup.append(catch_up)
    app.on_cleanup.append(stop_catching_up)
    app.router.add_get("/insights", insights_page)
    add_files(app, FILES)
    app.router.add_get("/api/insights", figures)
    app.router.add_get("/api/insights.csv", figures_csv)
    app.router.add_get("/api/insights/unanswered", missed)
    app.router.add_post("/api/insights/labels", label)
    app.router.add_get("/api/insights/conversations/{sender}", conversation)

