"""Insights from conversations driven through the real server: metrics, unanswered questions,
the CSV, labels exported as NLU YAML that Rasa accepts, redaction and purging."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore

from bot.db import engine_for, session_scope
from bot.periods import today_in
from handoff.models import CaseStatus, SupportCase
from insights.ingest import ingest
from insights.metrics import report
from insights.models import InsightTurn
from insights.retention import purge
from insights.unanswered import groups
from tests.conftest import PROJECT_ROOT
from tests.test_console import console_url, sign_in
from tests.test_server import say, texts, token

pytestmark = pytest.mark.server
FIGURES = ("conversations", "messages", "contained", "fallbacks", "clarifications", "picked", "handoffs", "lookups")


def tracker(stack):
    return engine_for(f"sqlite:///{stack.work / 'trackers.db'}")


def snapshot(stack) -> dict:
    ingest(tracker(stack), stack.store)
    today = today_in("America/Mexico_City")
    figures = report(today - timedelta(days=1), today, stack.store)
    reasons = {r["reason"]: r["cases"] for r in figures["handoff_reasons"]}
    return {**{k: figures["totals"][k] for k in FIGURES}, **reasons}


def session() -> str:
    return f"insights-{uuid.uuid4().hex[:12]}"


def test_metrics_count_exactly_what_the_server_did(stack):
    before = snapshot(stack)
    one, two, three, four = session(), session(), session(), session()
    assert "MXN" in texts(say(stack, "¿cuánto saldo tengo?", token=token("100100"), session=one))  # a lookup
    say(stack, "¿cómo agrego fondos?", token=token("100100"), session=one)
    offer = say(stack, "oye y lo de la cuenta?", session=two)  # a miss: suggestions
    payload = next(b["payload"] for m in offer for b in m.get("buttons") or [])
    say(stack, payload, session=two)  # the customer picks one
    say(stack, "oye y lo de la cuenta?", session=three)
    assert "no logré entenderte" in texts(say(stack, "mmm pues eso que te dije", session=three))  # a second miss
    say(stack, "quiero hablar con un agente", token=token("200200"), session=four)  # a person, asked for
    say(stack, "no me llega la recarga", token=token("200200"), session=four)  # to the agent
    after = snapshot(stack)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    assert delta == {"conversations": 4, "messages": 8, "contained": 2, "fallbacks": 3, "clarifications": 2,
                     "picked": 1, "handoffs": 2, "lookups": 1, "No se le entendió": 1, "Pidió una persona": 1}, delta

    today = today_in("America/Mexico_City")
    missed = next(g for g in groups(today, today, stack.store) if g["text"] == "oye y lo de la cuenta?")
    assert missed["count"] >= 2 and len(missed["guesses"]) == 2
    assert all(0 < g["confidence"] < 1 for g in missed["guesses"])  # the real guesses behind the fallback
    assert "nlu_fallback" not in [g["intent"] for g in missed["guesses"]]
    figures = report(today, today, stack.store)
    assert figures["response_ms"]["median"] > 0 and figures["response_ms"]["p95"] >= figures["response_ms"]["median"]
    assert any(i["intent"] == "check_balance" for i in figures["top_intents"])
    assert any(t["topic"] == "Agregar fondos" for t in figures["faq_topics"])


def test_unanswered_texts_are_redacted_before_they_are_stored(stack):
    text = "blorp 4321 fnord 4111 1111 1111 1111 cuenta 100100 zzz"
    sid = session()
    say(stack, text, session=sid)
    ingest(tracker(stack), stack.store)
    with session_scope(stack.store) as s:
        stored = s.execute(sa.select(InsightTurn.text, InsightTurn.fallback)
                           .where(InsightTurn.text.like("blorp%"))).all()
    assert stored and all(fallback for _, fallback in stored)
    for value, _ in stored:
        assert "4321" not in value and "4111" not in value and "100100" not in value and "[número oculto]" in value


def test_the_console_api_and_csv_need_a_session_and_give_the_same_figures(stack):
    assert requests.get(f"{console_url(stack)}/api/insights", timeout=10).status_code == 401
    agent = sign_in(stack)
    today = today_in("America/Mexico_City")
    query = {"since": str(today - timedelta(days=6)), "until": str(today)}
    figures = agent.get(f"{console_url(stack)}/api/insights", params=query, timeout=60).json()
    reply = agent.get(f"{console_url(stack)}/api/insights.csv", params=query, timeout=60)
    assert reply.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert rows[-1]["day"] == "total" and int(rows[-1]["messages"]) == figures["totals"]["messages"]
    assert {r["channel"] for r in rows[:-1]} <= {"API", "Chat web", "WhatsApp", "Telegram", "Messenger"}
    bad = agent.get(f"{console_url(stack)}/api/insights", params={"since": "2026-13-01"}, timeout=10)
    assert bad.status_code == 400 and "Fechas inválidas" in bad.json()["error"]


def test_labels_are_exported_as_nlu_yaml_that_rasa_accepts(stack, tmp_path):
    agent = sign_in(stack)
    for text, label in (("oye y lo de la cuenta?", "faq_check_activity"), ("xq no jala mi lada", "out_of_scope")):
        reply = agent.post(f"{console_url(stack)}/api/insights/labels", json={"text": text, "label": label}, timeout=10)
        assert reply.status_code == 200, reply.text
    refused = agent.post(f"{console_url(stack)}/api/insights/labels", json={"text": "x", "label": "borrar_todo"},
                         timeout=10)
    assert refused.status_code == 400 and "intenciones" in refused.json()["error"]
    unsigned = agent.post(f"{console_url(stack)}/api/insights/labels", json={"text": "x", "label": "greet"},
                          headers={"X-CSRF-Token": "nope"}, timeout=10)
    assert unsigned.status_code == 403

    out = tmp_path / "review" / "nlu_from_support.yml"
    env = {**os.environ, "PREPAGO_DATABASE_URL": str(stack.store.url)}
    run = subprocess.run([sys.executable, "-m", "tools.cli", "export-training", "--out", str(out)], env=env,
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    document = yaml.safe_load(out.read_text())
    examples = {item["intent"]: item["examples"] for item in document["nlu"]}
    assert "- oye y lo de la cuenta?" in examples["faq_check_activity"]
    assert "- xq no jala mi lada" in examples["out_of_scope"]
    assert not (PROJECT_ROOT / "data" / "nlu_es" / out.name).exists()  # never straight into the training data
    rasa = str(PROJECT_ROOT / ".venv" / "bin" / "rasa")
    validate = subprocess.run([rasa, "data", "validate", "--data", str(out), "--domain", "domain.yml"],
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert validate.returncode == 0, validate.stdout[-2000:] + validate.stderr[-2000:]


def test_purge_removes_only_what_is_older(engine, tmp_path):
    trackers = engine_for(f"sqlite:///{tmp_path / 'trackers.db'}")
    SQLTrackerStore.SQLEvent.__table__.create(trackers)
    now = datetime.now(timezone.utc)
    old, recent = (now - timedelta(days=200)).timestamp(), (now - timedelta(days=2)).timestamp()
    with trackers.begin() as connection:
        connection.execute(SQLTrackerStore.SQLEvent.__table__.insert(), [
            {"sender_id": "a", "type_name": "user", "timestamp": old, "data": "{}"},
            {"sender_id": "b", "type_name": "user", "timestamp": recent, "data": "{}"}])
    with session_scope(engine) as s:
        for status, closed in ((CaseStatus.CLOSED, now - timedelta(days=200)), (CaseStatus.WAITING, None)):
            s.add(SupportCase(conversation_id="c", channel="prepago", reason="asked", status=status,
                              opened_at=now - timedelta(days=201), updated_at=now, closed_at=closed))
    removed = purge(180, trackers, engine)
    assert removed["eventos de conversación"] == 1 and removed["casos cerrados"] == 1
    with trackers.connect() as connection:
        assert [r[0] for r in connection.execute(sa.text("select sender_id from events"))] == ["b"]
    with session_scope(engine) as s:
        assert [c.status for c in s.execute(sa.select(SupportCase)).scalars()] == [CaseStatus.WAITING]
    with pytest.raises(ValueError):
        purge(0, trackers, engine)



def test_bot_report_prints_the_figures_and_writes_the_csv(stack, tmp_path):
    today = today_in("America/Mexico_City")
    out = tmp_path / "insights.csv"
    env = {**os.environ, "PREPAGO_DATABASE_URL": str(stack.store.url),
           "PREPAGO_TRACKER_DB_URL": f"sqlite:///{stack.work / 'trackers.db'}"}
    run = subprocess.run([sys.executable, "-m", "tools.cli", "report", "--since", str(today - timedelta(days=6)),
                          "--until", str(today), "--csv", str(out)], env=env, cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Resueltas sin una persona (contención):" in run.stdout and "Lo que no entendió" in run.stdout
    assert "4321" not in run.stdout and "100100" not in run.stdout  # redacted texts only
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows[-1]["day"] == "total" and int(rows[-1]["conversations"]) > 0
    bad = subprocess.run([sys.executable, "-m", "tools.cli", "report", "--since", "ayer"], env=env, cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Fechas inválidas" in bad.stderr and "Traceback" not in bad.stderr
