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
import os
import random
import re
import secrets
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, UserUttered

from benchmarks.speed_bench import free_port
from benchmarks.stats import peak_rss_mib, summary_ms
from bot.config import PROJECT_ROOT
from insights.ingest import ingest
from insights.models import REPORT_ZONE
from insights.metrics import report
from insights.unanswered import groups
import migrations

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


def _stored(sender: str, turn: list[dict], at: float) -> Iterator[dict]:
    """The tracker store's rows of one turn's events, 20 ms apart after `at`."""
    for event in turn:
        at += 0.02
        data = dict(event, timestamp=at)
        yield {"sender_id": sender, "type_name": data["event"], "timestamp": at,
               "intent_name": (data.get("parse_data") or {}).get("intent", {}).get("name"),
               "action_name": data.get("name") if data["event"] == "action" else None,
               "data": json.dumps(data)}


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
            for row in _stored(sender, turn, at):
                at = row["timestamp"]
                yield row
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
    migrations.upgrade(store)
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
            "conversations": result["totals"]["conversations"], "groups_found": found["total"]}


def _on_each_database(work: Path, pg_url: Optional[str], run) -> dict:
    """`run(tracker, store, urls)` on SQLite files and, with `pg_url`, in a throw-away PostgreSQL schema."""
    from bot.db import engine_for

    trackers, store = f"sqlite:///{work / 'trackers.db'}", f"sqlite:///{work / 'store.db'}"
    out = {"sqlite": run(engine_for(trackers), engine_for(store), (trackers, store))}
    if not pg_url:
        out["postgresql"] = "skipped: set PREPAGO_BENCH_POSTGRES_URL (or PREPAGO_TEST_POSTGRES_URL)"
        return out
    schema = f"prepago_insights_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, future=True)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(pg_url, future=True, connect_args={"options": f"-csearch_path={schema}"})
    # The console in its own process reaches the same schema through libpq's options.
    url = sa.engine.make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        out["postgresql"] = run(engine, engine, (url.render_as_string(hide_password=False),) * 2)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    return out


def insights(work: Path, events: int = 1_000_000, pg_url: Optional[str] = None) -> dict:
    return _on_each_database(work, pg_url, lambda tracker, store, _: measure(tracker, store, events))


# What customers write that the assistant does not understand: topics in a long tail (a few come
# back all the time), said with fillers and typos, plus one-off texts that group with nothing.
TOPICS = ("lo de la cuenta", "la promoción de navidad", "el plan de datos ilimitado", "mi factura de octubre",
          "cambiar el titular del contrato", "la portabilidad de mi número", "el cobro doble de ayer",
          "el paquete de minutos a estados unidos", "la app que no abre", "mi contraseña del portal",
          "el reembolso que me prometieron", "la sucursal más cercana", "un descuento por pronto pago",
          "dar de baja el servicio", "el número de la sirena", "la línea que suena ocupado", "el fax de la oficina",
          "las llamadas a cuba", "el buzón de voz", "el conmutador nuevo", "la extensión que no timbra",
          "el ticket 4 que abrí", "la garantía del teléfono", "el cable que mandaron", "la cita con el técnico",
          "el contrato en inglés", "el cfdi de noviembre", "el rfc de la empresa", "la tarifa nocturna",
          "el roaming en españa", "la recarga con oxxo", "pagar en efectivo", "el saldo de mi celular personal",
          "la lada de monterrey", "el código de área", "la llamada que se cortó", "el eco en la línea",
          "el número privado", "bloquear un número", "la grabación de llamadas", "el horario de la tienda",
          "el correo que no llega", "mi usuario bloqueado", "el internet del módem", "la velocidad de la red",
          "el paquete empresarial", "la mensualidad", "el adeudo anterior", "la carta de no adeudo",
          "el aviso de privacidad")
OPENERS = ("", "", "oye ", "hola ", "buenas, ", "disculpa ", "una pregunta sobre ", "qué pasó con ", "y ",
           "necesito info de ", "me explicas ")
CLOSERS = ("", "", "?", "??", " porfa", " plis", "!!", " ya", " urgente", " gracias", " x favor")
SYLLABLES = ("ka", "lo", "mi", "tru", "zen", "pa", "qui", "bor", "ne", "flu", "xi", "go", "ra", "vle", "sto")


def miss_text(rng: random.Random) -> str:
    if rng.random() < 0.1:  # a one-off: nobody writes it again
        return " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
                        for _ in range(rng.randint(2, 5)))
    topic = TOPICS[min(int(rng.paretovariate(1.1)) - 1, len(TOPICS) - 1)]
    text = list(rng.choice(OPENERS) + topic + rng.choice(CLOSERS))
    if rng.random() < 0.3:  # a typo: a letter dropped, doubled or swapped with the next
        i = rng.randrange(len(text) - 1)
        kind = rng.randrange(3)
        if kind == 0:
            del text[i]
        elif kind == 1:
            text.insert(i, text[i])
        else:
            text[i], text[i + 1] = text[i + 1], text[i]
    return "".join(text)


def _miss_rows(misses: int, days: int, start: datetime, seed: int = 11) -> Iterator[dict]:
    """Conversations of 1-6 messages, most of them misses, until `misses` misses were written."""
    rng = random.Random(seed)
    templates = {channel: _turns(channel) for channel in CHANNELS}
    written, span = 0, days * 86400
    while written < misses:
        sender, channel = uuid.uuid4().hex, rng.choice(CHANNELS)
        at = start.timestamp() + rng.random() * span
        for _ in range(rng.randint(1, 6)):
            turn = templates[channel]["faq" if rng.random() < 0.25 else "miss"]
            if turn[0] is None:
                turn = [_user(miss_text(rng), "nlu_fallback", 0.7, channel,
                              [("nlu_fallback", 0.7), ("refine_query", 0.28), ("out_of_scope", 0.2)])] + turn[1:]
                written += 1
            for row in _stored(sender, turn, at):
                at = row["timestamp"]
                yield row
            at += rng.randint(5, 120)
            if written >= misses:
                return


def _console(urls: tuple[str, str], work: Path) -> tuple[subprocess.Popen, str, "requests.Session"]:
    """The staff console in its own process on these databases, and an agent signed in to it."""
    import requests

    from bot.db import engine_for
    from handoff.staff import create_user

    password = secrets.token_urlsafe(16)
    create_user("bench", "Agente de Prueba", password, engine_for(urls[1]))
    port = free_port()
    env = {**os.environ, "PREPAGO_DATABASE_URL": urls[1], "PREPAGO_TRACKER_DB_URL": urls[0]}
    log = open(work / f"console-{port}.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "tools.console", "--port", str(port),
                                "--rasa-url", "http://127.0.0.1:9"], cwd=PROJECT_ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    agent = requests.Session()
    for _ in range(600):
        try:
            page = agent.get(f"{base}/login", timeout=5)
            break
        except requests.ConnectionError:
            if process.poll() is not None:
                raise RuntimeError(f"the console stopped; see {log.name}")
            time.sleep(0.1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    agent.post(f"{base}/login", data={"csrf": csrf, "username": "bench", "password": password}, timeout=30)
    return process, base, agent


def measure_page(tracker: sa.engine.Engine, store: sa.engine.Engine, urls: tuple[str, str], work: Path,
                 misses: int, days: int = 30, requests_n: int = 30) -> dict:
    migrations.upgrade(store)
    end = datetime.now(timezone.utc).replace(microsecond=0)
    _fill(tracker, _miss_rows(misses, days, end - timedelta(days=days)))
    started = time.perf_counter()
    ingest(tracker, store)  # the first run: every message summarised and grouped
    first_ingest_s = time.perf_counter() - started
    _fill(tracker, _miss_rows(100, 1, end, seed=12))  # the next minute's misses, grouped on arrival
    started = time.perf_counter()
    ingest(tracker, store)
    incremental_s = time.perf_counter() - started
    process, base, agent = _console(urls, work)
    try:
        until = end.astimezone(REPORT_ZONE).date()
        query = {"since": str(until - timedelta(days=days)), "until": str(until)}
        url = f"{base}/api/insights/unanswered"
        agent.get(url, params=query, timeout=600).raise_for_status()  # the console's own catch-up, once
        latencies, sizes = [], []
        for _ in range(requests_n):
            t0 = time.perf_counter()
            reply = agent.get(url, params=query, timeout=60)
            latencies.append(time.perf_counter() - t0)
            reply.raise_for_status()
            sizes.append(len(reply.content))
        body = reply.json()
        deep = []
        for offset in (1_000, 2_000, 3_000):
            t0 = time.perf_counter()
            agent.get(url, params={**query, "offset": offset}, timeout=60).raise_for_status()
            deep.append(time.perf_counter() - t0)
        rss = peak_rss_mib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    with store.connect() as connection:
        unanswered = connection.execute(sa.text("SELECT count(*) FROM insight_turns WHERE group_id IS NOT NULL")).scalar()
        distinct = connection.execute(sa.text("SELECT count(DISTINCT text) FROM insight_turns "
                                              "WHERE group_id IS NOT NULL")).scalar()
    return {"unanswered": unanswered, "distinct_texts": distinct, "groups": body["total"],
            "first_ingest_s": round(first_ingest_s, 1), "incremental_ingest_ms": round(incremental_s * 1000, 1),
            "first_page": summary_ms(latencies), "first_page_bytes": max(sizes),
            "page_at_offset_1000_to_3000": summary_ms(deep), "console_rss_mib": rss}


def unanswered_page(work: Path, sizes: tuple[int, ...] = (5_000, 50_000), pg_url: Optional[str] = None) -> dict:
    out = {}
    for misses in sizes:
        folder = work / str(misses)
        folder.mkdir()
        out[str(misses)] = _on_each_database(folder, pg_url, lambda tracker, store, urls: measure_page(
            tracker, store, urls, folder, misses))
    return out
