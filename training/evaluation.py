"""Score a trained model on the development and test sets, and train-and-score by cross-validation.

Each FAQ topic is its own intent (`faq_add_funds`), so picking the wrong FAQ
answer is an error. For pipelines with a retrieval intent (the stock config
on data that has one) the response selector's full key is scored instead.

`make bench` (benchmarks/quality_bench.py) and `bot retrain` (training/)
score with these same pieces: the same splits, the same training, the same
scores.
"""
from __future__ import annotations

import asyncio
from collections import Counter
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import yaml

from bot.config import PROJECT_ROOT

TRAIN_DATA = PROJECT_ROOT / "data" / "nlu_es"
# The development set has guided choices since it was written; the test set was written blind
# and is read only through aggregate scores (never its lines or its errors).
DEV_SET = PROJECT_ROOT / "tests" / "data" / "nlu_heldout.yml"
TEST_SET = PROJECT_ROOT / "tests" / "data" / "nlu_test.yml"
EVAL_SETS = {"dev": DEV_SET, "test": TEST_SET}


@dataclass
class Report:
    accuracy: float
    macro_f1: float
    n: int
    errors: list[tuple[str, str, str]]  # (text, expected, predicted)
    per_label_f1: dict[str, float]
    confusions: list[tuple[tuple[str, str], int]]
    # Out-of-scope messages predicted as such or sent to the confidence fallback.
    out_of_scope_handled: float
    # In-scope messages that the confidence fallback asked about instead of answering.
    false_fallback_rate: float


OUT_OF_SCOPE, FALLBACK = "out_of_scope", "nlu_fallback"


def full_label(parse: dict, ignore_fallback: bool = False) -> str:
    """The predicted label; with `ignore_fallback`, the classifier's top intent
    even when the confidence fallback would have asked the customer instead."""
    intent = (parse.get("intent") or {}).get("name") or "none"
    if ignore_fallback and intent == "nlu_fallback":
        ranked = [i["name"] for i in parse.get("intent_ranking", []) if i.get("name") != "nlu_fallback"]
        intent = ranked[0] if ranked else intent
    if intent == "faq":
        selectors = parse.get("response_selector", {})
        # A ResponseSelector without `retrieval_intent` (the stock config) reports under "default".
        selected = selectors.get("faq") or selectors.get("default") or {}
        key = selected.get("response", {}).get("intent_response_key")
        return key or "faq"
    return intent


def load_examples(path: Path) -> list[tuple[str, str]]:
    # Rasa: ≈ 11 s of imports, paid only by the commands that use it
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        (m.get("text"), m.get("intent_response_key") or m.get("intent"))
        for m in data.intent_examples
    ]


def score(gold: list[str], predicted: list[str], texts: list[str]) -> Report:
    from sklearn.metrics import accuracy_score, f1_score  # scikit-learn: ≈ 2 s of imports, paid only when used

    labels = sorted(set(gold))
    per_label = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    errors = [(t, g, p) for t, g, p in zip(texts, gold, predicted) if g != p]
    oos = [p for g, p in zip(gold, predicted) if g == OUT_OF_SCOPE]
    in_scope = [p for g, p in zip(gold, predicted) if g != OUT_OF_SCOPE]
    return Report(
        accuracy=float(accuracy_score(gold, predicted)),
        macro_f1=float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        n=len(gold),
        errors=errors,
        per_label_f1=dict(zip(labels, map(float, per_label))),
        confusions=Counter((g, p) for _, g, p in errors).most_common(10),
        out_of_scope_handled=sum(p in (OUT_OF_SCOPE, FALLBACK) for p in oos) / len(oos) if oos else 1.0,
        false_fallback_rate=sum(p == FALLBACK for p in in_scope) / len(in_scope) if in_scope else 0.0,
    )


def _quiet_rasa() -> None:
    import logging

    # Rasa: ≈ 11 s of imports, paid only by the commands that use it
    from rasa.utils.common import configure_logging_and_warnings
    # Rasa: ≈ 11 s of imports, paid only by the commands that use it
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def evaluate_many(model: Path, sets: dict[str, Path]) -> dict[str, Report]:
    """Score one model (loaded once) on several sets."""
    from rasa.core.agent import Agent  # Rasa: ≈ 11 s of imports, paid only by the commands that use it

    _quiet_rasa()
    agent = Agent.load(str(model))
    out = {}
    for name, data in sets.items():
        examples = load_examples(data)

        async def parse_all() -> list[str]:
            return [full_label(await agent.parse_message(text)) for text, _ in examples]

        predicted = asyncio.run(parse_all())
        out[name] = score([g for _, g in examples], predicted, [t for t, _ in examples])
    return out


def evaluate(model: Path, data: Path) -> Report:
    return evaluate_many(model, {"data": data})["data"]


def write_nlu(examples: list[tuple[str, str]], path: Path) -> None:
    by_label: dict[str, list[str]] = {}
    for text, label in examples:
        by_label.setdefault(label, []).append(text)
    nlu = [{"intent": label, "examples": "".join(f"- {t}\n" for t in texts)} for label, texts in by_label.items()]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True, sort_keys=False))


class RasaNLU:
    """A Rasa NLU pipeline trained from a config on a set of examples."""

    def __init__(self, name: str, config: Path):
        self.name, self.config = name, config

    def fit(self, examples: list[tuple[str, str]], work: Path) -> "RasaNLU":
        from rasa.model_training import train_nlu  # Rasa: ≈ 11 s of imports, paid only by the commands that use it

        _quiet_rasa()
        data = work / f"{self.name}_train.yml"
        write_nlu(examples, data)
        started = time.perf_counter()
        self.model_path = train_nlu(str(self.config), str(data), str(work / "models"),
                                    fixed_model_name=self.name, domain=str(PROJECT_ROOT / "domain.yml"))
        self.train_s = time.perf_counter() - started
        return self

    def predict(self, texts: list[str], ignore_fallback: bool = False) -> list[str]:
        from rasa.core.agent import Agent  # Rasa: ≈ 11 s of imports, paid only by the commands that use it

        agent = Agent.load(self.model_path)

        async def parse_all():
            return [full_label(await agent.parse_message(t), ignore_fallback) for t in texts]

        return asyncio.run(parse_all())


def folds(examples: list[tuple[str, str]], k: int, repeats: int, seed: int = 13) -> list[tuple[list, list]]:
    """Repeated stratified k-fold splits; every system is scored on the same splits."""
    from sklearn.model_selection import RepeatedStratifiedKFold  # scikit-learn: ≈ 2 s of imports, paid only when used

    labels = [label for _, label in examples]
    splitter = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    return [([examples[i] for i in train], [examples[i] for i in test])
            for train, test in splitter.split(examples, labels)]


def cross_validate(name: str, config: Path, splits: Sequence[tuple[list, list]], work: Path,
                   extra: Sequence[tuple[str, str]] = (), progress: Optional[Callable[[int, int], None]] = None
                   ) -> list[float]:
    """Macro-F1 on each split's test part of the pipeline in `config` trained on the split's
    training part plus `extra` (examples that are never tested: `bot retrain`'s labels).

    Cross-validation compares classifiers: Rasa's top intent, the confidence fallback ignored.
    """
    import shutil

    scores = []
    for i, (fold_train, fold_test) in enumerate(splits):
        if progress:
            progress(i + 1, len(splits))
        fold_texts, fold_gold = [t for t, _ in fold_test], [g for _, g in fold_test]
        fold_work = work / f"{name}_fold{i}"
        fold_work.mkdir(parents=True)
        predicted = RasaNLU(name, config).fit([*fold_train, *extra], fold_work).predict(fold_texts, ignore_fallback=True)
        shutil.rmtree(fold_work, ignore_errors=True)
        scores.append(score(fold_gold, predicted, fold_texts).macro_f1)
    return scores


def print_report(report: Report) -> None:
    print(f"Ejemplos: {report.n}")
    print(f"Exactitud (accuracy): {report.accuracy:.3f}")
    print(f"Macro-F1:             {report.macro_f1:.3f}")
    print(f"Fuera de alcance atendido (out_of_scope o fallback): {report.out_of_scope_handled:.3f}")
    print(f"Mensajes del dominio enviados al fallback:           {report.false_fallback_rate:.3f}")
    for label, f1 in sorted(report.per_label_f1.items(), key=lambda kv: kv[1]):
        print(f"  {label:<28} F1 {f1:.2f}")
    if report.confusions:
        print("Confusiones más frecuentes (esperado → predicho):")
        for (gold, pred), count in report.confusions:
            print(f"  {gold} → {pred}: {count}")
