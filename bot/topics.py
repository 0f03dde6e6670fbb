"""Spanish titles and forcing payloads for what the assistant can do.

Used by the low-confidence fallback to offer the two likeliest topics as
buttons; each payload is the intent itself (`/faq_add_funds`), so a click
always lands.
"""
from __future__ import annotations

from typing import Optional

SUGGESTION_TEXT = "No estoy seguro de haberte entendido. ¿Te refieres a alguna de estas opciones?"
OTHER = {"title": "Otra cosa", "payload": "/help"}
FAQ_PREFIX = "faq_"

FAQ_TITLES = {
    "change_card": "Revisar o cambiar mi tarjeta",
    "add_funds": "Agregar fondos",
    "auto_recharge": "Recarga automática",
    "restrict_extensions": "Restringir extensiones",
    "check_activity": "Ver la actividad en el portal",
    "prepaid_coverage": "Qué cubre la Cuenta de Prepago",
}

INTENT_TITLES = {
    **{FAQ_PREFIX + key: title for key, title in FAQ_TITLES.items()},
    "check_balance": "Consultar mi saldo",
    "show_activity": "Ver mis movimientos",
    "show_spending": "Cuánto se gastó",
    "show_deposits": "Mis depósitos y recargas",
    "show_more_activity": "Ver más movimientos",
    "human_handoff": "Hablar con una persona",
    "help": "Qué puedes hacer",
}


def button(intent: str) -> Optional[dict]:
    if intent in INTENT_TITLES:
        return {"title": INTENT_TITLES[intent], "payload": f"/{intent}"}
    return None


def likeliest(parse_data: dict, n: int = 2) -> list[dict]:
    """Buttons for the `n` likeliest topics of a parsed message.

    After the FallbackClassifier fires, `nlu_fallback` heads the ranking and
    the classifier's own guesses follow it.
    """
    result = []
    for item in parse_data.get("intent_ranking", []):
        candidate = button(str(item.get("name")))
        if candidate and candidate not in result:
            result.append(candidate)
        if len(result) == n:
            break
    return result


def suggestions(parse_data: dict) -> Optional[dict]:
    """The message that offers the two likeliest topics, or None if there are none."""
    buttons = likeliest(parse_data)
    if not buttons:
        return None
    return {"text": SUGGESTION_TEXT, "buttons": buttons + [OTHER]}
