"""Add funds from the chat: the confirmation turn («sí» → receipt), end to end.

One Rasa process and one action server on SQLite, the real Stripe SDK against
the Stripe stand-in of tests/fake_providers.py. Each round proposes $200 in a
new conversation, then times the «sí» turn through the REST channel; the
stand-in's own time inside that charge (`StripeStandIn.charge_seconds`) is
subtracted, so the figure is ours: Rasa, the action, the SDK and two
transactions (claim, then charge + deposit + receipt).
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import requests

from benchmarks.speed_bench import free_port
from benchmarks.stats import summary_ms
from bot.config import settings
from bot.db import engine_for
from bot.identity import issue_token
from bot.periods import today_in
from tools.seed import seed_demo
from tools.serve import Ports, local_endpoints, running_stack


def payments(model: Path, work: Path, rounds: int = 50) -> dict:
    from tests import fake_providers  # the same Stripe stand-in the tests use

    server, recorded = fake_providers.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    db_url = f"sqlite:///{work / 'prepago.db'}"
    seed_demo(engine_for(db_url), today_in("America/Mexico_City"))
    ports = Ports(free_port(), free_port(), None, None, alerts=False)
    endpoints = local_endpoints(work / "endpoints.yml", ports.actions, work / "trackers.db")
    # Each round is its own customer address (benchmark range 198.18.0.0/15) behind a trusted proxy, as in
    # tests/test_server.py: the per-client message budgets are not what this measures.
    env = {"PREPAGO_DATABASE_URL": db_url, "PREPAGO_STRIPE_API_BASE": base, "PREPAGO_ADD_FUNDS_DAILY_LIMIT": "10000000",
           "PREPAGO_TRUSTED_PROXIES": "127.0.0.1"}
    token = issue_token(settings(), "100100", role="billing")
    turns, ours, errors = [], [], 0
    try:
        with running_stack(model, ports, work / "logs", env, endpoints) as stack:
            url = f"{stack.rasa_url}/webhooks/prepago/webhook"

            def say(session: str, text: str, round_number: int) -> str:
                address = f"198.{18 + round_number // 65536 % 2}.{round_number // 256 % 256}.{round_number % 256}"
                reply = requests.post(url, json={"session": session, "message": text}, timeout=60,
                                      headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": address})
                reply.raise_for_status()
                return "\n".join(m.get("text", "") for m in reply.json()["messages"])

            for i in range(rounds + 3):  # the first 3 warm up (imports, connections)
                session = f"bench-pay-{uuid.uuid4().hex[:12]}"
                say(session, "recárgale $200 al prepago", i)
                before = len(recorded.stripe.charge_seconds)
                started = time.perf_counter()
                answer = say(session, "sí", i)
                elapsed = time.perf_counter() - started
                inside = sum(recorded.stripe.charge_seconds[before:])
                if "Folio" not in answer:
                    errors += 1
                elif i >= 3:
                    turns.append(elapsed)
                    ours.append(elapsed - inside)
    finally:
        server.shutdown()
    return {"rounds": rounds, "errors": errors, "confirm_to_receipt": summary_ms(turns),
            "without_stand_in": summary_ms(ours)}
