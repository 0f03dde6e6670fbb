"""Intent classifier: logistic regression over what customers write and mean.

Features, each TF-IDF weighted (scikit-learn):
* words and word pairs of the folded text (`bot.language.fold`);
* character n-grams (1–5, inside word boundaries) of the folded text, for typos;
* spaCy lemmas from the tokenizer ("gasté", "gastaron" → "gastar"), as words
  and as character n-grams (2–5);
* concept tokens (`bot.language.concepts`): domain words and our period and
  extension grammars;
* the message's sentence vector (`components/sentence_encoder.py`, Universal
  Sentence Encoder multilingual), scaled by `sentence_weight`: synonyms and
  paraphrases that no n-gram of the training data shares.

Why not DIET: on 3,000 examples a linear model on these features is more
accurate (repeated 5-fold CV and the held-out set, benchmarks/RESULTS.md),
trains in seconds instead of a minute, answers in about a millisecond and needs
no TensorFlow model in memory. Probabilities come from the multinomial
logistic regression itself, so `FallbackClassifier` thresholds mean something.

Persisted with skops (no pickle): loading a model never runs its code.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
import skops.io as sio
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language import concepts, fold
from components import sentence_encoder

logger = logging.getLogger(__name__)

FEATURES = ("words", "chars", "lemmas", "lemma_chars", "concepts", "sentence")
SENTENCE = "sentence"  # the one dense view; the others are TF-IDF
MODEL_FILE = "intent_classifier.skops"


def feature_texts(message: Message) -> Dict[str, str]:
    """The views of a message that the vectorizers read."""
    text = message.get(TEXT) or ""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    lemmas = " ".join(t.lemma or t.text for t in tokens) or text
    folded = fold(text)
    folded_lemmas = fold(lemmas)
    return {"words": folded, "chars": folded, "lemmas": folded_lemmas, "lemma_chars": folded_lemmas,
            "concepts": concepts(text), SENTENCE: text}


class IntentModel:
    """One TF-IDF vectorizer per view, stacked, then logistic regression."""

    def __init__(self, config: Dict[str, Any]):
        every = {
            "words": TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\w+|[?¿]"),
            "chars": TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True),
            "lemmas": TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            "lemma_chars": TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            "concepts": TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True),
        }
        self.vectorizers = {name: every[name] for name in config["views"] if name != SENTENCE}
        self.sentence_weight = float(config["sentence_weight"]) if SENTENCE in config["views"] else 0.0
        self.classifier = LogisticRegression(
            C=config["C"], max_iter=5000, class_weight="balanced", random_state=config["random_seed"]
        )

    def _matrix(self, views: List[Dict[str, str]], fit: bool = False):
        blocks = []
        for name, vectorizer in self.vectorizers.items():
            column = [v[name] for v in views]
            blocks.append(vectorizer.fit_transform(column) if fit else vectorizer.transform(column))
        if self.sentence_weight:
            blocks.append(csr_matrix(sentence_encoder.encode([v[SENTENCE] for v in views]) * self.sentence_weight))
        return hstack(blocks).tocsr()

    def fit(self, views: List[Dict[str, str]], labels: List[str]) -> "IntentModel":
        self.classifier.fit(self._matrix(views, fit=True), labels)
        return self

    def probabilities(self, views: List[Dict[str, str]]):
        """scikit-learn's own predict_proba: the reference for `compiled()`."""
        return self.classifier.predict_proba(self._matrix(views))

    def compiled(self) -> "CompiledIntentModel":
        return CompiledIntentModel(self)

    # skops stores plain containers of scikit-learn objects, never this class.
    def state(self) -> Dict[str, Any]:
        return {"vectorizers": self.vectorizers, "classifier": self.classifier, "sentence_weight": self.sentence_weight}

    @classmethod
    def from_state(cls, state: Dict[str, Any]) -> "IntentModel":
        model = cls.__new__(cls)
        model.vectorizers, model.classifier = state["vectorizers"], state["classifier"]
        model.sentence_weight = float(state.get("sentence_weight", 0.0))
        return model


class CompiledIntentModel:
    """The trained model as plain lookups and one sparse dot product per message.

    Same arithmetic as scikit-learn (sublinear TF × IDF, L2 norm per view,
    multinomial softmax; `tests/test_intent_classifier.py` checks equality),
    without its per-call input validation and sparse-matrix construction,
    which were 2.5 of the 4.3 ms of a parse (cProfile, benchmarks/NOTES.md).
    """

    def __init__(self, model: IntentModel):
        coef, offset = model.classifier.coef_, 0
        self.views = []
        for name, vectorizer in model.vectorizers.items():
            size = len(vectorizer.vocabulary_)
            # Columns as rows: one contiguous weight vector per feature.
            block = np.ascontiguousarray(coef[:, offset:offset + size].T)
            self.views.append((name, vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, block))
            offset += size
        # The sentence vector's weights: the remaining columns, scaled as in training.
        self.sentence = (model.sentence_weight * np.ascontiguousarray(coef[:, offset:].T)
                         if model.sentence_weight else None)
        self.intercept = model.classifier.intercept_.copy()
        self.labels = [str(label) for label in model.classifier.classes_]

    def probabilities(self, views: List[Dict[str, str]]):
        dense = sentence_encoder.encode([v[SENTENCE] for v in views]) @ self.sentence if self.sentence is not None else None
        rows = []
        for i, view in enumerate(views):
            scores = self.intercept.copy() if dense is None else self.intercept + dense[i]
            for name, analyze, vocabulary, idf, block in self.views:
                counts: Dict[int, int] = {}
                for term in analyze(view[name]):
                    index = vocabulary.get(term)
                    if index is not None:
                        counts[index] = counts.get(index, 0) + 1
                if counts:
                    index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
                    weight = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[index]
                    scores += (weight / np.linalg.norm(weight)) @ block[index]
            scores = np.exp(scores - scores.max())
            rows.append(scores / scores.sum())
        return np.array(rows)

    def rank(self, views: List[Dict[str, str]]) -> List[List[Dict[str, Any]]]:
        """Every label with its probability, most likely first, for each view."""
        return [
            sorted(({"name": l, "confidence": float(p)} for l, p in zip(self.labels, row)),
                   key=lambda item: -item["confidence"])
            for row in self.probabilities(views)
        ]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class PrepagoIntentClassifier(IntentClassifier, GraphComponent):
    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "skops"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # The views are in the config on purpose: Rasa's training cache fingerprints a
        # component by its config, so changing them retrains it.
        return {"C": 30.0, "random_seed": 7, "ranking_length": 10, "views": list(FEATURES), "sentence_weight": 1.0}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[IntentModel] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        self.model = model
        self.scorer = model.compiled() if model is not None else None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "PrepagoIntentClassifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if len({e.get(INTENT) for e in examples}) < 2:
            logger.warning("Not enough intents to train %s.", type(self).__name__)
            return self._resource
        self.model = IntentModel(self.config).fit(
            [feature_texts(e) for e in examples], [e.get(INTENT) for e in examples]
        )
        self.scorer = self.model.compiled()
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if self.scorer is None or not messages:
            return messages
        for message, ranking in zip(messages, self.scorer.rank([feature_texts(m) for m in messages])):
            ranking = ranking[: self.config["ranking_length"]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self.model.state(), directory / MODEL_FILE)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "PrepagoIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                path = directory / MODEL_FILE
                untrusted = sio.get_untrusted_types(file=path)
                # Only scikit-learn, NumPy and SciPy types are expected in our own file.
                unexpected = [t for t in untrusted if not t.startswith(("sklearn.", "numpy.", "scipy."))]
                if unexpected:
                    raise ValueError(f"unexpected types in {path.name}: {unexpected}")
                model = IntentModel.from_state(sio.load(path, trusted=untrusted))
        except ValueError:
            logger.warning("No trained %s in this model; it will predict nothing.", cls.__name__)
            model = None
        return cls(config, model_storage, resource, model)
