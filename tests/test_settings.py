"""The one settings object (bot/config.py): every variable is in it, the README's table is
generated from it, and a bad or missing setting gets one Spanish message naming it."""
from __future__ import annotations

import ast
import re

import pytest

from bot.config import NAMES, PROJECT_ROOT, ConfigError, settings
from tests.test_architecture import ROOMS
from tools import settings_table
from tools.cli import configure


def test_the_readme_table_is_the_settings_object():
    assert settings_table.main(["--check"]) == 0, "run `python -m tools.settings_table` and commit the README"
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert all(f"| `{name}` |" in readme for name in NAMES)


def test_every_variable_rasa_reads_from_our_files_is_a_setting():
    for name in ("endpoints.yml", "credentials.yml", "deploy/endpoints.yml"):
        used = set(re.findall(r"\$\{(\w+)", (PROJECT_ROOT / name).read_text())) - {"VAR"}
        assert used and used <= set(NAMES), (name, used - set(NAMES))


def test_no_module_reads_the_environment_but_the_settings():
    """os.environ is read in bot/config.py only; tools/ may pass it on to the processes it starts."""
    readers = []
    for room in ROOMS:
        for path in (PROJECT_ROOT / room).rglob("*.py"):
            rel = str(path.relative_to(PROJECT_ROOT))
            if rel in ("bot/config.py",):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv"):
                    readers.append(f"{rel}:{node.lineno}")
                if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                    readers.append(f"{rel}:{node.lineno}")
    # `.env` generation asks whether the environment already gives a secret (tools/cli.py).
    assert [r for r in readers if not r.startswith("tools/cli.py")] == []


def test_a_change_in_the_environment_is_seen_and_an_empty_variable_is_unset(monkeypatch):
    monkeypatch.setenv("PREPAGO_MESSAGES_PER_MINUTE", "7")
    assert settings().messages_per_minute == 7
    monkeypatch.setenv("PREPAGO_MESSAGES_PER_MINUTE", "")
    assert settings().messages_per_minute == 30
    monkeypatch.setenv("PREPAGO_CONSOLE_SECURE_COOKIE", "1")
    assert settings().console_secure_cookie is True


def test_invalid_values_are_named_in_one_spanish_message(monkeypatch):
    monkeypatch.setenv("PREPAGO_TRACKER_DB_PORT", "cinco")
    monkeypatch.setenv("PREPAGO_STRIPE_TIMEOUT", "rápido")
    with pytest.raises(ConfigError) as raised:
        settings()
    text = str(raised.value)
    assert text.startswith("Variables de entorno inválidas")
    assert "PREPAGO_TRACKER_DB_PORT" in text and "PREPAGO_STRIPE_TIMEOUT" in text


def test_a_process_without_its_required_settings_names_them_all_and_exits(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("tools.cli.ENV_FILE", tmp_path / "none.env")
    monkeypatch.delenv("RASA_API_TOKEN", raising=False)
    monkeypatch.delenv("PREPAGO_ACTION_TOKEN", raising=False)
    with pytest.raises(SystemExit) as raised:
        configure("rasa_api_token", "action_token")
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "Faltan estas variables de entorno: RASA_API_TOKEN, PREPAGO_ACTION_TOKEN" in err
