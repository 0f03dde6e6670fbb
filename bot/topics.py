"""Spanish titles and forcing payloads for what the assistant can do.

Used by the low-confidence fallback to offer the two likeliest topics as
buttons; each payload forces its intent, so a click always lands.
"""
from __future__ import annotations

from typing import Optional

SUGGESTION_TEXT = "No estoy seguro de haberte entendido. ¿Te refieres a alguna de estas opciones?"
OTHER = {"title": "Otra cosa", "payload": "/help"}

FAQ_TITLES = {
    "change_card": "Revisar o cambiar mi tarjeta",
    "add_funds": "Agregar fondos",
    "auto_recharge": "Recarga automática",
    "restrict_extensions": "Restringir extensiones",
    "check_activity": "Ver la actividad en el portal",
    "prepaid_coverage": "Qué cubre la Cuenta de Prepago",
}

INTENT_TITLES = {
    "check_balance": "Consultar mi saldo",
    "show_activity": "Ver mis movimientos",
    "show_spending": "Gasto por extensión",
    "show_more_activity": "Ver más movimientos",
    "human_handoff": "Hablar con una persona",
    "help": "Qué puedes hacer",
}


def button(intent: str, faq_key: Optional[str] = None) -> Optional[dict]:
    if intent == "faq" and faq_key in FAQ_TITLES:
        return {"title": FAQ_TITLES[faq_key], "payload": f'/faq{{"faq_topic": "{faq_key}"}}'}
    if intent in INTENT_TITLES:
        return {"title": INTENT_TITLES[intent], "payload": f"/{intent}"}
    return None


def likeliest(parse_data: dict, n: int = 2) -> list[dict]:
    """Buttons for the `n` likeliest topics of a parsed message.

    The FAQ intent is split into its answers, each weighted by the intent's
    confidence times the response selector's, so "faq" can fill both places.
    """
    scored: list[tuple[float, dict]] = []
    faq_ranking = (
        parse_data.get("response_selector", {}).get("faq", {}).get("ranking", [])
    )
    for item in parse_data.get("intent_ranking", []):
        name, confidence = item.get("name"), float(item.get("confidence") or 0.0)
        if name == "faq":
            for answer in faq_ranking:
                key = str(answer.get("intent_response_key", "")).partition("/")[2]
                candidate = button("faq", key)
                if candidate:
                    scored.append((confidence * float(answer.get("confidence") or 0.0), candidate))
        else:
            candidate = button(name)
            if candidate:
                scored.append((confidence, candidate))
    scored.sort(key=lambda pair: -pair[0])
    result, seen = [], set()
    for _, candidate in scored:
        if candidate["payload"] not in seen:
            seen.add(candidate["payload"])
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


def faq_confidence(parse_data: dict) -> float:
    """How sure the NLU is of the FAQ answer: intent confidence x answer confidence."""
    intent = float((parse_data.get("intent") or {}).get("confidence") or 0.0)
    answer = parse_data.get("response_selector", {}).get("faq", {}).get("response", {})
    return intent * float(answer.get("confidence") or 0.0)
