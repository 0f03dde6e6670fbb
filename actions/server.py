"""The action server: rasa-sdk's own app, answering only Rasa.

rasa-sdk 3.6 has no authentication: anyone who reaches the port can run an
action with any tracker, metadata included. Rasa sends the shared secret
`PREPAGO_ACTION_TOKEN` in a header (`endpoints.yml`, `headers:`); every
request without it gets 401 before an action runs. `/health` stays open for
probes. Start with `python -m actions.server --port 5055`.
"""
from __future__ import annotations

import argparse
import hmac

from rasa_sdk.endpoint import create_app
from sanic import Request, response

from bot.config import ConfigError, settings

TOKEN_HEADER = "X-Prepago-Action-Token"


def app(token: str):
    if len(token) < 32:
        raise SystemExit("PREPAGO_ACTION_TOKEN must be a random string of at least 32 characters.")
    server = create_app("actions", cors_origins=None)

    @server.on_request
    async def only_rasa(request: Request):
        if request.path == "/health":
            return None
        if not hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(), token.encode()):
            return response.json({"error": "no autorizado"}, status=401)
        return None

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    try:  # the action server never starts open
        config = settings()
        config.require("action_token")
    except ConfigError as exc:
        raise SystemExit(f"Configuración: {exc}") from None
    app(config.action_token or "").run(config.sanic_host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
