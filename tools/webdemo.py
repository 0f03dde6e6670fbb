"""The local demo site: a support page with the chat widget and a demo token issuer.

The issuer signs tokens for the demo accounts only and exists for the local
demo; in production the company's own login issues the customer's token.
Its tokens name the demo issuer (`iss`), which a deployment configured with
its own `PREPAGO_JWT_ISSUER` rejects, so a demo left running there mints
nothing that works. It answers only requests addressed to this machine by
name (Host header), so a web page cannot reach it through DNS rebinding.
"""
from __future__ import annotations

import argparse
import json

from aiohttp import web


from bot.config import PROJECT_ROOT, settings
from bot.hosts import allowed_hosts, host_guard
from bot.identity import issue_token
from console.web import add_files, security_headers
from stores.rate_limits import DEMO_TOKENS
from tools.cli import configure
from tools.seed import DEMO_ACCOUNTS

DEMO_ISSUER = "prepago-demo"
DEMO_ROLES = ("admin", "billing", "viewer")
WEB = PROJECT_ROOT / "web"
SOCKET_IO_CLIENT = WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
FILES = {
    "/": WEB / "index.html",
    **{f"/{name}": WEB / name for name in ("widget.js", "widget.css", "demo.js")},
    "/vendor/socket.io.min.js": SOCKET_IO_CLIENT,
}


def make_app(rasa_url: str, port: int | None = None) -> web.Application:
    origin = rasa_url.rstrip("/")
    ws_origin = origin.replace("http", "ws", 1)
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"connect-src 'self' {origin} {ws_origin}; img-src 'self' data:; frame-ancestors 'none'"
    )

    async def config(_: web.Request) -> web.Response:
        body = f"window.PREPAGO_CONFIG = {json.dumps({'socketUrl': origin})};\n"
        return web.Response(text=body, content_type="application/javascript")

    async def demo_token(request: web.Request) -> web.Response:
        if not await DEMO_TOKENS.allow(request.remote or "?"):
            return web.json_response({"error": "Demasiadas solicitudes; espera un minuto."}, status=429)
        try:
            body = await request.json()
        except ValueError:
            body = None
        account = body.get("account") if isinstance(body, dict) else None
        if not isinstance(account, str) or account not in {a.number for a in DEMO_ACCOUNTS}:
            return web.json_response({"error": "Solo hay tokens para las cuentas demo."}, status=400)
        # The demo signs in as the account's administrator unless asked for another role
        # (a "viewer" cannot move money: payments/access.py).
        role = body.get("role", "admin")
        if role not in DEMO_ROLES:
            return web.json_response({"error": "Rol desconocido."}, status=400)
        return web.json_response({"token": issue_token(settings().copy(update={"jwt_issuer": DEMO_ISSUER}), account,
                                                       role=role)})

    # Only this machine's names (bot/hosts.py): the issuer is local, for the demo.
    guards = [host_guard(allowed_hosts(port))] if port else []
    app = web.Application(middlewares=[security_headers(csp, referrer="no-referrer"), *guards], client_max_size=4096)
    add_files(app, FILES)
    app.router.add_get("/config.js", config)
    app.router.add_post("/demo/token", demo_token)
    return app


def main() -> None:
    configure()
    parser = argparse.ArgumentParser(description="Sitio demo con el widget de chat")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    web.run_app(make_app(args.rasa_url, args.port), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
