"""NLU quality, side by side: this project's pipeline, the stock `rasa init`
pipeline, and a TF-IDF + logistic-regression baseline tuned by the same
repeated cross-validation, all trained on data/nlu_es.

Scored on three things: repeated stratified k-fold CV on the training data;
the development set (`tests/data/nlu_heldout.yml`, which has guided choices
since it was written); and the test set (`tests/data/nlu_test.yml`, written
blind from the intent definitions and the article by someone who never saw
data/nlu_es, and read only through these aggregate scores)."""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from bot.config import PROJECT_ROOT
from training.evaluation import (DEV_SET, EVAL_SETS, TEST_SET, TRAIN_DATA, RasaNLU, cross_validate, folds,  # noqa: F401
                            load_examples, score)

# The baseline's grid, searched on the same repeated CV splits every system is scored on.
BASELINE_GRID = [{"C": c, "class_weight": w} for c in (1, 3, 10, 30, 100) for w in (None, "balanced")]
OUT_OF_SCOPE = "out_of_scope"


def stock_config(work: Path) -> Path:
    """The config.yml that `rasa init` writes, with the language set to Spanish."""
    import rasa.cli

    source = Path(rasa.cli.__file__).parent / "initial_project" / "config.yml"
    text = source.read_text().replace("language: en", "language: es")
    path = work / "stock_config.yml"
    path.write_text(text)
    return path


def tfidf_features():
    """Words (1-2) and characters (2-5), accents folded: the baseline's feature view."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode"),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, strip_accents="unicode"),
    )


def _logreg(C: float, class_weight, warm_start: bool = False):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight=class_weight, max_iter=5000, warm_start=warm_start)


class SklearnBaseline:
    """TF-IDF over words (1-2) and characters (2-5) with logistic regression."""

    name = "tfidf_logreg"

    def __init__(self, C: float = 30, class_weight=None):
        self.C, self.class_weight = C, class_weight

    def fit(self, texts: list[str], labels: list[str]) -> "SklearnBaseline":
        from sklearn.pipeline import make_pipeline

        self.model = make_pipeline(tfidf_features(), _logreg(self.C, self.class_weight))
        self.model.fit(texts, labels)
        return self

    def predict(self, texts: list[str]) -> list[str]:
        return list(self.model.predict(texts))


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


def _summary(scores: list[float]) -> dict:
    import statistics

    return {"mean": round(statistics.fmean(scores), 3), "std": round(statistics.pstdev(scores), 3),
            "min": round(min(scores), 3), "max": round(max(scores), 3)}


def _grid_on_split(split: tuple[list, list]) -> dict[tuple, float]:
    """Macro-F1 of every grid point on one split. The features do not depend on
    C or the class weights, so they are fitted once; each class weight walks C
    upwards from the previous solution (warm start), which gives the same optimum
    in a fraction of the iterations."""
    train, test = split
    features = tfidf_features()
    x_train = features.fit_transform([t for t, _ in train])
    x_test = features.transform([t for t, _ in test])
    y_train, gold, texts = [g for _, g in train], [g for _, g in test], [t for t, _ in test]
    out = {}
    for weight in dict.fromkeys(p["class_weight"] for p in BASELINE_GRID):
        model = _logreg(1.0, weight, warm_start=True)
        for C in sorted(p["C"] for p in BASELINE_GRID if p["class_weight"] == weight):
            model.set_params(C=C).fit(x_train, y_train)
            out[(C, weight)] = score(gold, list(model.predict(x_test)), texts).macro_f1
    return out


def tune_baseline(splits: list[tuple[list, list]]) -> tuple[dict, list[float], list[dict]]:
    """The TF-IDF + LR parameters with the best mean CV macro-F1, its per-split scores, and the whole grid."""
    from joblib import Parallel, delayed

    per_split = Parallel(n_jobs=2)(delayed(_grid_on_split)(split) for split in splits)
    grid = [{**params, "scores": [s[(params["C"], params["class_weight"])] for s in per_split]} for params in BASELINE_GRID]
    best = max(grid, key=lambda row: sum(row["scores"]))
    table = [{"C": r["C"], "class_weight": r["class_weight"], "macro_f1": _summary(r["scores"])["mean"]} for r in grid]
    return {"C": best["C"], "class_weight": best["class_weight"]}, best["scores"], table


def quality(our_model: Path, cv_folds: int = 5, cv_repeats: int = 5, stock_repeats: int = 5,
            rasa_cv: bool = True, with_stock: bool = True) -> dict:
    """The dev and test scores of the three systems, then repeated k-fold CV on the training data.

    `stock_repeats` may be lower than `cv_repeats`: the stock pipeline trains
    DIET for 100 epochs on every fold. Its folds are the first ones of the same
    sequence, so every comparison stays paired.
    """
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    train = load_examples(TRAIN_DATA)
    sets = {name: load_examples(path) for name, path in EVAL_SETS.items()}
    work = Path(tempfile.mkdtemp(prefix="prepago-quality-"))
    out: dict = {"train_examples": len(train), "labels": len({g for _, g in train}),
                 "examples": {name: len(rows) for name, rows in sets.items()},
                 **{name: {} for name in sets}, "cross_validation": {}}
    try:
        splits = folds(train, cv_folds, cv_repeats)
        chosen, baseline_scores, grid = tune_baseline(splits)
        out["baseline_tuning"] = {"chosen": chosen, "grid": grid}
        ours = RasaNLU("ours", PROJECT_ROOT / "config.yml")
        ours.model_path = str(our_model)  # the model `make` trained on the same data
        systems = [ours]
        if with_stock:
            systems.append(RasaNLU("stock", stock_config(work)).fit(train, work))
        baseline = SklearnBaseline(**chosen).fit([t for t, _ in train], [g for _, g in train])
        for name, rows in sets.items():
            texts, gold = [t for t, _ in rows], [g for _, g in rows]
            for system in systems:
                out[name][system.name] = report(gold, system.predict(texts), texts)
                # The same model scored on its top intent, as if there were no confidence fallback.
                out[name][f"{system.name} (top intent, no fallback)"] = report(
                    gold, system.predict(texts, ignore_fallback=True), texts)
            out[name][baseline.name] = report(gold, baseline.predict(texts), texts)

        per_fold: dict[str, list[float]] = {"tfidf_logreg": baseline_scores}
        out["cross_validation"]["tfidf_logreg"] = {"folds": cv_folds, "repeats": cv_repeats, "splits": len(splits),
                                                   "macro_f1": _summary(baseline_scores), "params": chosen}
        candidates = []
        if rasa_cv:
            candidates.append(("ours", PROJECT_ROOT / "config.yml", len(splits)))
            if with_stock and stock_repeats:  # 0: the stock pipeline on the two sets only (DIET per fold is slow)
                candidates.append(("stock", stock_config(work), cv_folds * min(stock_repeats, cv_repeats)))
        for name, config, n in candidates:
            scores = cross_validate(name, config, splits[:n], work)
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
