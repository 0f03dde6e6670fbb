"""How customers write, folded into what the intent classifier can learn from.

Two small pieces of domain knowledge that a classifier cannot learn from a
few hundred examples:

* `fold`: one spelling per word. Accents, case, stretched letters
  ("graciaaas"), "k" for "qu" ("kiero") and Mexican slang for money ("lana",
  "feria", "varo") vary freely in chat and carry no meaning here.
* `concepts`: the ideas a message names, as tokens (`C_MONEY`, `C_HOWTO`,
  `C_PERIOD`…). A word the training data never showed ("plástico") still
  lands on the right idea, and the deterministic period and extension
  grammars of `bot.periods` tell the classifier that "¿y en septiembre?" names
  a period without it having to learn every month.

Measured on the training data (repeated stratified 5-fold CV, macro-F1) the
concept tokens add about four points over words and characters alone
(benchmarks/RESULTS.md).
"""
from __future__ import annotations

import re
from datetime import date

from bot.periods import FuturePeriod, InvalidPeriod, extension_in, normalize, resolve_period

# Words with the same meaning here, folded to one spelling.
SYNONYMS = {
    "lana": "dinero", "feria": "dinero", "varo": "dinero", "plata": "dinero", "billete": "dinero",
    "q": "que", "k": "que", "ke": "que", "xq": "porque", "pq": "porque",
    "porfa": "por favor", "porfavor": "por favor", "plis": "por favor", "pls": "por favor",
    "pa": "para", "nomas": "solo", "nadamas": "solo", "ext": "extension", "extensiones": "extension",
}

CONCEPTS = {
    "C_MONEY": r"saldo|dinero|fondos?|credito|balance|prepago|prepagad[ao]",
    "C_SPEND": r"gast\w*|consum\w*|cost\w*|acab\w*|com\w*endo",
    "C_CHARGE": r"carg[oa]s?|cobr\w*|descuent\w*",
    "C_DEPOSIT": r"deposit\w*|recarg\w*|abon\w*|fonde\w*|met[ií]\w*|pon\w*",
    "C_HOWTO": r"como|donde|pasos?|proceso|procedimiento|instrucciones|le hago|hago para|parte|seccion|pestana",
    "C_WHEN": r"cuando|fechas?|ultim[oa]s?",
    "C_HOWMUCH": r"cuant[oa]s?|que tanto",
    "C_WHO": r"quien\w*|cual extension|que extension",
    "C_HUMAN": r"humano|persona|agente|asesor|ejecutivo|supervisor|alguien|operador|carne y hueso",
    "C_BOT": r"bot|robot|maquina|programa|ia|inteligencia artificial|automatico|chatgpt|computadora",
    "C_CARD": r"tarjetas?|plastico|visa|mastercard|amex|debito",
    "C_CALL": r"llamad\w*|llam\w*|marc\w*",
    "C_ABROAD": r"internacional\w*|extranjero|otros? pais\w*|fuera del pais|larga distancia",
    "C_RESTRICT": r"restring\w*|bloque\w*|limit\w*|impid\w*|imped\w*|evit\w*|tope|candado|permis\w*|quit\w*",
    "C_PORTAL": r"portal|administrador|pagina|web|en linea|sistema",
    "C_COVER": r"cubre|inclu\w*|plan",
    # Other companies and everyday topics: near the domain, never ours.
    "C_ELSEWHERE": r"banco|banamex|bbva|santander|banorte|telcel|movistar|netflix|internet|wifi|modem|clima"
                   r"|llover|invert\w*|inversion\w*|afore|cetes|bitcoin|dolar\w*|euro|prestamo|hipotec\w*",
    "C_MORE": r"mas|siguientes?|sigue|anteriores|otros|demas|faltan",
}
_CONCEPTS = {name: re.compile(rf"\b(?:{words})\b") for name, words in CONCEPTS.items()}
_FOLLOW_UP = re.compile(r"^(?:y|ahora|lo mismo|solo|pero|ok y|oki y|va y)\b")
_STRETCHED = re.compile(r"(\w)\1{2,}")
_WORD = re.compile(r"\w+|[?¿]")
# A fixed "today" for the grammar: only *whether* a period is named matters here.
_ANY_DAY = date(2026, 1, 15)


def fold(text: str) -> str:
    """Lower case, no accents, no stretched letters, one spelling per word, digits as 0."""
    text = _STRETCHED.sub(r"\1", normalize(text))
    words = []
    for word in _WORD.findall(text):
        word = "0" if word.isdigit() else re.sub(r"^k(?=[ie])", "qu", word)
        words.append(SYNONYMS.get(word, word))
    return " ".join(words)


def names_period(text: str) -> bool:
    try:
        return resolve_period(text, _ANY_DAY) is not None
    except (FuturePeriod, InvalidPeriod):
        return True  # a period, just not one we can honour


def concepts(text: str) -> str:
    """The ideas `text` names, as space-separated tokens."""
    folded = fold(text)
    found = [name for name, pattern in _CONCEPTS.items() if pattern.search(folded)]
    if _FOLLOW_UP.match(folded):
        found.append("C_FOLLOW_UP")
    if names_period(text):
        found.append("C_PERIOD")
    if extension_in(text) is not None:
        found.append("C_EXTENSION")
    if len(folded.split()) <= 3:
        found.append("C_SHORT")
    return " ".join(found)
