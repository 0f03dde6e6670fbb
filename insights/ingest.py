"""From the tracker store's events to one summary row per customer message.

Incremental: it reads events after the last id it finished (`insight_state`),
in id order and in batches, so a run costs what was written since the last
one. Rows are upserted by event id, so two runs at once (two consoles, or
`bot report` beside the console) write the same rows, never duplicates.
A message is finished when the assistant listens again, when the
conversation goes to a person (it is paused: nothing will listen), when the
customer writes again, or after an hour; the watermark stops before the
oldest unfinished one, whose events are read again next time. Each run then
gives the new unanswered messages their group (insights/unanswered.py). The
console runs it when it starts and before it answers (at most every 5 s), and
`bot report` runs it first.

What each event contributes (as Rasa 3.6 writes them):
- `user`: the message, its channel, intent and confidence; on `nlu_fallback`
  the real guesses are the next two entries of `intent_ranking`;
- `action`: `action_suggest_topics` (a clarification), `action_handoff` (a
  person takes over), the account lookups, `action_listen` (the answer is
  complete: the response time);
- `pause`: the conversation went to a person; the customer's messages after
  it (until `resume`, a restart or a new session) are for the agent and get no
  answer from the assistant: counted as messages, never as "no entendió".
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.db import dialect_insert, session_scope
from bot.privacy import redact
from handoff.cases import REASON_OF_INTENT
from insights import unanswered
from insights.models import REPORT_ZONE, InsightState, InsightTurn

BATCH = 20_000
STALE = timedelta(hours=1)
LOOKUPS = frozenset({"action_check_balance", "action_show_activity", "action_show_spending", "action_show_deposits",
                     "action_show_more", "action_refine_query"})
WATERMARK = "events_done"
# Events after which the assistant answers again (Rasa 3.6's type names); `pause` is the one after which it does not.
UNPAUSED = ("resume", "restart", "session_started")

events = sa.table("events", sa.column("id", sa.Integer), sa.column("sender_id", sa.String),
                  sa.column("type_name", sa.String), sa.column("timestamp", sa.Float),
                  sa.column("intent_name", sa.String), sa.column("action_name", sa.String),
                  sa.column("data", sa.Text))


@dataclass
class _Turn:
    event_id: int
    sender_id: str
    at: datetime
    channel: str
    intent: Optional[str]
    confidence: Optional[float]
    text: str
    guesses: list = field(default_factory=list)
    clarified: bool = False
    second_miss: bool = False
    picked: bool = False
    handoff_reason: Optional[str] = None
    lookup: Optional[str] = None
    response_ms: Optional[int] = None
    to_agent: bool = False  # written while a person had the conversation: the assistant was not asked

    def row(self) -> dict:
        fallback = self.intent == "nlu_fallback" and not self.to_agent
        (g1, c1), (g2, c2) = (self.guesses + [(None, None), (None, None)])[:2]
        return {"event_id": self.event_id, "sender_id": self.sender_id, "at": self.at,
                "day": self.at.astimezone(REPORT_ZONE).date(), "channel": self.channel, "intent": self.intent,
                "confidence": self.confidence, "guess_1": g1, "confidence_1": c1, "guess_2": g2, "confidence_2": c2,
                "fallback": fallback, "clarified": self.clarified, "second_miss": self.second_miss,
                "picked": self.picked, "handoff_reason": self.handoff_reason, "lookup": self.lookup,
                "response_ms": self.response_ms, "text": redact(self.text)[:500] if fallback else None}


def _user_turn(event_id: int, sender_id: str, timestamp: float, data: str) -> _Turn:
    body = json.loads(data)
    parse = body.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [(r.get("name"), r.get("confidence")) for r in parse.get("intent_ranking") or []]
    turn = _Turn(event_id, sender_id, datetime.fromtimestamp(timestamp, timezone.utc),
                 body.get("input_channel") or "desconocido", intent.get("name"), intent.get("confidence"),
                 (body.get("metadata") or {}).get("display_text") or body.get("text") or "")
    if turn.intent == "nlu_fallback":
        turn.guesses = [g for g in ranking if g[0] != "nlu_fallback"][:2]
    turn.picked = (body.get("text") or "").startswith("/")  # a tapped button; counted only after a clarification
    return turn


def _watermark(session) -> int:
    value = session.get(InsightState, WATERMARK)
    return int(value.value) if value else 0


def ingest(tracker: Engine, store: Optional[Engine] = None, batch: int = BATCH) -> int:
    """Summarise events written since the last run; returns how many messages were finished."""
    with session_scope(store) as session:
        start = _watermark(session)
    open_turns: dict[str, _Turn] = {}
    clarified_before: dict[str, bool] = {}  # the sender's previous message got suggestions
    paused: dict[str, bool] = {}  # a person has the sender's conversation
    finished: list[dict] = []
    last_id, newest = start, None
    done = 0
    while True:
        with tracker.connect() as connection:
            rows = connection.execute(
                sa.select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp,
                          events.c.action_name, events.c.data)
                .where(events.c.id > last_id).order_by(events.c.id).limit(batch)).all()
        if not rows:
            break
        for event_id, sender, kind, timestamp, action, data in rows:
            newest = timestamp
            turn = open_turns.get(sender)
            if kind == "user":
                if turn is not None:
                    finished.append(_close(turn, clarified_before))
                turn = open_turns[sender] = _user_turn(event_id, sender, timestamp, data)
                if sender not in paused:  # from an earlier run's events; a first run reads them all
                    paused[sender] = bool(start) and _paused(tracker, sender, before=event_id)
                turn.to_agent = paused[sender]
                if sender not in clarified_before and start:
                    clarified_before[sender] = _was_clarified(store, sender, event_id)
                turn.picked = turn.picked and clarified_before.get(sender, False)
                turn.second_miss = turn.intent == "nlu_fallback" and clarified_before.get(sender, False) \
                    and not turn.to_agent
            elif kind in UNPAUSED:
                paused[sender] = False
            elif kind == "pause":
                paused[sender] = True
            if kind == "pause" and turn is not None:  # a person has the conversation: the assistant is done
                turn.response_ms = int((timestamp - turn.at.timestamp()) * 1000)
                finished.append(_close(turn, clarified_before))
                del open_turns[sender]
            elif kind == "action" and turn is not None:
                if action == "action_listen":
                    turn.response_ms = int((timestamp - turn.at.timestamp()) * 1000)
                    finished.append(_close(turn, clarified_before))
                    del open_turns[sender]
                elif action == "action_suggest_topics":
                    turn.clarified = True
                elif action == "action_handoff":
                    turn.handoff_reason = REASON_OF_INTENT.get(turn.intent or "", "asked")
                elif action in LOOKUPS:
                    turn.lookup = action
        last_id = rows[-1][0]
        done += _flush(store, finished)
        finished = []
    if newest is not None:
        # Messages to a person (a paused conversation) get no answer from the assistant, and a
        # turn nothing finished within an hour never will: stop waiting for either.
        cutoff = datetime.fromtimestamp(newest, timezone.utc) - STALE
        for sender, turn in list(open_turns.items()):
            if turn.at < cutoff or _paused(tracker, sender):
                finished.append(_close(turn, clarified_before))
                del open_turns[sender]
        done += _flush(store, finished)
    watermark = min([t.event_id - 1 for t in open_turns.values()] + [last_id])
    with session_scope(store) as session:
        insert = dialect_insert(session)
        session.execute(insert(InsightState).values(key=WATERMARK, value=str(watermark))
                        .on_conflict_do_update(index_elements=["key"], set_={"value": str(watermark)}))
    unanswered.assign(store)
    return done


def _close(turn: _Turn, clarified_before: dict[str, bool]) -> dict:
    clarified_before[turn.sender_id] = turn.clarified
    return turn.row()


def _paused(tracker: Engine, sender: str, before: Optional[int] = None) -> bool:
    """Whether a person had the conversation (now, or just before event `before`)."""
    query = sa.select(events.c.type_name).where(events.c.sender_id == sender,
                                                events.c.type_name.in_(("pause", *UNPAUSED)))
    if before is not None:
        query = query.where(events.c.id < before)
    with tracker.connect() as connection:
        latest = connection.execute(query.order_by(events.c.id.desc()).limit(1)).scalar()
    return latest == "pause"


def _was_clarified(store: Optional[Engine], sender: str, before: int) -> bool:
    """Whether the sender's previous message (from an earlier run) got suggestions."""
    with session_scope(store) as session:
        return bool(session.execute(
            sa.select(InsightTurn.clarified).where(InsightTurn.sender_id == sender, InsightTurn.event_id < before)
            .order_by(InsightTurn.event_id.desc()).limit(1)).scalar())


def _flush(store: Optional[Engine], rows: list[dict]) -> int:
    """Upsert: a message read again (after the watermark, or by a second console) is written again, never twice,
    and keeps its group."""
    if rows:
        with session_scope(store) as session:
            insert = dialect_insert(session)(InsightTurn)
            columns = [c.name for c in InsightTurn.__table__.columns if c.name not in ("event_id", "group_id")]
            session.execute(insert.on_conflict_do_update(
                index_elements=["event_id"], set_={c: getattr(insert.excluded, c) for c in columns}), rows)
    return len(rows)
