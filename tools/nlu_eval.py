"""Score a trained model on the held-out Spanish test set.

Each FAQ topic is its own intent (`faq_add_funds`), so picking the wrong FAQ
answer is an error. For pipelines with a retrieval intent (the stock config
on data that has one) the response selector's full key is scored instead.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


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
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        (m.get("text"), m.get("intent_response_key") or m.get("intent"))
        for m in data.intent_examples
    ]


def score(gold: list[str], predicted: list[str], texts: list[str]) -> Report:
    from sklearn.metrics import accuracy_score, f1_score

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


def evaluate(model: Path, data: Path) -> Report:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    examples = load_examples(data)
    agent = Agent.load(str(model))

    async def parse_all() -> list[str]:
        return [full_label(await agent.parse_message(text)) for text, _ in examples]

    predicted = asyncio.run(parse_all())
    return score([g for _, g in examples], predicted, [t for t, _ in examples])


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
