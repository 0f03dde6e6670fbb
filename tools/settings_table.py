"""The README's configuration table, generated from the settings object (bot/config.py).

    python -m tools.settings_table          # rewrite the table between the README's markers
    python -m tools.settings_table --check  # exit 1 if the README's table differs
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings, variable
from tools.cli import SECRETS

README = PROJECT_ROOT / "README.md"
START, END = "<!-- settings:start (python -m tools.settings_table) -->", "<!-- settings:end -->"


def _default(field) -> str:
    info = field.field_info
    if info.extra.get("secret"):
        return "*(secreto; `make run` lo genera en `.env`)*" if info.extra["env"] in SECRETS else "*(secreto)*"
    if field.default in (None, ""):
        return "—"
    value = str(field.default).replace(str(PROJECT_ROOT), ".")
    return f"`{value}`"


def table() -> str:
    rows = ["| Variable | Por omisión | Qué hace |", "| --- | --- | --- |"]
    for name, field in Settings.__fields__.items():
        also = " También la lee Rasa (`endpoints.yml`, `credentials.yml`)." if field.field_info.extra.get("rasa") else ""
        rows.append(f"| `{variable(name)}` | {_default(field)} | {field.field_info.description}{also} |")
    return "\n".join(rows)


def with_table(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = README.read_text()
    if START not in text or END not in text:
        print(f"README.md needs the markers {START} and {END}", file=sys.stderr)
        return 1
    wanted = with_table(text)
    if args.check:
        return 0 if wanted == text else 1
    Path(README).write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
