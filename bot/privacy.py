"""What never leaves a customer's conversation as written: card numbers, PINs, account numbers.

`hide_cards` is for people who serve the customer (an agent reads amounts and
extensions as written); `redact` is for reports and training data, which also
lose any 4-8 digit number that could be a PIN or an account (years, amounts
with `$` and decimals stay).
"""
from __future__ import annotations

import re

HIDDEN = "[número oculto]"
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")  # 13-19 digits, spaces or dashes allowed
_SECRET_DIGITS = re.compile(r"(?<![\d$.,])\b(?!(?:19|20)\d\d\b)\d{4,8}\b(?![.,]\d)")


def hide_cards(text: str) -> str:
    return _CARD.sub(HIDDEN, text)


def redact(text: str) -> str:
    return _SECRET_DIGITS.sub(HIDDEN, hide_cards(text))
