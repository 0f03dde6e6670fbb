"""The staff console: a live queue of support cases, the transcript, the account, a reply box.

An aiohttp server of its own (`make run` starts it on port 8090; `python -m
console.app`), apart from the customer-facing servers:

- staff sign in with their own accounts (handoff/staff.py); the session
  cookie is `HttpOnly`, `SameSite=Strict` (and `Secure` behind HTTPS,
  `PREPAGO_CONSOLE_SECURE_COOKIE=1`); a customer's token opens nothing here;
- every state-changing request needs the session's CSRF token (a form field
  or the `X-CSRF-Token` header) and a same-origin `Origin`; the login form has
  its own double-submit token;
- the queue is live through server-sent events: one task per console watches
  the cases' version in the account store, so it works with any number of
  Rasa replicas and consoles;
- after storing an agent's message it asks the Rasa process to relay it
  (channels/staff_relay.py); a failed relay is retried here every few seconds.
All text reaches the page through `textContent` (web/console/console.js).
"""
from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import secrets
from typing import Optional

import aiohttp
from aiohttp import web

from bot.config import PROJECT_ROOT, settings
from bot.hosts import allowed_hosts, host_guard
from console.web import add_files, refusal, security_headers
from stores.rate_limits import RateLimit
from handoff import cases, staff, views
from handoff.relay import cases_to_relay

logger = logging.getLogger(__name__)

WEB = PROJECT_ROOT / "web" / "console"
SESSION_COOKIE = "prepago_staff"
LOGIN_CSRF_COOKIE = "prepago_login_csrf"
WATCH_SECONDS = 0.5  # how often the live queue looks for changes while someone watches
RETRY_SECONDS = 5.0
HEARTBEAT_SECONDS = 15.0
LOGINS = RateLimit("console-logins", settings().console_logins_per_minute)
FILES = {f"/{name}": WEB / name for name in ("common.js", "console.js", "console.css")}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
NOT_SIGNED_IN = "Tu sesión terminó: vuelve a iniciar sesión."
BAD_CSRF = "La solicitud no vino de la consola (token CSRF inválido). Recarga la página."
MAX_CASE_ID = 2 ** 63 - 1  # the largest id a database column holds; anything above is no case


def _secure_cookie() -> bool:
    return settings().console_secure_cookie


LIVE_STATUS = '<p class="cs-live" id="live" role="status">Conectando…</p>'


def page(file: str, live: bool = False, **values: str) -> web.Response:
    """A console page with its values HTML-escaped; `{{header}}` is the shared header (web/console/header.html)."""
    text = (WEB / file).read_text()
    if "{{header}}" in text:
        header = (WEB / "header.html").read_text().replace("{{live}}", LIVE_STATUS if live else "")
        text = text.replace("{{header}}", header)
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return web.Response(text=text, content_type="text/html", headers={"Cache-Control": "no-store"})


async def current(request: web.Request) -> Optional[tuple[staff.Staff, str]]:
    """The signed-in staff member and their session's CSRF token, from the cookie (never a customer's token)."""
    return await asyncio.to_thread(staff.session_for, request.cookies.get(SESSION_COOKIE))


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    # Browsers send Origin on every POST; a missing one is a non-browser client with the cookie.
    return origin is None or origin == f"{request.scheme}://{request.host}"


def _refuse(kind, message: str):
    return kind(text=json.dumps({"error": message}, ensure_ascii=False), content_type="application/json")


async def staff_page(request: web.Request, file: str, live: bool = False) -> web.Response:
    """A page for signed-in staff only; anyone else goes to the sign-in form."""
    signed = await current(request)
    if signed is None:
        raise web.HTTPSeeOther("/login")
    who, csrf = signed
    return page(file, live=live, csrf=csrf, name=who.display_name)


async def require_staff(request: web.Request, change: bool = False) -> staff.Staff:
    """The staff member of a request, or 401; a change also needs the session's CSRF token and the origin (403)."""
    signed = await current(request)
    if signed is None:
        raise _refuse(web.HTTPUnauthorized, NOT_SIGNED_IN)
    who, csrf = signed
    if change and (not same_origin(request) or not staff.same_token(request.headers.get("X-CSRF-Token"), csrf)):
        raise _refuse(web.HTTPForbidden, BAD_CSRF)
    return who


class Relay:
    """Asks the Rasa process to deliver a case's pending messages (channels/staff_relay.py)."""

    def __init__(self, rasa_url: str) -> None:
        self.url = f"{rasa_url.rstrip('/')}/webhooks/handoff/deliver"
        self.http: Optional[aiohttp.ClientSession] = None

    async def __call__(self, case_id: int) -> bool:
        if self.http is None:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        try:
            async with self.http.post(self.url, json={"case": case_id},
                                      headers={"Authorization": f"Bearer {settings().rasa_api_token or ''}"}) as r:
                if r.status != 200:
                    logger.warning("relay of case %s answered %s", case_id, r.status)
                return r.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            logger.warning("relay of case %s failed: %s (retried)", case_id, exc)
            return False

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()


class Watchers:
    """The open event streams, told whenever the cases' version changes."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue] = set()
        self.version: Optional[str] = None

    async def run(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if not self.queues:
                continue
            try:
                version = await asyncio.to_thread(views.version)
            except Exception:  # noqa: BLE001 - a database blip must not end the live queue
                logger.exception("reading the cases' version failed")
                continue
            if version != self.version:
                self.version = version
                for queue in list(self.queues):
                    queue.put_nowait(version)


def make_app(rasa_url: str, desk=None, sections=(), port: Optional[int] = None) -> web.Application:
    """The console; each of `sections` adds its pages (e.g. console.insights.add_routes).

    With `port`, it answers only this machine's names on it and those in PREPAGO_CONSOLE_HOSTS
    (bot/hosts.py): a rebound page on another name cannot sign in, or lock staff out."""
    relay = Relay(rasa_url)
    watchers = Watchers()

    # --- pages ---------------------------------------------------------------
    async def login_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
        token = secrets.token_urlsafe(32)
        response = page("login.html", csrf=token, error=error)
        response.set_status(status)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=_secure_cookie(),
                            path="/login", max_age=3600)
        return response

    async def login(request: web.Request) -> web.Response:
        form = await request.post()
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
        if not same_origin(request) or not cookie or not staff.same_token(form.get("csrf"), cookie):
            return await login_page(request, "La página de acceso expiró; inténtalo de nuevo.", 403)
        if not await LOGINS.allow(request.remote or "?"):
            return await login_page(request, "Demasiados intentos desde tu red; espera un minuto.", 429)
        try:
            signed = await asyncio.to_thread(staff.sign_in, form.get("username"), form.get("password"))
        except staff.StaffError as exc:
            return await login_page(request, str(exc), 401)
        response = web.HTTPSeeOther("/")
        response.set_cookie(SESSION_COOKIE, signed.token, httponly=True, samesite="Strict", secure=_secure_cookie(),
                            path="/", max_age=int(staff.SESSION_LIFETIME.total_seconds()))
        response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
        raise response

    async def logout(request: web.Request) -> web.Response:
        signed = await current(request)
        form = await request.post()
        if signed is not None:
            # A cross-site form must not sign the agent out: without the session's token, nothing changes.
            if not same_origin(request) or not staff.same_token(form.get("csrf"), signed[1]):
                raise refusal(request, web.HTTPForbidden, BAD_CSRF)
            await asyncio.to_thread(staff.sign_out, request.cookies.get(SESSION_COOKIE))
        response = web.HTTPSeeOther("/login")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    async def index(request: web.Request) -> web.Response:
        return await staff_page(request, "index.html", live=True)

    # --- the API the page uses ---------------------------------------------------
    async def list_cases(request: web.Request) -> web.Response:
        await require_staff(request)
        return web.json_response({"cases": await asyncio.to_thread(views.queue)},
                                 headers={"Cache-Control": "no-store"})

    def case_id_of(request: web.Request) -> int:
        try:
            case_id = int(request.match_info["case"])
            if not 1 <= case_id <= MAX_CASE_ID:
                raise ValueError(case_id)
            return case_id
        except ValueError:
            raise web.HTTPNotFound(text=json.dumps({"error": "Ese caso no existe."}), content_type="application/json")

    async def show_case(request: web.Request) -> web.Response:
        await require_staff(request)
        found = await asyncio.to_thread(views.detail, case_id_of(request))
        if found is None:
            return web.json_response({"error": "Ese caso no existe."}, status=404)
        return web.json_response(found, headers={"Cache-Control": "no-store"})

    async def change(request: web.Request) -> web.Response:
        who = await require_staff(request, change=True)
        case_id, action = case_id_of(request), request.match_info["action"]
        try:
            body = await request.json() if action == "reply" else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.json_response({"error": "El cuerpo debe ser un objeto JSON."}, status=400)
        try:
            if action == "take":
                await asyncio.to_thread(cases.take, case_id, who.id)
            elif action == "reply":
                await asyncio.to_thread(cases.agent_reply, case_id, who.id, body.get("text"))
            else:
                await asyncio.to_thread(cases.close, case_id, who.id)
        except cases.CaseError as exc:
            return web.json_response({"error": str(exc)}, status=409)
        await relay(case_id)
        return web.json_response(await asyncio.to_thread(views.detail, case_id))

    async def events(request: web.Request) -> web.StreamResponse:
        await require_staff(request)
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                             "X-Accel-Buffering": "no"})
        await stream.prepare(request)
        queue: asyncio.Queue = asyncio.Queue()
        watchers.queues.add(queue)
        try:
            await stream.write(b"retry: 2000\n\n")
            while True:
                try:
                    version = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                    await stream.write(f"event: changed\ndata: {json.dumps({'version': version})}\n\n".encode())
                except asyncio.TimeoutError:
                    if await current(request) is None:  # signed out or expired: stop streaming
                        break
                    await stream.write(b": sigo aqui\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            watchers.queues.discard(queue)
        return stream

    async def retry_relays() -> None:
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            try:
                for case_id in await asyncio.to_thread(cases_to_relay):
                    await relay(case_id)
            except Exception:  # noqa: BLE001 - keep retrying; the messages stay pending
                logger.exception("retrying relays failed")

    async def sync_desk() -> None:
        while True:
            await asyncio.sleep(desk.interval)
            try:
                await desk.sync()
            except Exception:  # noqa: BLE001 - what is not copied yet is copied at the next round
                logger.exception("copying cases to the helpdesk failed")

    async def start_background(app: web.Application) -> None:
        app["tasks"] = [asyncio.create_task(watchers.run()), asyncio.create_task(retry_relays())]
        if desk is not None:
            app["tasks"].append(asyncio.create_task(sync_desk()))

    async def stop_background(app: web.Application) -> None:
        for task in app["tasks"]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await relay.close()
        if desk is not None:
            await desk.close()

    guards = [host_guard(allowed_hosts(port, settings().console_hosts))] if port else []
    # Not no-referrer: with it, browsers send `Origin: null` on form posts and the origin check cannot work.
    app = web.Application(middlewares=[security_headers(CSP, referrer="same-origin"), *guards],
                          client_max_size=64 * 1024)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", index)
    add_files(app, FILES)
    app.router.add_get("/api/cases", list_cases)
    app.router.add_get(r"/api/cases/{case}", show_case)
    app.router.add_post(r"/api/cases/{case}/{action:take|reply|close}", change)
    app.router.add_get("/api/events", events)
    app.router.add_get("/health", lambda _: web.json_response({"status": "ok"}))
    if desk is not None:
        desk.add_routes(app, relay)
    for add_routes in sections:
        add_routes(app)
    app.on_startup.append(start_background)
    app.on_cleanup.append(stop_background)
    return app
