"""The pieces every staff or demo page shares: one security-headers middleware and file routes."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Callable

from aiohttp import web

logger = logging.getLogger(__name__)

BAD_INPUT = "La solicitud trae datos inválidos (caracteres que no son texto o números fuera de rango)."
FAILED = "Algo falló de nuestro lado: inténtalo de nuevo en un momento."


def refusal(request: web.Request, kind, message: str) -> web.HTTPException:
    """An error in the form its caller reads: JSON for an API path, text for a page or a form post."""
    if request.path.startswith(("/api/", "/demo/")):
        return kind(text=json.dumps({"error": message}, ensure_ascii=False), content_type="application/json")
    return kind(text=message, content_type="text/plain")


def security_headers(csp: str, referrer: str = "same-origin") -> Callable:
    """Every answer, an error too, leaves with the headers; a failure becomes a Spanish 4xx or 500."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        except (UnicodeError, OverflowError):
            # A form that is not UTF-8, a lone surrogate the database cannot store, a date or number out of range.
            response = refusal(request, web.HTTPBadRequest, BAD_INPUT)
        except Exception:  # noqa: BLE001 - the cause goes to the log, never to the page
            logger.exception("request %s %s failed", request.method, request.path)
            response = refusal(request, web.HTTPInternalServerError, FAILED)
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = referrer
        if isinstance(response, web.HTTPException) and response.status >= 400 and not response.text:
            response.text = "Solicitud inválida."
        return response

    return middleware


def add_files(app: web.Application, files: dict[str, Path]) -> None:
    """GET routes for single files (aiohttp's FileResponse: type, length, conditional requests).
    A file that a setup step provides (npm) and is missing answers 503 with what to run."""

    def route(path: Path):
        async def handler(_: web.Request) -> web.StreamResponse:
            if not path.exists():
                raise web.HTTPServiceUnavailable(text=f"Falta {path.name}: ejecuta `make run`.")
            return web.FileResponse(path)

        return handler

    for url, path in files.items():
        app.router.add_get(url, route(path))
