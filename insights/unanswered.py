"""What customers ask that the assistant does not understand, grouped, and the loop back into training.

Messages that fell to the fallback (the first miss, answered with
suggestions, and a second one, handed to a person) are grouped by
similarity: identical texts first, then TF-IDF over character n-grams
(spelling varies more than meaning here) and cosine similarity, each distinct
text, most frequent first, joining the first group whose leading text it
resembles enough. Staff label a group's text with an
intent or "fuera de alcance"; `export` writes the labelled texts as Rasa NLU
YAML to a review file, never into data/nlu_es.
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Optional

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from bot.db import dialect_insert, session_scope
from bot.models import utcnow
from bot.topics import INTENT_TITLES
from insights.models import InsightLabel, InsightTurn

SIMILAR = 0.55  # cosine similarity of character n-grams to join a group
MAX_MESSAGES = 5000
OUT_OF_SCOPE = "out_of_scope"


class _Block(str):
    """Examples as a YAML block (`|`), the way Rasa's NLU files write them."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Block, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|"))


class LabelError(ValueError):
    """A label that is not one of the assistant's intents."""


def groups(since: date, until: date, store: Optional[Engine] = None) -> list[dict]:
    t = InsightTurn
    with session_scope(store) as session:
        rows = session.execute(
            sa.select(t.text, t.guess_1, t.confidence_1, t.guess_2, t.confidence_2, t.second_miss, t.sender_id, t.at)
            .where(t.day >= since, t.day <= until, t.fallback, t.text.is_not(None))
            .order_by(t.event_id.desc()).limit(MAX_MESSAGES)).all()
        labels = dict(session.execute(sa.select(InsightLabel.text, InsightLabel.label)).all())
    if not rows:
        return []
    # The same words come back many times: count them once, cluster the distinct texts.
    by_text: dict[str, list] = {}
    for row in rows:  # newest first
        by_text.setdefault(row.text, []).append(row)
    texts = sorted(by_text, key=lambda text: -len(by_text[text]))  # the most frequent text leads its group
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True, strip_accents="unicode",
                              sublinear_tf=True).fit_transform(texts)
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    for i in range(len(texts)):
        if leaders:
            similarity = (vectors[leaders] @ vectors[i].T).toarray().ravel()
            best = int(similarity.argmax())
            if similarity[best] >= SIMILAR:
                members[leaders[best]].append(i)
                continue
        leaders.append(i)
        members[i] = [i]
    out = []
    for leader in leaders:
        group = [row for i in members[leader] for row in by_text[texts[i]]]
        newest = max(group, key=lambda row: row.at)
        guesses = Counter()
        confidence: dict[str, list[float]] = {}
        for r in group:
            for name, value in ((r.guess_1, r.confidence_1), (r.guess_2, r.confidence_2)):
                if name:
                    guesses[name] += 1
                    confidence.setdefault(name, []).append(value or 0.0)
        out.append({
            "text": texts[leader],
            "count": len(group),
            "examples": [texts[i] for i in members[leader]][:5],
            "second_misses": sum(1 for r in group if r.second_miss),
            "guesses": [{"intent": name, "title": INTENT_TITLES.get(name, name),
                         "confidence": round(sum(confidence[name]) / len(confidence[name]), 2)}
                        for name, _ in guesses.most_common(2)],
            "conversation": newest.sender_id,
            "last_seen": newest.at.isoformat(),
            "label": labels.get(texts[leader]),
        })
    return sorted(out, key=lambda g: -g["count"])


def label(text: object, intent: object, staff: str, intents: frozenset[str], store: Optional[Engine] = None) -> None:
    if not isinstance(text, str) or not text.strip() or len(text) > 500:
        raise LabelError("Falta el texto de la pregunta.")
    if intent not in intents | {OUT_OF_SCOPE}:
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
