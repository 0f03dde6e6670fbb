"""NLU quality on the held-out Spanish set, side by side:
this project's pipeline, the stock `rasa init` pipeline, and a TF-IDF +
logistic-regression baseline, all trained on data/nlu_es. Plus k-fold
cross-validation on the training data."""
from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from tools.nlu_eval import full_label, load_examples, score

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
        "oos_handled": round(r.out_of_scope_handled, 3),
        "false_fallback": round(r.false_fallback_rate, 3),
        "confusions": [f"{g} → {p} ({n})" for (g, p), n in r.confusions[:5]],
    }


def folds(examples: list[tuple[str, str]], k: int, repeats: int, seed: int = 13) -> list[tuple[list, list]]:
    """Repeated stratified k-fold splits; every system is scored on the same splits."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    labels = [label for _, label in examples]
    splitter = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    return [([examples[i] for i in train], [examples[i] for i in test])
            for train, test in splitter.split(examples, labels)]


def _summary(scores: list[float]) -> dict:
    import statistics

    return {"mean": round(statistics.fmean(scores), 3), "std": round(statistics.pstdev(scores), 3),
            "min": round(min(scores), 3), "max": round(max(scores), 3)}


def quality(our_model: Path, cv_folds: int = 5, cv_repeats: int = 5, stock_repeats: int = 5,
            rasa_cv: bool = True, with_stock: bool = True) -> dict:
    """Held-out scores of the three systems, then repeated k-fold CV on the training data.

    `stock_repeats` may be lower than `cv_repeats`: the stock pipeline trains
    DIET for 100 epochs on every fold. Its folds are the first ones of the same
    sequence, so every comparison stays paired.
    """
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    train = load_examples(TRAIN_DATA)
    test = load_examples(HELD_OUT)
    texts, gold = [t for t, _ in test], [g for _, g in test]
    work = Path(tempfile.mkdtemp(prefix="prepago-quality-"))
    out: dict = {"held_out": {}, "cross_validation": {}, "train_examples": len(train), "test_examples": len(test),
                 "labels": len({g for _, g in train})}
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

        splits = folds(train, cv_folds, cv_repeats)
        candidates = [("tfidf_logreg", None, len(splits))]
        if rasa_cv:
            candidates.append(("ours", PROJECT_ROOT / "config.yml", len(splits)))
            if with_stock:
                candidates.append(("stock", stock_config(work), cv_folds * min(stock_repeats, cv_repeats)))
        per_fold: dict[str, list[float]] = {}
        for name, config, n in candidates:
            scores = []
            for i, (fold_train, fold_test) in enumerate(splits[:n]):
                fold_texts, fold_gold = [t for t, _ in fold_test], [g for _, g in fold_test]
                if config is None:
                    predicted = SklearnBaseline().fit([t for t, _ in fold_train], [g for _, g in fold_train]).predict(fold_texts)
                else:
                    fold_work = work / f"{name}_fold{i}"
                    fold_work.mkdir()
                    # Cross-validation compares classifiers: Rasa's top intent, fallback ignored.
                    predicted = RasaNLU(name, config).fit(fold_train, fold_work).predict(fold_texts, ignore_fallback=True)
                    shutil.rmtree(fold_work, ignore_errors=True)
                scores.append(score(fold_gold, predicted, fold_texts).macro_f1)
            per_fold[name] = scores
            out["cross_validation"][name] = {"folds": cv_folds, "repeats": n // cv_folds, "splits": n,
                                             "macro_f1": _summary(scores)}
        if "ours" in per_fold:
            # Paired differences on the same splits: the fairest view of "ahead by more than the spread".
            for other in ("tfidf_logreg", "stock"):
                if other in per_fold:
                    diffs = [a - b for a, b in zip(per_fold["ours"], per_fold[other])]
                    out["cross_validation"][f"ours − {other} (paired)"] = {
                        "splits": len(diffs), "macro_f1": _summary(diffs),
                        "ours_ahead_in": f"{sum(d > 0 for d in diffs)} of {len(diffs)}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out
