"""Insights from conversations driven through the real server: metrics, unanswered questions
grouped as they arrive and paged, the CSV, labels exported as NLU YAML that Rasa accepts,
redaction, purging, and a store from before the groups."""
from __future__ import annotations

import csv
import io
import json
import os
import random
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
from insights.models import InsightGroup, InsightTurn
from insights.retention import purge
from insights.unanswered import groups
import migrations
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
    offer = say(stack, "oye y lo de la cosa esa?", session=two)  # a miss: suggestions
    payload = next(b["payload"] for m in offer for b in m.get("buttons") or [])
    say(stack, payload, session=two)  # the customer picks one
    say(stack, "oye y lo de la cosa esa?", session=three)
    assert "no logré entenderte" in texts(say(stack, "mmm pues eso que te dije", session=three))  # a second miss
    say(stack, "quiero hablar con un agente", token=token("200200"), session=four)  # a person, asked for
    say(stack, "no me llega la recarga", token=token("200200"), session=four)  # to the agent
    after = snapshot(stack)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    assert delta == {"conversations": 4, "messages": 8, "contained": 2, "fallbacks": 3, "clarifications": 2,
                     "picked": 1, "handoffs": 2, "lookups": 1, "No se le entendió": 1, "Pidió una persona": 1}, delta

    today = today_in("America/Mexico_City")
    missed = next(g for g in groups(today, today, stack.store, limit=100)["groups"]
                  if g["text"] == "oye y lo de la cosa esa?")
    assert missed["count"] >= 2 and len(missed["guesses"]) == 2
    assert all(0 < g["confidence"] < 1 for g in missed["guesses"])  # the real guesses behind the fallback
    assert "nlu_fallback" not in [g["intent"] for g in missed["guesses"]]
    figures = report(today, today, stack.store)
    assert figures["response_ms"]["median"] > 0 and figures["response_ms"]["p95"] >= figures["response_ms"]["median"]
    assert any(i["intent"] == "check_balance" for i in figures["top_intents"])
    assert any(t["topic"] == "Agregar fondos" for t in figures["faq_topics"])


def test_unanswered_texts_are_redacted_before_they_are_stored(stack):
    # A miss with numbers in it, as the tracker store holds it (which texts the model misses changes
    # with every training; what is tested is what the insights keep of one).
    write_misses(tracker(stack), ["mmm pues eso que te dije, 4321, 4111 1111 1111 1111 y 100100"])
    ingest(tracker(stack), stack.store)
    with session_scope(stack.store) as s:
        stored = s.execute(sa.select(InsightTurn.text, InsightTurn.fallback)
                           .where(InsightTurn.text.like("mmm pues eso que te dije, %"))).all()
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
    for text, label in (("oye y lo de la cosa esa?", "faq_check_activity"), ("xq no jala mi lada", "out_of_scope")):
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
    assert "- oye y lo de la cosa esa?" in examples["faq_check_activity"]
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


def test_messages_written_to_an_agent_are_not_counted_as_not_understood(stack):
    """While a person has the conversation the assistant is not asked: nothing it failed to understand."""
    sid = session()
    say(stack, "quiero hablar con un agente", token=token("200200"), session=sid)
    snapshot(stack)  # the hand-over is ingested; what follows is read by a later, incremental run
    gibberish = "zxqv " + "".join(c for c in uuid.uuid4().hex if c.isalpha())[:8]
    before = snapshot(stack)
    say(stack, f"{gibberish} mmm", token=token("200200"), session=sid)  # the description, for the agent
    say(stack, f"{gibberish} jkjk", token=token("200200"), session=sid)
    after = snapshot(stack)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    assert delta == {"messages": 2}, delta
    today = today_in("America/Mexico_City")
    assert not [g for g in groups(today, today, stack.store, limit=100)["groups"] if gibberish in g["text"]]
    with session_scope(stack.store) as s:
        case = s.execute(sa.select(SupportCase).where(SupportCase.conversation_id.like("200200-%"),
                                                      SupportCase.status != CaseStatus.CLOSED)
                         .order_by(SupportCase.id.desc())).scalars().first()
        case.status = CaseStatus.CLOSED


def nonsense(rng: random.Random) -> str:
    """Words nobody writes, different every run."""
    return " ".join("".join(rng.choice("bcdfgjklmnpqrstvxz") + rng.choice("aeiou") for _ in range(3))
                    for _ in range(3))


def write_misses(trackers, texts) -> None:
    """Messages the assistant did not understand, each in its own conversation, as Rasa 3.6 stores them.

    Written straight into the tracker store's events: which words the model fails on changes with every
    training, what is tested here is what the insights do with the misses."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    rows, at = [], datetime.now(timezone.utc).timestamp()
    for text in texts:
        sender = f"insights-miss-{uuid.uuid4().hex[:12]}"
        intent = {"name": "nlu_fallback", "confidence": 0.3}
        parse = {"text": text, "intent": intent, "entities": [], "intent_ranking": [
            intent, {"name": "faq_check_activity", "confidence": 0.26}, {"name": "check_balance", "confidence": 0.21}]}
        for event in (UserUttered(text, intent, [], parse, input_channel="prepago"),
                      ActionExecuted("action_suggest_topics"), BotUttered("No estoy seguro de haberte entendido."),
                      ActionExecuted("action_listen")):
            at += 0.01
            data = {**event.as_dict(), "timestamp": at}
            rows.append({"sender_id": sender, "type_name": data["event"], "timestamp": at,
                         "intent_name": intent["name"] if data["event"] == "user" else None,
                         "action_name": data.get("name") if data["event"] == "action" else None,
                         "data": json.dumps(data)})
    with trackers.begin() as connection:
        connection.execute(SQLTrackerStore.SQLEvent.__table__.insert(), rows)


def group_of(stack, text: str) -> set:
    with session_scope(stack.store) as s:
        return set(s.execute(sa.select(InsightTurn.group_id).where(InsightTurn.text == text)).scalars())


def test_unanswered_messages_join_a_group_as_they_arrive(stack):
    rng = random.Random(uuid.uuid4().int)
    base, other = nonsense(rng), nonsense(rng)
    similar, later = base + " porfa", base.replace(" ", "  ", 1) + "??"
    write_misses(tracker(stack), [base, base, similar, other])
    ingest(tracker(stack), stack.store)
    (leading,) = group_of(stack, base)
    assert leading is not None and group_of(stack, similar) == {leading}  # identical and similar together
    (apart,) = group_of(stack, other)
    assert apart not in (None, leading)  # a different question leads its own group
    write_misses(tracker(stack), [later])  # arrives after the group exists: the next ingest adds it
    ingest(tracker(stack), stack.store)
    assert group_of(stack, later) == {leading}

    today = today_in("America/Mexico_City")
    listed = {g["id"]: g for g in groups(today, today, stack.store, limit=100)["groups"]}
    assert listed[leading]["text"] == base and listed[leading]["count"] == 4
    assert set(listed[leading]["examples"]) == {base, similar, later} and listed[apart]["count"] == 1
    assert [g["intent"] for g in listed[leading]["guesses"]] == ["faq_check_activity", "check_balance"]
    with session_scope(stack.store) as s:
        group = s.get(InsightGroup, leading)
        assert group.messages == 4 and group.first_seen <= group.last_seen

    # A label given to any of a group's texts is the group's label.
    agent = sign_in(stack)
    reply = agent.post(f"{console_url(stack)}/api/insights/labels", json={"text": similar, "label": "out_of_scope"},
                       timeout=10)
    assert reply.status_code == 200, reply.text
    listed = {g["id"]: g for g in groups(today, today, stack.store, limit=100)["groups"]}
    assert listed[leading]["label"] == "out_of_scope" and listed[apart]["label"] is None


def test_the_unanswered_list_comes_a_page_at_a_time(stack):
    rng = random.Random(uuid.uuid4().int)
    write_misses(tracker(stack), [nonsense(rng) for _ in range(5)])
    ingest(tracker(stack), stack.store)
    agent = sign_in(stack)
    url = f"{console_url(stack)}/api/insights/unanswered"
    whole = agent.get(url, params={"limit": 100}, timeout=60).json()
    assert whole["total"] >= 5 and whole["limit"] == 100 and whole["offset"] == 0
    assert len(whole["groups"]) == min(whole["total"], 100)
    counts = [g["count"] for g in whole["groups"]]
    assert counts == sorted(counts, reverse=True)  # most frequent first
    pages = [agent.get(url, params={"limit": 2, "offset": offset}, timeout=60).json() for offset in (0, 2)]
    assert [len(p["groups"]) for p in pages] == [2, 2] and {p["total"] for p in pages} == {whole["total"]}
    assert [g["id"] for p in pages for g in p["groups"]] == [g["id"] for g in whole["groups"][:4]]
    assert agent.get(url, timeout=60).json()["limit"] == 20  # a page unless asked otherwise
    beyond = agent.get(url, params={"offset": whole["total"]}, timeout=60).json()
    assert beyond["groups"] == [] and beyond["total"] == whole["total"]
    for bad in ({"limit": 0}, {"limit": 101}, {"limit": "diez"}, {"limit": "-1"}, {"offset": "-1"},
                {"offset": "1e3"}, {"offset": 10 ** 7}, {"limit": "２"}):
        reply = agent.get(url, params=bad, timeout=10)
        assert reply.status_code == 400, (bad, reply.text)
        assert "debe ser un número entero entre" in reply.json()["error"], bad
        assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_a_store_from_before_the_groups_is_upgraded_and_its_messages_grouped(tmp_path):
    """Tables came from create_all; the store predates `group_id`: migrating adds it, the ingest groups the rows."""
    store = engine_for(f"sqlite:///{tmp_path / 'old.db'}")
    old = sa.MetaData()
    sa.Table("insight_turns", old, *[sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                                     for c in InsightTurn.__table__.columns if c.name != "group_id"])
    old.create_all(store)
    at = datetime(2026, 11, 20, 18, 0, tzinfo=timezone.utc)
    texts = ["lo de la promo de navidad", "mmm pues eso que te dije", "lo de la promo de navidad",
             "lo de la promo de navidad??", "el buzón de voz no jala"]
    with store.begin() as connection:
        connection.execute(old.tables["insight_turns"].insert(), [
            {"event_id": i + 1, "sender_id": f"old-{i}", "at": at + timedelta(minutes=i), "day": at.date(),
             "channel": "prepago", "intent": "nlu_fallback", "confidence": 0.4, "guess_1": "faq_check_activity",
             "confidence_1": 0.3, "guess_2": "out_of_scope", "confidence_2": 0.2, "fallback": True,
             "clarified": True, "second_miss": False, "picked": False, "text": text} for i, text in enumerate(texts)])

    migrations.upgrade(store)  # what `bot migrate` and every process's start run
    migrations.upgrade(store)  # and again: nothing to add the second time
    assert "group_id" in {c["name"] for c in sa.inspect(store).get_columns("insight_turns")}
    trackers = engine_for(f"sqlite:///{tmp_path / 'trackers.db'}")
    SQLTrackerStore.SQLEvent.__table__.create(trackers)
    ingest(trackers, store)  # no new events: the run still groups what the store already had
    page = groups(at.date(), at.date(), store)
    assert page["total"] == 3
    assert [(g["text"], g["count"]) for g in page["groups"]] == [
        ("lo de la promo de navidad", 3), ("el buzón de voz no jala", 1), ("mmm pues eso que te dije", 1)]
    assert page["groups"][0]["examples"] == ["lo de la promo de navidad", "lo de la promo de navidad??"]
    assert page["groups"][0]["guesses"][0] == {"intent": "faq_check_activity", "title": page["groups"][0]["guesses"][0]
                                               ["title"], "confidence": 0.3}
