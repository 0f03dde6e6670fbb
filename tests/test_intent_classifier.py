"""The compiled intent scorer computes exactly what scikit-learn computes."""
from __future__ import annotations

import numpy as np
import pytest

from training.evaluation import load_examples
from components.intent_classifier import IntentModel, PrepagoIntentClassifier
from tests.conftest import PROJECT_ROOT


def _views(texts):
    # Lemmas come from spaCy inside Rasa; here the folded text stands in, which
    # exercises the same vectorizers and weights.
    from bot.language import concepts, fold

    return [{"words": fold(t), "chars": fold(t), "lemmas": fold(t), "lemma_chars": fold(t), "concepts": concepts(t),
             "sentence": t}
            for t in texts]


@pytest.fixture(scope="module")
def model():
    train = load_examples(PROJECT_ROOT / "data" / "nlu_es")
    config = PrepagoIntentClassifier.get_default_config()
    return IntentModel(config).fit(_views([t for t, _ in train]), [label for _, label in train])


def test_compiled_probabilities_equal_scikit_learns(model):
    texts = [t for t, _ in load_examples(PROJECT_ROOT / "tests" / "data" / "nlu_heldout.yml")]
    texts += ["", "😀", "zzzz qqqq", "¿¿¿", "a" * 3000]  # no known feature, or very long
    expected = model.probabilities(_views(texts))
    got = model.compiled().probabilities(_views(texts))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_ranking_is_sorted_and_sums_to_one(model):
    ranking = model.compiled().rank(_views(["¿cuánto gasté en octubre?"]))[0]
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert abs(sum(confidences) - 1) < 1e-9
    assert ranking[0]["name"] == "show_spending"
