"""The Rasa project as a whole: data validation, conversation tests, NLU quality gate."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


from training.evaluation import evaluate
from tests.conftest import PROJECT_ROOT

RASA = str(Path(sys.executable).with_name("rasa"))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}

DEV_SET = PROJECT_ROOT / "tests" / "data" / "nlu_heldout.yml"
TEST_SET = PROJECT_ROOT / "tests" / "data" / "nlu_test.yml"

# Floors just under the measured figures (benchmarks/RESULTS.md): a change that costs
# understanding fails here. The test set was written blind and is read only through these
# aggregates: its failures never print its messages. The development set has guided choices.
FLOORS = {
    # Measured: test 0.948 / 0.948 / 0.975 / 0.011 (743 messages); dev 0.974 / 0.974 / 1.000 / 0.000.
    "test": {"accuracy": 0.94, "macro_f1": 0.94, "out_of_scope_handled": 0.96, "false_fallback": 0.02},
    "dev": {"accuracy": 0.96, "macro_f1": 0.96, "out_of_scope_handled": 0.98, "false_fallback": 0.01},
}

# Rasa 3.6 cannot see that a custom action sends these responses (`action_answer_faq`,
# the how-tos for customers without a session, and `action_suggest_topics`'s default).
KNOWN_UNUSED_RESPONSE = re.compile(
    r"The utterance 'utter_(faq_\w+|howto_balance|charge_general|default)' is not used in any story or rule\.")


def test_rasa_data_validate_is_clean():
    run = subprocess.run([RASA, "data", "validate", "--fail-on-warnings"], cwd=PROJECT_ROOT, env=ENV,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    output = run.stdout + run.stderr
    warnings = [w.strip() for w in re.findall(r"UserWarning: (.*)", output)]
    unexpected = [w for w in warnings if not KNOWN_UNUSED_RESPONSE.search(w)]
    assert not unexpected, unexpected


def test_conversation_stories_pass(trained_model, tmp_path):
    run = subprocess.run(
        [RASA, "test", "core", "--stories", "tests/stories", "--model", str(trained_model),
         "--out", str(tmp_path), "--fail-on-prediction-errors", "--no-plot"],
        cwd=PROJECT_ROOT, env=ENV, capture_output=True, text=True, timeout=600,
    )
    report = json.loads((tmp_path / "story_report.json").read_text())
    failed = (tmp_path / "failed_test_stories.yml").read_text()
    assert run.returncode == 0, failed
    assert report["conversation_accuracy"]["accuracy"] == 1.0, failed


@pytest.mark.parametrize("name, path, minimum", [("test", TEST_SET, 400), ("dev", DEV_SET, 300)])
def test_nlu_quality_gate(trained_model, name, path, minimum):
    report = evaluate(trained_model, path)
    floor = FLOORS[name]
    figures = {"accuracy": round(report.accuracy, 3), "macro_f1": round(report.macro_f1, 3),
               "out_of_scope_handled": round(report.out_of_scope_handled, 3),
               "false_fallback": round(report.false_fallback_rate, 3)}
    print(f"{name}: {figures} n={report.n}")
    shown = report.errors if name == "dev" else "(the test set's messages are not shown)"
    assert report.n >= minimum
    assert figures["accuracy"] >= floor["accuracy"], (figures, shown)
    assert figures["macro_f1"] >= floor["macro_f1"], (figures, shown)
    assert figures["out_of_scope_handled"] >= floor["out_of_scope_handled"], (figures, shown)
    assert figures["false_fallback"] <= floor["false_fallback"], (figures, shown)


@pytest.mark.parametrize("path, per_label", [(TEST_SET, 14), (DEV_SET, 12)])
def test_evaluation_sets_have_enough_of_every_label(path, per_label):
    from collections import Counter

    from training.evaluation import load_examples

    counts = Counter(label for _, label in load_examples(path))
    trained = {label for _, label in load_examples(PROJECT_ROOT / "data" / "nlu_es")}
    assert set(counts) == trained
    assert min(counts.values()) >= per_label, counts


@pytest.mark.parametrize("path", [TEST_SET, DEV_SET])
def test_evaluation_sets_are_not_in_the_training_data(path):
    from training.evaluation import load_examples

    from bot.language import fold

    # Folded: a copy that differs only in accents, case or punctuation counts as the same.
    held_out = {fold(text) for text, _ in load_examples(path)}
    trained = {fold(text) for text, _ in load_examples(PROJECT_ROOT / "data" / "nlu_es")}
    overlap = len(held_out & trained)
    assert overlap == 0, f"{overlap} lines of {path.name} are in the training data"  # which ones is not printed
