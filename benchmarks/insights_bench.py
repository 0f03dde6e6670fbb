"""Insights over a month of conversations: 1,000,000 tracker events in Rasa's own schema.

Events are Rasa 3.6 event objects serialised as `SQLTrackerStore` stores them
(same table, same columns, same JSON), in turns like the real ones: FAQ
answers, lookups, misses with suggestions, handoffs that pause the
conversation. Measured on SQLite and PostgreSQL: the first ingest of all of
them, an incremental ingest of the next minute's events, and the 30-day
figures and unanswered groups that the console and `bot report` show.
"""
from __future__ import annotations

import json
import random
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, UserUttered

from benchmarks.stats import summary_ms
from insights.ingest import REPORT_ZONE, ingest
from insights.metrics import report
from insights.unanswered import groups
from tools.seed import create_schema

CHANNELS = ("prepago_socketio", "whatsapp", "telegram", "messenger", "prepago")
MISSES = ("oye y lo de la cuenta?", "mmm pues eso que te dije", "lo del otro día", "la cosa de la cuenta esa",
          "y entonces qué pasó con lo mío", "pues nada, lo mismo de antes")


def _user(text: str, intent: str, confidence: float, channel: str, ranking: list) -> dict:
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [],
             "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}
    return UserUttered(text, parse["intent"], [], parse, input_channel=channel,
                       metadata={"prepago_identity": {"account": None, "error": "missing"}}).as_dict()


def _turns(channel: str) -> dict[str, list[dict]]:
    """Event sequences of one customer message each, as Rasa writes them."""
    listen = ActionExecuted("action_listen").as_dict()
    return {
        "faq": [_user("¿cómo agrego fondos?", "faq_add_funds", 0.97, channel, [("faq_add_funds", 0.97)]),
                ActionExecuted("action_answer_faq").as_dict(), BotUttered("Para depositar fondos…").as_dict(), listen],
        "lookup": [_user("¿cuánto saldo tengo?", "check_balance", 0.99, channel, [("check_balance", 0.99)]),
                   ActionExecuted("action_check_balance").as_dict(), BotUttered("El saldo de tu Cuenta…").as_dict(),
                   listen],
        "miss": [None, ActionExecuted("action_suggest_topics").as_dict(),
                 BotUttered("No estoy seguro…", {"buttons": []}).as_dict(), listen],
        "handoff": [_user("quiero hablar con un agente", "human_handoff", 0.99, channel, [("human_handoff", 0.99)]),
                    ActionExecuted("action_handoff").as_dict(), BotUttered("Claro, te comunico…").as_dict(),
                    ConversationPaused().as_dict()],
    }


def _rows(total: int, days: int, start: datetime, seed: int = 7) -> Iterator[dict]:
    """`total` events over `days` days, in conversations of 2-8 messages."""
    rng = random.Random(seed)
    templates = {channel: _turns(channel) for channel in CHANNELS}
    produced, span = 0, days * 86400
    while produced < total:
        sender, channel = uuid.uuid4().hex, rng.choice(CHANNELS)
        at = start.timestamp() + rng.random() * span
        for _ in range(rng.randint(2, 8)):
            kind = rng.choices(("faq", "lookup", "miss", "handoff"), (50, 35, 12, 3))[0]
            turn = templates[channel][kind]
            if kind == "miss":
                text = rng.choice(MISSES)
                turn = [_user(text, "nlu_fallback", 0.7, channel,
                              [("nlu_fallback", 0.7), ("refine_query", 0.28), ("out_of_scope", 0.2)])] + turn[1:]
            for event in turn:
                at += 0.02
                data = dict(event, timestamp=at)
                yield {"sender_id": sender, "type_name": data["event"], "timestamp": at,
                       "intent_name": (data.get("parse_data") or {}).get("intent", {}).get("name"),
                       "action_name": data.get("name") if data["event"] == "action" else None,
                       "data": json.dumps(data)}
                produced += 1
                if produced >= total:
                    return
            at += rng.randint(5, 120)
            if kind == "handoff":
                break


def _fill(tracker: sa.engine.Engine, rows: Iterator[dict], batch: int = 20_000) -> float:
    table = SQLTrackerStore.SQLEvent.__table__
    table.create(tracker, checkfirst=True)
    started = time.perf_counter()
    chunk: list[dict] = []
    with tracker.begin() as connection:
        for row in rows:
            chunk.append(row)
            if len(chunk) == batch:
                connection.execute(table.insert(), chunk)
                chunk = []
        if chunk:
            connection.execute(table.insert(), chunk)
    return time.perf_counter() - started


def measure(tracker: sa.engine.Engine, store: sa.engine.Engine, events: int, days: int = 30,
            repeats: int = 5) -> dict:
    create_schema(store)
    end = datetime.now(timezone.utc).replace(microsecond=0)
    start = end - timedelta(days=days)
    fill_s = _fill(tracker, _rows(events, days, start))
    started = time.perf_counter()
    messages = ingest(tracker, store)
    first_ingest_s = time.perf_counter() - started
    # The next minute: a few hundred events more, then the incremental run.
    _fill(tracker, _rows(600, 1, end, seed=8))
    started = time.perf_counter()
    ingest(tracker, store)
    incremental_s = time.perf_counter() - started
    until = end.astimezone(REPORT_ZONE).date()
    since = until - timedelta(days=days - 1)
    figures, grouping = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = report(since, until, store)
        t1 = time.perf_counter()
        found = groups(since, until, store)
        figures.append(t1 - t0)
        grouping.append(time.perf_counter() - t1)
    return {"events": events, "messages_summarised": messages, "fill_s": round(fill_s, 1),
            "first_ingest_s": round(first_ingest_s, 1), "incremental_ingest_ms": round(incremental_s * 1000, 1),
            "metrics_30_days": summary_ms(figures), "unanswered_groups": summary_ms(grouping),
            "conversations": result["totals"]["conversations"], "groups_found": len(found)}


def insights(work: Path, events: int = 1_000_000, pg_url: Optional[str] = None) -> dict:
    from bot.db import engine_for

    out = {"sqlite": measure(engine_for(f"sqlite:///{work / 'trackers.db'}"),
                             engine_for(f"sqlite:///{work / 'store.db'}"), events)}
    if not pg_url:
        out["postgresql"] = "skipped: set PREPAGO_BENCH_POSTGRES_URL (or PREPAGO_TEST_POSTGRES_URL)"
        return out
    schema = f"prepago_insights_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, future=True)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(pg_url, future=True, connect_args={"options": f"-csearch_path={schema}"})
    try:
        out["postgresql"] = measure(engine, engine, events)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    return out
