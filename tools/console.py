"""Start the staff console (`python -m tools.console`; `make run` starts one on port 8090).

Wires the console application (console/app.py) with its pages (Insights, the
model registry) and the help desk the environment configures, after bringing
the account store's schema up to date.
"""
from __future__ import annotations

import argparse
import logging

from aiohttp import web

import migrations
from bot.db import default_engine
from console.app import make_app
from console.insights import add_routes as insights_pages
from console.models import add_routes as model_pages
from handoff.desks import configured_desk
from tools.cli import configure


def main() -> None:
    configure("rasa_api_token")  # the relay and the model server need it
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description="Consola de Soporte: casos, transcripción y respuestas")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    migrations.upgrade(default_engine())
    app = make_app(args.rasa_url, configured_desk(), sections=[insights_pages, model_pages], port=args.port)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
