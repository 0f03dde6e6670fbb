"""Account-store lookups with a million ledger rows, on SQLite and PostgreSQL.

Rows are bulk-inserted with SQLAlchemy Core (the ORM path is for real
movements); the queries measured are the ones the assistant runs.
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from benchmarks.stats import summary_ms
from bot.db import session_scope
from bot.models import Account, Base, EntryKind, Extension, LedgerEntry
from bot.store import get_account, movements, spending_by_extension

ACCOUNTS = 100
EXTENSIONS_PER_ACCOUNT = 8
END = datetime(2026, 11, 25, tzinfo=timezone.utc)


def fill(engine: Engine, rows: int, seed: int = 7) -> float:
    """Create the schema and insert `rows` ledger rows; returns seconds taken."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    rng = random.Random(seed)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Account), [
            {"id": a, "number": f"{a:06d}", "company": f"Empresa {a}", "timezone": "America/Mexico_City",
             "balance": Decimal("0.00")} for a in range(1, ACCOUNTS + 1)])
        conn.execute(insert(Extension), [
            {"id": (a - 1) * EXTENSIONS_PER_ACCOUNT + e, "account_id": a, "number": str(100 + e), "label": f"Ext {e}"}
            for a in range(1, ACCOUNTS + 1) for e in range(1, EXTENSIONS_PER_ACCOUNT + 1)])
    per_account = rows // ACCOUNTS
    span = 365 * 24 * 3600
    batch = []
    with engine.begin() as conn:
        for a in range(1, ACCOUNTS + 1):
            for i in range(per_account):
                charge = rng.random() < 0.9
                batch.append({
                    "account_id": a,
                    "occurred_at": END - timedelta(seconds=span * (per_account - i) / per_account),
                    "kind": EntryKind.CALL_CHARGE if charge else EntryKind.DEPOSIT,
                    "amount": Decimal(-rng.randint(1, 5000)) / 100 if charge else Decimal("500.00"),
                    "balance_after": Decimal("0.00"),
                    "extension_id": (a - 1) * EXTENSIONS_PER_ACCOUNT + rng.randint(1, EXTENSIONS_PER_ACCOUNT) if charge else None,
                    "destination_country": "Estados Unidos" if charge else None,
                    "duration_seconds": rng.randint(10, 900) if charge else None,
                })
                if len(batch) == 20000:
                    conn.execute(insert(LedgerEntry), batch)
                    batch = []
        if batch:
            conn.execute(insert(LedgerEntry), batch)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")  # fresh planner statistics on both databases
    return time.perf_counter() - started


def measure(engine: Engine, iterations: int = 200, seed: int = 11) -> dict:
    """p50/p95 of the three lookups, each in its own session as the actions do."""
    rng = random.Random(seed)
    timings: dict[str, list[float]] = {"balance": [], "last_20_for_extension": [], "month_summary": []}
    month_start, month_end = datetime(2026, 10, 1, 6, tzinfo=timezone.utc), datetime(2026, 11, 1, 6, tzinfo=timezone.utc)
    for i in range(iterations + 3):  # the first rounds open connections and warm caches
        if i == 3:
            timings = {name: [] for name in timings}
        number = f"{rng.randint(1, ACCOUNTS):06d}"
        t = time.perf_counter()
        with session_scope(engine) as session:
            get_account(session, number).balance
        timings["balance"].append(time.perf_counter() - t)

        t = time.perf_counter()
        with session_scope(engine) as session:
            account = get_account(session, number)
            ext = account.extensions[rng.randrange(len(account.extensions))]
            page, _ = movements(session, account, extension=ext, limit=20)
        timings["last_20_for_extension"].append(time.perf_counter() - t)

        t = time.perf_counter()
        with session_scope(engine) as session:
            spending_by_extension(session, get_account(session, number), start=month_start, end=month_end)
        timings["month_summary"].append(time.perf_counter() - t)
    return {name: summary_ms(values) for name, values in timings.items()}


def row_count(engine: Engine) -> int:
    from sqlalchemy import func

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
