"""The figures a support team watches, by day and channel, for any date range.

Read from `insight_turns` only (see ingest.py). A conversation is one
customer's chat on one day (in the support team's time zone); it is
"contained" when no message of it was handed to a person.
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.topics import FAQ_PREFIX, FAQ_TITLES, INTENT_TITLES
from insights.models import InsightTurn

CHANNELS = {"prepago_socketio": "Chat web", "prepago": "API", "whatsapp": "WhatsApp", "telegram": "Telegram",
            "messenger": "Messenger"}
REASONS = {"asked": "Pidió una persona", "not_understood": "No se le entendió", "money": "Molesto por dinero"}


@dataclass(frozen=True)
class DayChannel:
    day: str
    channel: str
    conversations: int
    messages: int
    contained: int
    fallbacks: int
    clarifications: int
    picked: int
    handoffs: int
    lookups: int

    def rates(self) -> dict:
        def share(part: int, whole: int) -> Optional[float]:
            return round(part / whole, 4) if whole else None

        return {"containment": share(self.contained, self.conversations),
                "fallback_rate": share(self.fallbacks, self.messages),
                "clarification_rate": share(self.clarifications, self.messages),
                "picked_suggestion_rate": share(self.picked, self.clarifications),
                "handoff_rate": share(self.handoffs, self.conversations)}


def _percentile(ordered: list[int], p: float) -> Optional[int]:
    if not ordered:
        return None
    k = (len(ordered) - 1) * p
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (k - low))


def report(since: date, until: date, store: Optional[Engine] = None) -> dict:
    """Everything for [since, until] (inclusive days): per day and channel, totals, top intents, handoffs."""
    t = InsightTurn
    in_range = sa.and_(t.day >= since, t.day <= until)
    handed = sa.func.max(sa.case((t.handoff_reason.is_not(None), 1), else_=0))
    with session_scope(store) as session:
        # One row per conversation (customer and day) first, then per day and channel.
        per_conversation = (
            sa.select(t.day, t.channel, t.sender_id, sa.func.count().label("messages"),
                      handed.label("handed"),
                      sa.func.sum(sa.case((t.fallback, 1), else_=0)).label("fallbacks"),
                      sa.func.sum(sa.case((t.clarified, 1), else_=0)).label("clarifications"),
                      sa.func.sum(sa.case((t.picked, 1), else_=0)).label("picked"),
                      sa.func.sum(sa.case((t.lookup.is_not(None), 1), else_=0)).label("lookups"))
            .where(in_range).group_by(t.day, t.channel, t.sender_id).subquery())
        c = per_conversation.c
        rows = session.execute(
            sa.select(c.day, c.channel, sa.func.count(), sa.func.sum(c.messages), sa.func.sum(1 - c.handed),
                      sa.func.sum(c.fallbacks), sa.func.sum(c.clarifications), sa.func.sum(c.picked),
                      sa.func.sum(c.handed), sa.func.sum(c.lookups))
            .group_by(c.day, c.channel).order_by(c.day, c.channel)).all()
        days = [DayChannel(str(r[0]), CHANNELS.get(r[1], r[1]), *(int(v or 0) for v in r[2:])) for r in rows]
        intents = session.execute(
            sa.select(t.intent, sa.func.count()).where(in_range, t.intent.is_not(None), t.intent != "nlu_fallback",
                                                        ~t.intent.startswith("/"))
            .group_by(t.intent).order_by(sa.func.count().desc())).all()
        reasons = session.execute(
            sa.select(t.handoff_reason, sa.func.count()).where(in_range, t.handoff_reason.is_not(None))
            .group_by(t.handoff_reason)).all()
        times = sorted(v for (v,) in session.execute(
            sa.select(t.response_ms).where(in_range, t.response_ms.is_not(None))))
    totals = DayChannel("total", "todos", *(sum(getattr(d, f) for d in days) for f in (
        "conversations", "messages", "contained", "fallbacks", "clarifications", "picked", "handoffs", "lookups")))
    return {
        "since": str(since), "until": str(until),
        "days": [{**asdict(d), **d.rates()} for d in days],
        "totals": {**asdict(totals), **totals.rates()},
        "top_intents": [{"intent": i, "title": INTENT_TITLES.get(i, i), "messages": n} for i, n in intents[:12]],
        "faq_topics": [{"topic": FAQ_TITLES.get(i[len(FAQ_PREFIX):], i), "messages": n}
                       for i, n in intents if i.startswith(FAQ_PREFIX)],
        "handoff_reasons": [{"reason": REASONS.get(r, r), "cases": n} for r, n in reasons],
        "response_ms": {"median": _percentile(times, 0.5), "p95": _percentile(times, 0.95), "n": len(times)},
    }


CSV_FIELDS = ("day", "channel", "conversations", "messages", "contained", "containment", "fallbacks", "fallback_rate",
              "clarifications", "clarification_rate", "picked", "picked_suggestion_rate", "handoffs", "handoff_rate",
              "lookups")


def to_csv(figures: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in figures["days"] + [figures["totals"]]:
        writer.writerow(row)
    return out.getvalue()
