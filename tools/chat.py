"""A terminal chat through the secure REST channel (the demo's quickest way in)."""
from __future__ import annotations

import secrets

import requests

from bot.config import settings
from bot.identity import issue_token


def chat(base_url: str, account: str | None = None) -> int:
    headers = {}
    if account:
        headers["Authorization"] = f"Bearer {issue_token(settings(), account)}"
    session = secrets.token_urlsafe(16)
    who = f"la cuenta {account}" if account else "sin sesión (solo preguntas frecuentes)"
    print(f"Chateando como {who}. Escribe «salir» para terminar.")
    while True:
        try:
            text = input("Tú: ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text.lower() in {"salir", "exit", "quit"}:
            return 0
        try:
            reply = requests.post(
                f"{base_url}/webhooks/prepago/webhook",
                json={"session": session, "message": text},
                headers=headers,
                timeout=30,
            )
        except requests.RequestException:
            print("Asistente: no puedo conectarme. ¿Está corriendo `make run`?")
            continue
        for message in reply.json().get("messages", []) if reply.ok else [{"text": reply.text}]:
            print(f"Asistente: {message.get('text', '')}")
            for i, button in enumerate(message.get("buttons") or [], 1):
                print(f"   [{i}] {button['title']}  →  escribe: {button['payload']}")
