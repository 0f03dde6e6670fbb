"""Proactive alerts: how many one worker delivers per second, and how long after the charge they go.

One worker process (`python -m tools.alert_worker`) against the recording
stand-in of Twilio's API (the real Twilio SDK sends each WhatsApp template
over HTTP), on SQLite and on PostgreSQL. (Telegram is held to 25 a second
by design: its own flood limit.) `n` subscriptions cross their threshold with one
charge; throughput is alerts marked sent per second, the delay is from the
charge's ledger time to `sent_at`.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from alerts import subscriptions, triggers
from alerts.models import AlertOutbox, AlertStatus
from benchmarks.stats import summary_ms
from bot.config import PROJECT_ROOT
from bot.db import engine_for, session_scope
from bot.models import EntryKind, utcnow
from bot.store import get_account, record_entry
from tools.seed import seed_demo


def _run(url: str, engine, providers_base: str, n: int) -> dict:
    from datetime import datetime

    seed_demo(engine, datetime.now(ZoneInfo("America/Mexico_City")).date())
    triggers.scan(engine=engine)
    with session_scope(engine) as session:
        threshold = get_account(session, "100100").balance - Decimal("1")
    for i in range(n):
        subscriptions.subscribe("100100", "whatsapp", f"+5215500{i:06d}", threshold, engine=engine)
    env = {**os.environ, "PREPAGO_DATABASE_URL": url, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
           "TWILIO_AUTH_TOKEN": secrets.token_hex(16), "TWILIO_WHATSAPP_NUMBER": "+14155238886",
           "PREPAGO_TWILIO_API_BASE": providers_base, "PREPAGO_ALERT_QUIET_HOURS": "00:00-00:00",
           "PREPAGO_WA_TEMPLATE_LOW_BALANCE": "HX" + "1" * 32}
    worker = subprocess.Popen([sys.executable, "-m", "tools.alert_worker", "--idle", "0.2"], cwd=PROJECT_ROOT, env=env,
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)  # the worker's start-up (it imports the channels' SDKs)
        with session_scope(engine) as session:
            record_entry(session, "100100", kind=EntryKind.CALL_CHARGE, amount=Decimal("-5.00"), occurred_at=utcnow(),
                         extension_number="101", destination_country="Colombia", duration_seconds=60)
        started = time.perf_counter()
        deadline = started + 300
        while time.perf_counter() < deadline:
            with session_scope(engine) as session:
                done = session.execute(sa.select(sa.func.count()).select_from(AlertOutbox).where(
                    AlertOutbox.status.in_((AlertStatus.SENT, AlertStatus.FAILED)))).scalar()
            if done >= n:
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=15)
    with session_scope(engine) as session:
        rows = session.execute(sa.select(AlertOutbox.status, AlertOutbox.source_at, AlertOutbox.sent_at)).all()
    sent = [r for r in rows if r.status == AlertStatus.SENT]
    return {"alerts": n, "sent": len(sent), "failed": len(rows) - len(sent),
            "alerts_per_second": round(len(sent) / elapsed, 1) if elapsed else None,
            "charge_to_send": summary_ms([(r.sent_at - r.source_at).total_seconds() for r in sent])}


def alerts(work: Path, n: int = 500, pg_url: Optional[str] = None) -> dict:
    from tests import fake_providers  # the same recording stand-in the tests use

    server, _ = fake_providers.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ.setdefault("PREPAGO_JWT_SECRET", secrets.token_urlsafe(48))
    try:
        out = {"sqlite": _run(f"sqlite:///{work / 'alerts.db'}", engine_for(f"sqlite:///{work / 'alerts.db'}"),
                              base, n)}
        if not pg_url:
            out["postgresql"] = "skipped: set PREPAGO_BENCH_POSTGRES_URL (or PREPAGO_TEST_POSTGRES_URL)"
            return out
        from tools.cluster import drop_database, ensure_database

        url = sa.engine.make_url(pg_url).set(database=f"prepago_alerts_bench_{uuid.uuid4().hex[:6]}")
        url = url.render_as_string(hide_password=False)
        ensure_database(url)
        engine = engine_for(url)
        try:
            out["postgresql"] = _run(url, engine, base, n)
        finally:
            engine.dispose()
            drop_database(url)
        return out
    finally:
        server.shutdown()
