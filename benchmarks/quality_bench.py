"""NLU quality on the held-out Spanish set, side by side:
this project's pipeline, the stock `rasa init` pipeline, and a TF-IDF +
logistic-regression baseline, all trained on data/nlu_es. Plus k-fold
cross-validation on the training data."""
from __future__ import annotations

import asyncio
import logging
import random
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.nlu_eval import full_label, load_examples, score

HELD_OUT = PROJECT_ROOT / "tests" / "data" / "nlu_heldout.yml"
TRAIN_DATA = PROJECT_ROOT / "data" / "nlu_es"
OUT_OF_SCOPE = "out_of_scope"


def stock_config(work: Path) -> Path:
    """The config.yml that `rasa init` writes, with the language set to Spanish."""
    import rasa.cli

    source = Path(rasa.cli.__file__).parent / "initial_project" / "config.yml"
    text = source.read_text().replace("language: en", "language: es")
    path = work / "stock_config.yml"
    path.write_text(text)
    return path


class SklearnBaseline:
    """TF-IDF over words (1-2) and characters (2-5) with logistic regression."""

    name = "tfidf_logreg"

    def fit(self, texts: list[str], labels: list[str]) -> "SklearnBaseline":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        features = make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode"),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, strip_accents="unicode"),
        )
        self.model = make_pipeline(features, LogisticRegression(C=10, max_iter=3000))
        self.model.fit(texts, labels)
        return self

    def predict(self, texts: list[str]) -> list[str]:
        return list(self.model.predict(texts))


class RasaNLU:
    """A Rasa NLU pipeline trained from a config on a set of examples."""

    def __init__(self, name: str, config: Path):
        self.name, self.config = name, config

    def fit(self, examples: list[tuple[str, str]], work: Path) -> "RasaNLU":
        from rasa.model_training import train_nlu

        data = work / f"{self.name}_train.yml"
        write_nlu(examples, data)
        started = time.perf_counter()
        self.model_path = train_nlu(str(self.config), str(data), str(work / "models"),
                                    fixed_model_name=self.name, domain=str(PROJECT_ROOT / "domain.yml"))
        self.train_s = time.perf_counter() - started
        return self

    def predict(self, texts: list[str], ignore_fallback: bool = False) -> list[str]:
        from rasa.core.agent import Agent

        agent = Agent.load(self.model_path)

        async def parse_all():
            return [full_label(await agent.parse_message(t), ignore_fallback) for t in texts]

        return asyncio.run(parse_all())


def write_nlu(examples: list[tuple[str, str]], path: Path) -> None:
    by_label: dict[str, list[str]] = {}
    for text, label in examples:
        by_label.setdefault(label, []).append(text)
    nlu = [{"intent": label, "examples": "".join(f"- {t}\n" for t in texts)} for label, texts in by_label.items()]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True, sort_keys=False))


def report(gold: list[str], predicted: list[str], texts: list[str]) -> dict:
    r = score(gold, predicted, texts)
    oos = [p for g, p in zip(gold, predicted) if g == OUT_OF_SCOPE]
    return {
        "accuracy": round(r.accuracy, 3),
        "macro_f1": round(r.macro_f1, 3),
        "oos_recall": round(sum(p == OUT_OF_SCOPE for p in oos) / len(oos), 3) if oos else None,
        # Out of scope caught either as such or by the confidence fallback.
        "oos_handled": round(sum(p in (OUT_OF_SCOPE, "nlu_fallback") for p in oos) / len(oos), 3) if oos else None,
        "confusions": [f"{g} → {p} ({n})" for (g, p), n in r.confusions[:5]],
    }


def folds(examples: list[tuple[str, str]], k: int, seed: int = 13) -> list[tuple[list, list]]:
    """Stratified k folds: each label's examples dealt round-robin after a shuffle."""
    rng = random.Random(seed)
    by_label: dict[str, list] = {}
    for ex in examples:
        by_label.setdefault(ex[1], []).append(ex)
    buckets: list[list] = [[] for _ in range(k)]
    for items in by_label.values():
        rng.shuffle(items)
        for i, ex in enumerate(items):
            buckets[i % k].append(ex)
    return [([e for j, b in enumerate(buckets) if j != i for e in b], buckets[i]) for i in range(k)]


def quality(our_model: Path, cv_folds: int = 5, rasa_cv: bool = True, with_stock: bool = True) -> dict:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    train = load_examples(TRAIN_DATA)
    test = load_examples(HELD_OUT)
    texts, gold = [t for t, _ in test], [g for _, g in test]
    work = Path(tempfile.mkdtemp(prefix="prepago-quality-"))
    out: dict = {"held_out": {}, "cross_validation": {}, "train_examples": len(train), "test_examples": len(test)}
    try:
        ours = RasaNLU("ours", PROJECT_ROOT / "config.yml")
        ours.model_path = str(our_model)  # the model `make` trained on the same data
        systems = [ours]
        if with_stock:
            systems.append(RasaNLU("stock", stock_config(work)).fit(train, work))
        for system in systems:
            out["held_out"][system.name] = report(gold, system.predict(texts), texts)
            # The same model scored on its top intent, as if there were no confidence fallback.
            out["held_out"][f"{system.name} (top intent, no fallback)"] = report(
                gold, system.predict(texts, ignore_fallback=True), texts)
        baseline = SklearnBaseline().fit([t for t, _ in train], [g for _, g in train])
        out["held_out"][baseline.name] = report(gold, baseline.predict(texts), texts)

        candidates = [("tfidf_logreg", None)]
        if rasa_cv:
            candidates += [("ours", PROJECT_ROOT / "config.yml")] + ([("stock", stock_config(work))] if with_stock else [])
        for name, config in candidates:
            scores = []
            for i, (fold_train, fold_test) in enumerate(folds(train, cv_folds)):
                fold_texts, fold_gold = [t for t, _ in fold_test], [g for _, g in fold_test]
                if config is None:
                    model = SklearnBaseline().fit([t for t, _ in fold_train], [g for _, g in fold_train])
                else:
                    fold_work = work / f"{name}_fold{i}"
                    fold_work.mkdir()
                    model = RasaNLU(name, config).fit(fold_train, fold_work)
                # Cross-validation compares classifiers: Rasa's top intent, fallback ignored.
                predicted = model.predict(fold_texts) if config is None else model.predict(fold_texts, ignore_fallback=True)
                r = score(fold_gold, predicted, fold_texts)
                scores.append((r.accuracy, r.macro_f1))
            out["cross_validation"][name] = {
                "folds": cv_folds,
                "accuracy_mean": round(sum(a for a, _ in scores) / len(scores), 3),
                "macro_f1_mean": round(sum(f for _, f in scores) / len(scores), 3),
                "macro_f1_min": round(min(f for _, f in scores), 3),
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out
