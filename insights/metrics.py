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
from bot.formatting import CHANNEL_LABELS
from insights.models import InsightTurn

BUCKET_MS = 10
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


def _from_histogram(histogram: list, p: float) -> Optional[int]:
    """The p-th percentile, to the bucket's upper edge (never flattering by up to BUCKET_MS)."""
    total = sum(n for _, n in histogram)
    if not total:
        return None
    seen = 0
    for bucket, n in histogram:
        seen += n
        if seen >= p * total:
            return (int(bucket) + 1) * BUCKET_MS
    return (int(histogram[-1][0]) + 1) * BUCKET_MS


def report(since: date, until: date, store: Optional[Engine] = None) -> dict:
    """Everything for [since, until] (inclusive days): per day and channel, totals, top intents, handoffs."""
    t = InsightTurn
    in_range = sa.and_(t.day >= since, t.day <= until)

    def count_if(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    with session_scope(store) as session:
        # One pass: a conversation is a distinct customer in a day and channel.
        handed = sa.func.count(sa.distinct(sa.case((t.handoff_reason.is_not(None), t.sender_id))))
        rows = session.execute(
            sa.select(t.day, t.channel, sa.func.count(sa.distinct(t.sender_id)), sa.func.count(), handed,
                      count_if(t.fallback), count_if(t.clarified), count_if(t.picked), count_if(t.lookup.is_not(None)))
            .where(in_range).group_by(t.day, t.channel).order_by(t.day, t.channel)).all()
        days = [DayChannel(str(day), CHANNEL_LABELS.get(channel, channel), int(conversations), int(messages),
                           int(conversations) - int(handed_n), int(fallbacks or 0), int(clarifications or 0),
                           int(picked or 0), int(handed_n), int(lookups or 0))
                for day, channel, conversations, messages, handed_n, fallbacks, clarifications, picked, lookups in rows]
        intents = session.execute(
            sa.select(t.intent, sa.func.count()).where(in_range, t.intent.is_not(None), t.intent != "nlu_fallback",
                                                        ~t.intent.startswith("/"))
            .group_by(t.intent).order_by(sa.func.count().desc())).all()
        reasons = session.execute(
            sa.select(t.handoff_reason, sa.func.count()).where(in_range, t.handoff_reason.is_not(None))
            .group_by(t.handoff_reason)).all()
        # Response times in 10 ms buckets: percentiles from a few hundred counts, not every row.
        bucket = (t.response_ms / BUCKET_MS).label("bucket")
        histogram = session.execute(sa.select(bucket, sa.func.count()).where(in_range, t.response_ms.is_not(None))
                                    .group_by(bucket).order_by(bucket)).all()
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
        "response_ms": {"median": _from_histogram(histogram, 0.5), "p95": _from_histogram(histogram, 0.95),
                        "n": sum(n for _, n in histogram)},
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
