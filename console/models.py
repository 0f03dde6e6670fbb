"""The model registry in the staff console: the model server the Rasa replicas poll, the live
version and the «Reentrenar» job on the Insights page.

The console serves the models because it is the one process of a deployment
that staff already reach and that starts the retrain job; it keeps nothing
else of its own. Each replica's endpoints file says

    models:
      url: http://<console>/models/live
      headers: {X-Prepago-Model-Token: ${RASA_API_TOKEN}}
      wait_time_between_pulls: 10

and Rasa asks every few seconds with `If-None-Match: <the ETag it has>`; the
answer is 304 until a promotion or rollback changes the live version, then
200 with the new file, which Rasa loads without a restart. The token is the
one that opens Rasa's own API (where `PUT /model` would replace the model
anyway), so reading the model with it grants nothing more.
"""
from __future__ import annotations

import asyncio
import hmac
import os
import subprocess
import sys
from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.config import BUSINESS_TIMEZONE, PROJECT_ROOT, settings
from bot.formatting import day_and_time
from console.app import require_staff
from console.web import add_files
from training.registry import STATUS_NAMES, Registry, etag_of

TOKEN_HEADER = "X-Prepago-Model-Token"
FILES = {"/models.js": PROJECT_ROOT / "web" / "console" / "models.js"}
SHOWN_VERSIONS = 8


def _when(iso: Optional[str]) -> Optional[str]:
    if not iso:
        return None
    return day_and_time(datetime.fromisoformat(iso).astimezone(ZoneInfo(BUSINESS_TIMEZONE)))


def _public(version: dict) -> dict:
    """What the page shows of a version: Spanish dates and statuses, the aggregate scores."""
    scores = version.get("scores", {})
    return {"version": version["version"], "status": STATUS_NAMES.get(version["status"], version["status"]),
            "live": version["status"] == "live", "created": _when(version.get("created")),
            "labels": version.get("labels_count", 0), "note": version.get("note"),
            "dev_accuracy": scores.get("dev", {}).get("accuracy"),
            "test_accuracy": scores.get("test", {}).get("accuracy"),
            "cv_macro_f1": scores.get("cv", {}).get("mean")}


def add_routes(app: web.Application, registry: Optional[Registry] = None) -> None:
    registry = registry or Registry()
    running: dict[str, subprocess.Popen] = {}

    async def live_model(request: web.Request) -> web.StreamResponse:
        expected = settings().rasa_api_token or ""
        given = request.headers.get(TOKEN_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise web.HTTPUnauthorized(text="Falta el token del servidor de modelos.")
        await asyncio.to_thread(registry.adopt)
        live = await asyncio.to_thread(registry.live)
        if live is None:
            raise web.HTTPNotFound(text="Todavía no hay un modelo en uso.")
        etag = etag_of(live["sha256"])
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        # Not FileResponse: it would put its own ETag (mtime and size) in place of the content hash.
        body = await asyncio.to_thread(registry.path(live["version"]).read_bytes)
        # `filename` is where Rasa saves it; /status then names the version (model_file).
        return web.Response(body=body, content_type="application/gzip", headers={
            "ETag": etag, "filename": f"prepago-{live['version']}.tar.gz", "Cache-Control": "no-cache"})

    async def models(request: web.Request) -> web.Response:
        await require_staff(request)

        def read() -> dict:
            if running.get("job") is not None:
                running["job"].poll()  # reaps an ended job, so its pid no longer looks alive
            registry.adopt()
            versions = registry.versions()
            live = next((v for v in versions if v["status"] == "live"), None)
            job = registry.job()
            return {"live": _public(live) if live else None,
                    "versions": [_public(v) for v in reversed(versions[-SHOWN_VERSIONS:])],
                    "job": {"running": job["running"], "state": job.get("state"), "stage": job.get("stage"),
                            "message": job.get("message"), "checks": job.get("checks", []),
                            "started": _when(job.get("started")), "finished": _when(job.get("finished"))}}

        return web.json_response(await asyncio.to_thread(read), headers={"Cache-Control": "no-store"})

    async def retrain(request: web.Request) -> web.Response:
        who = await require_staff(request, change=True)
        current = running.get("job")
        if (current is not None and current.poll() is None) or await asyncio.to_thread(registry.retrain_running):
            return web.json_response({"error": "Ya hay un reentrenamiento en curso; espera a que termine."},
                                     status=409)
        # A process of its own: minutes of training must not stall the console, and a crash of it
        # leaves the console (and the lock, released by the kernel) as they were.
        log = open(os.open(registry.root / "retrain.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")
        running["job"] = subprocess.Popen(
            [sys.executable, "-m", "tools.cli", "retrain", "--by", who.display_name], cwd=PROJECT_ROOT,
            env={**os.environ, "PREPAGO_MODEL_REGISTRY": str(registry.root)}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        registry.set_job(state="running", stage="iniciando", pid=running["job"].pid, by=who.display_name)
        return web.json_response({"started": True}, status=202)

    app.router.add_get("/models/live", live_model)
    app.router.add_get("/api/models", models)
    app.router.add_post("/api/models/retrain", retrain)
    add_files(app, FILES)
