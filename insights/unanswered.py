"""What customers ask that the assistant does not understand, grouped as it arrives, and the loop back into training.

Messages that fell to the fallback (the first miss, answered with
suggestions, and a second one, handed to a person) get a group when they are
ingested (`assign`, run by `insights.ingest.ingest` after every run), so a
request only reads and pages (`groups`). A message joins the group of an
identical text; otherwise the group whose leading text (the group's first
message) is most similar, if the cosine similarity of their character
n-grams reaches SIMILAR; otherwise it leads a new group. Messages stored
before the groups existed have none, and the same `assign` groups them
(a backfill the first time the ingest runs).

Why a HashingVectorizer: TF-IDF must be refitted on all the texts whenever
one arrives (its vocabulary and weights change), which made every request
compare every distinct text with every leader, quadratic in the messages. A
hashed vector of `char_wb` 3-5-grams depends on its text alone, so a leader's
vector never changes: each process keeps the leaders' vectors in memory
(loading only the groups created since it last looked) and compares a new
batch against all of them with one sparse product. Spelling varies more than
meaning here, so character n-grams still carry the grouping.

Staff label a group's text with an intent or "fuera de alcance" (a group
shows the label of its leading text, else of any of its texts); `export`
writes the labelled texts as Rasa NLU YAML to a review file, never into
data/nlu_es.
"""
from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable, Optional

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import dialect_insert, session_scope
from bot.models import utcnow
from bot.topics import INTENT_TITLES
from insights.models import GROUPED, REPORT_ZONE, UNGROUPED, InsightGroup, InsightLabel, InsightState, InsightTurn

SIMILAR = 0.55  # cosine similarity of character n-grams to the leading text to join a group
BATCH = 2000  # unanswered messages grouped per transaction
PAGE = 20  # groups per page unless asked otherwise
MAX_PAGE = 100
EXAMPLES = 5
OUT_OF_SCOPE = "out_of_scope"
_LOCK = "grouping"  # insight_state row held while grouping: one process groups at a time
_PRODUCT_CELLS = 2_000_000  # at most this many similarities computed at once (memory)


class _Block(str):
    """Examples as a YAML block (`|`), the way Rasa's NLU files write them."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Block, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|"))


class LabelError(ValueError):
    """A label that is not one of the assistant's intents."""


@functools.lru_cache(maxsize=1)
def _vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer  # scikit-learn: ≈ 2 s of imports, paid only when used

    # 2**20 buckets: collisions between a few hundred n-grams of two short texts are negligible.
    return HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True, strip_accents="unicode",
                             n_features=2 ** 20, alternate_sign=False, norm="l2")


def vectors(texts: list[str]):
    """One L2-normalised row per text; a dot product of two rows is their cosine similarity."""
    return _vectorizer().transform(texts)


@dataclass
class _Leaders:
    ids: list[int]
    matrix: object  # scipy CSR, one row per group: its leading text's vector


_leaders: "weakref.WeakKeyDictionary[Engine, _Leaders]" = weakref.WeakKeyDictionary()  # per store
_leaders_lock = threading.Lock()


def _known_leaders(session: Session) -> _Leaders:
    """The leading vectors of every group, from this process's memory plus the groups created since."""
    import scipy.sparse  # scipy: paid only when grouping runs

    key = session.get_bind()
    g = InsightGroup
    with _leaders_lock:
        known = _leaders.get(key) or _Leaders([], vectors([""])[:0])
        count = session.execute(sa.select(sa.func.count()).select_from(g)).scalar()
        after = known.ids[-1] if known.ids else 0
        rows = session.execute(sa.select(g.id, g.text).where(g.id > after).order_by(g.id)).all()
        if rows:
            known = _Leaders(known.ids + [r.id for r in rows],
                             scipy.sparse.vstack([known.matrix, vectors([r.text for r in rows])], format="csr"))
        if len(known.ids) != count:  # groups were removed (bot purge): start over
            rows = session.execute(sa.select(g.id, g.text).order_by(g.id)).all()
            known = _Leaders([r.id for r in rows], vectors([r.text for r in rows] or [""])[:len(rows)])
        _leaders[key] = known
        return known


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _choose(session: Session, texts: list[str]) -> dict[str, int]:
    """Each distinct text's group: an identical text's, else the most similar leader's, else a new one."""
    t = InsightTurn
    distinct = list(dict.fromkeys(texts))  # in order of arrival
    group_of: dict[str, int] = {}
    for chunk in _chunks(distinct, 500):
        group_of.update(session.execute(sa.select(t.text, t.group_id).where(GROUPED, t.text.in_(chunk))).all())
    new = [text for text in distinct if text not in group_of]
    if not new:
        return group_of
    import numpy  # numpy: paid only when grouping runs

    leaders = _known_leaders(session)
    found = vectors(new)
    best, score = [-1] * len(new), [0.0] * len(new)
    if leaders.ids:
        step = max(1, _PRODUCT_CELLS // len(leaders.ids))
        for start in range(0, len(new), step):
            similarity = found[start:start + step] @ leaders.matrix.T
            for i, (b, s) in enumerate(zip(similarity.argmax(axis=1).A1, similarity.max(axis=1).toarray().ravel())):
                best[start + i], score[start + i] = int(b), float(s)
    among_new = (found @ found.T).toarray()  # against the leaders this batch creates
    is_leader = numpy.zeros(len(new), dtype=bool)
    leading: list[int] = []  # positions in `new` of this batch's leaders
    joins: dict[int, int] = {}  # position in `new` → position of its leader in `new`
    for i in range(len(new)):
        near_scores = numpy.where(is_leader[:i], among_new[i, :i], -1.0)
        near = int(near_scores.argmax()) if i else -1
        if near >= 0 and near_scores[near] >= SIMILAR and near_scores[near] > score[i]:
            joins[i] = near
        elif score[i] >= SIMILAR:
            group_of[new[i]] = leaders.ids[best[i]]
        else:
            is_leader[i] = True
            leading.append(i)
    created = [InsightGroup(text=new[i], messages=0, guesses={}) for i in leading]
    session.add_all(created)
    session.flush()
    for i, group in zip(leading, created):
        group_of[new[i]] = group.id
    for i, leader in joins.items():
        group_of[new[i]] = group_of[new[leader]]
    return group_of


def _tally(rows: Iterable[tuple]) -> dict[int, dict]:
    """Per group: how many messages, the first and last, and the classifier's guesses behind the fallback.

    Rows are (group id, at, guess 1, confidence 1, guess 2, confidence 2)."""
    out: dict[int, dict] = {}
    for group_id, at, guess_1, confidence_1, guess_2, confidence_2 in rows:
        tally = out.setdefault(group_id, {"messages": 0, "first_seen": at, "last_seen": at, "guesses": {}})
        tally["messages"] += 1
        tally["first_seen"], tally["last_seen"] = min(tally["first_seen"], at), max(tally["last_seen"], at)
        for name, confidence in ((guess_1, confidence_1), (guess_2, confidence_2)):
            if name:
                seen = tally["guesses"].setdefault(name, [0, 0.0])
                seen[0], seen[1] = seen[0] + 1, seen[1] + (confidence or 0.0)
    return out


def _add(group: InsightGroup, tally: dict) -> None:
    group.messages = (group.messages or 0) + tally["messages"]
    group.first_seen = min(filter(None, (group.first_seen, tally["first_seen"])))
    group.last_seen = max(filter(None, (group.last_seen, tally["last_seen"])))
    guesses = {name: list(value) for name, value in (group.guesses or {}).items()}
    for name, (n, total) in tally["guesses"].items():
        seen = guesses.setdefault(name, [0, 0.0])
        seen[0], seen[1] = seen[0] + n, seen[1] + total
    group.guesses = guesses  # a new object: the JSON column sees the change


def _hold(session: Session) -> None:
    """Take the grouping row lock (PostgreSQL) or the write lock (SQLite) until the transaction ends."""
    session.execute(dialect_insert(session)(InsightState).values(key=_LOCK, value="")
                    .on_conflict_do_update(index_elements=["key"], set_={"value": ""}))


def assign(store: Optional[Engine] = None, batch: int = BATCH) -> int:
    """Group the unanswered messages that have no group yet (new ones, or older than the groups); returns how many."""
    t = InsightTurn
    done = 0
    while True:
        with session_scope(store) as session:
            _hold(session)
            rows = session.execute(
                sa.select(t.event_id, t.text, t.at, t.guess_1, t.confidence_1, t.guess_2, t.confidence_2)
                .where(UNGROUPED).order_by(t.event_id).limit(batch)).all()
            if not rows:
                return done
            group_of = _choose(session, [r.text for r in rows])
            session.execute(sa.update(t).where(t.event_id == sa.bindparam("event")).values(
                group_id=sa.bindparam("group")), [{"event": r.event_id, "group": group_of[r.text]} for r in rows])
            tallies = _tally((group_of[r.text], r.at, r.guess_1, r.confidence_1, r.guess_2, r.confidence_2)
                             for r in rows)
            for chunk in _chunks(list(tallies), 500):
                for group in session.execute(sa.select(InsightGroup).where(InsightGroup.id.in_(chunk))).scalars():
                    _add(group, tallies[group.id])
            done += len(rows)


def refresh(store: Optional[Engine] = None) -> int:
    """Count every group again from its messages (after `bot purge`) and drop the groups left empty."""
    t = InsightTurn
    with session_scope(store) as session:
        _hold(session)
        tallies = _tally(session.execute(sa.select(t.group_id, t.at, t.guess_1, t.confidence_1, t.guess_2,
                                                   t.confidence_2).where(GROUPED)))
        removed = 0
        for group in session.execute(sa.select(InsightGroup)).scalars():
            if group.id not in tallies:
                session.delete(group)
                removed += 1
                continue
            group.messages, group.first_seen, group.last_seen = 0, None, None
            group.guesses = {}
            _add(group, tallies[group.id])
    return removed


def _top_guesses(guesses: dict) -> list[dict]:
    ranked = sorted(guesses.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))[:2]
    return [{"intent": name, "title": INTENT_TITLES.get(name, name), "confidence": round(total / n, 2)}
            for name, (n, total) in ranked]


def groups(since: date, until: date, store: Optional[Engine] = None, limit: int = PAGE, offset: int = 0) -> dict:
    """One page of [since, until]'s groups, most messages first: {"groups", "total", "limit", "offset"}.

    A group's `count`, `examples`, `second_misses`, `conversation` (the newest) and `last_seen` are the
    range's; `first_seen`, `total` and `guesses` are all of the group's messages'."""
    if not (1 <= limit <= MAX_PAGE) or offset < 0:
        raise ValueError("limit must be within 1..MAX_PAGE and offset not negative")

    t, g = InsightTurn, InsightGroup
    in_range = sa.and_(GROUPED, t.day >= since, t.day <= until)
    with session_scope(store) as session:
        # One pass over the range's index entries (the rank index covers it); only the page comes back,
        # with the number of groups beside each row.
        ranked = sa.select(t.group_id, sa.func.count().label("n"),
                           sa.func.sum(sa.case((t.second_miss, 1), else_=0)).label("second_misses"),
                           sa.func.max(t.at).label("last")).where(in_range).group_by(t.group_id).subquery()
        rows = session.execute(
            sa.select(ranked, sa.func.count().over().label("total"))
            .order_by(ranked.c.n.desc(), ranked.c.last.desc(), ranked.c.group_id).limit(limit).offset(offset)).all()
        total = rows[0].total if rows else session.execute(sa.select(sa.func.count()).select_from(ranked)).scalar()
        chosen = {r.group_id: r for r in rows}
        details = {r.id: r for r in session.execute(
            sa.select(g.id, g.text, g.guesses, g.first_seen, g.messages).where(g.id.in_(chosen)))} if chosen else {}
        texts: dict[int, list[tuple[int, str]]] = {}  # group → (messages in range, text)
        newest: dict[int, str] = {}
        if chosen:
            for group_id, text, n in session.execute(
                    sa.select(t.group_id, t.text, sa.func.count()).where(in_range, t.group_id.in_(chosen))
                    .group_by(t.group_id, t.text)):
                texts.setdefault(group_id, []).append((n, text))
            for group_id, r in chosen.items():  # the newest message's conversation, found by its index entry
                newest[group_id] = session.execute(
                    sa.select(t.sender_id).where(GROUPED, t.day == r.last.astimezone(REPORT_ZONE).date(),
                                                 t.group_id == group_id, t.at == r.last).limit(1)).scalar()
        labels = dict(session.execute(sa.select(InsightLabel.text, InsightLabel.label)).all())
    page = [(r, details[r.group_id]) for r in chosen.values() if r.group_id in details]
    out = []
    for r, group in page:
        by_count = [text for _, text in sorted(texts.get(r.group_id, []), key=lambda item: (-item[0], item[1]))]
        members = [group.text] + [text for text in by_count if text != group.text]
        label = labels.get(group.text) or next((labels[text] for text in members if text in labels), None)
        out.append({
            "id": r.group_id,
            "text": group.text,
            "count": r.n,
            "examples": members[:EXAMPLES],
            "second_misses": int(r.second_misses or 0),
            "guesses": _top_guesses(group.guesses or {}),
            "conversation": newest.get(r.group_id),
            "last_seen": r.last.isoformat(),
            "first_seen": group.first_seen.isoformat() if group.first_seen else None,
            "total": group.messages,
            "label": label,
        })
    return {"groups": out, "total": total, "limit": limit, "offset": offset}


def label(text: object, intent: object, staff: str, intents: frozenset[str], store: Optional[Engine] = None) -> None:
    if not isinstance(text, str) or not text.strip() or len(text) > 500:
        raise LabelError("Falta el texto de la pregunta.")
    if not isinstance(intent, str) or intent not in intents | {OUT_OF_SCOPE}:
        raise LabelError("Elige una de las intenciones del asistente o «fuera de alcance».")
    with session_scope(store) as session:
        values = {"label": intent, "labelled_by": staff, "labelled_at": utcnow()}
        session.execute(dialect_insert(session)(InsightLabel).values(text=text, **values)
                        .on_conflict_do_update(index_elements=["text"], set_=values))


def export(path: Path, store: Optional[Engine] = None) -> int:
    """Write the labelled texts as Rasa NLU YAML for review; returns how many examples."""
    with session_scope(store) as session:
        rows = session.execute(sa.select(InsightLabel.label, InsightLabel.text).order_by(InsightLabel.label,
                                                                                         InsightLabel.text)).all()
    by_intent: dict[str, list[str]] = {}
    for intent, text in rows:
        by_intent.setdefault(intent, []).append(text)
    nlu = [{"intent": intent, "examples": _Block("".join(f"- {' '.join(text.split())}\n" for text in texts))}
           for intent, texts in by_intent.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Preguntas que el asistente no entendió, etiquetadas por Soporte (`bot export-training`).\n"
                    "# Revísalas antes de pasarlas a data/nlu_es/ (README, «Insights»).\n"
                    + yaml.dump({"version": "3.1", "nlu": nlu}, Dumper=_Dumper, allow_unicode=True, sort_keys=False))
    return len(rows)
