"""What a message says besides its goal: «agregar fondos para llamar a Estados Unidos».

The goal (adding funds) is answered; the context (a call abroad) gets one line
from the article on what the basic plan already includes and what the funds pay for.
"""
from __future__ import annotations

import re
from typing import Optional

from bot.language import fold

# On folded text: «pa' marcar», «para hacer unas llamadas», «para llamadas premium», «llamadas internacionales».
_CALLING = re.compile(r"\bpara (?:poder )?(?:llamar|marcar|hablar|hacer (?:\w+ )?llamadas?|(?:las |unas )?llamadas?)\b"
                      r"|\b(?:llamadas?|llamar|marcar) (?:\w+ )?(?:internacional\w*|al extranjero|a otros? pais\w*)")
_FRANCE = re.compile(r"\bfrancia\b")

PLAN_LINE = ("Las llamadas a países fuera de tu Lada y a servicios premium se pagan con estos fondos; tu plan básico "
             "ya incluye celulares y fijos de Francia y fijos de 12 países europeos.")
FRANCE_LINE = "Las llamadas a Francia (celulares y fijos) ya están incluidas en tu plan básico: no usan estos fondos."


def coverage_note(text: str) -> Optional[str]:
    """One line on coverage when a request to add funds says it is for calling somewhere; else None."""
    folded = fold(text or "")
    if not _CALLING.search(folded):
        return None
    return FRANCE_LINE if _FRANCE.search(folded) else PLAN_LINE
