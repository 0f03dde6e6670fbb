"""Shared fixtures: a real seeded SQLite account store and test secrets."""
from __future__ import annotations

import os
import secrets
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

# Set before any project module reads its settings.
os.environ.setdefault("PREPAGO_JWT_SECRET", secrets.token_urlsafe(48))
os.environ.setdefault("RASA_API_TOKEN", secrets.token_urlsafe(24))
os.environ.setdefault("PREPAGO_PORTAL_URL", "https://portal.example.mx")

from bot.db import engine_for  # noqa: E402
from bot.seed import seed_demo  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "models" / "prepago.tar.gz"
ANCHOR = date(2026, 11, 25)  # the demo history ends on 24 November
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)  # noon in Mexico City


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'prepago.db'}"
    monkeypatch.setenv("PREPAGO_DATABASE_URL", url)
    seed_demo(engine_for(url), ANCHOR)
    return url


@pytest.fixture
def engine(db_url):
    return engine_for(db_url)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run the tests with `make test`, which trains it first.")
    return MODEL
