"""The insights page of the staff console: charts, the unanswered questions, labelling.

Same sign-in and CSRF rules as the rest of the console (handoff/console.py).
Figures come from `insight_turns`, brought up to date (incrementally) before
each answer, at most every few seconds.
"""
from __future__ import annotations

import asyncio
import functools
import time
from datetime import date, timedelta

import sqlalchemy as sa
from aiohttp import web

from bot.config import PROJECT_ROOT
from bot.periods import today_in
from bot.privacy import redact
from bot.topics import INTENT_TITLES
from handoff.console import require_staff, staff_page
from insights import metrics, unanswered
from insights.ingest import events, ingest
from insights.source import tracker_engine

WEB = PROJECT_ROOT / "web"
STATIC = {
    "/insights.js": (WEB / "console" / "insights.js", "application/javascript"),
    "/vendor/chart.umd.min.js": (WEB / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js",
                                 "application/javascript"),
}
FRESH_SECONDS = 5.0
MAX_DAYS = 366


@functools.lru_cache(maxsize=1)
def _intents() -> frozenset[str]:
    """The assistant's intents, read once: a label must be one of them."""
    import yaml

    return frozenset(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["intents"])


def _range(request: web.Request) -> tuple[date, date]:
    try:
        until = date.fromisoformat(request.query["until"]) if request.query.get("until") else today_in(
            "America/Mexico_City")
        since = date.fromisoformat(request.query["since"]) if request.query.get("since") else until - timedelta(29)
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "Fechas inválidas: usa AAAA-MM-DD."}', content_type="application/json")
    if since > until or (until - since).days > MAX_DAYS:
        raise web.HTTPBadRequest(text='{"error": "El rango de fechas no es válido (máximo un año)."}',
                                 content_type="application/json")
    return since, until


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
    import json

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


def add_routes(app: web.Application) -> None:
    fresh = _Fresh()

    async def insights_page(request: web.Request) -> web.Response:
        return await staff_page(request, "insights.html")

    async def static(request: web.Request) -> web.Response:
        path, content_type = STATIC[request.path]
        if not path.exists():
            raise web.HTTPServiceUnavailable(text=f"Falta {path.name}: ejecuta `make run`.")
        return web.Response(body=path.read_bytes(), content_type=content_type, charset="utf-8")

    async def figures(request: web.Request) -> web.Response:
        await require_staff(request)
        since, until = _range(request)
        await fresh()
        return web.json_response(await asyncio.to_thread(metrics.report, since, until),
                                 headers={"Cache-Control": "no-store"})

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
        await fresh()
        found = await asyncio.to_thread(unanswered.groups, since, until)
        choices = [{"intent": i, "title": INTENT_TITLES.get(i, i)} for i in sorted(_intents())]
        return web.json_response({"groups": found, "intents": choices}, headers={"Cache-Control": "no-store"})

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

    app.router.add_get("/insights", insights_page)
    for route in STATIC:
        app.router.add_get(route, static)
    app.router.add_get("/api/insights", figures)
    app.router.add_get("/api/insights.csv", figures_csv)
    app.router.add_get("/api/insights/unanswered", missed)
    app.router.add_post("/api/insights/labels", label)
    app.router.add_get("/api/insights/conversations/{sender}", conversation)

