"""Settings read from the environment, with embedded defaults for the local demo.

Secrets have no default: the run script generates them into the (git-ignored)
`.env` file, so nothing secret ever lives in the repository.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'prepago.db'}"


class ConfigError(RuntimeError):
    """A required setting is missing or invalid."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    portal_url: str
    jwt_secret: str | None
    jwt_issuer: str
    jwt_audience: str
    pin_pepper: str | None = None

    def require_pin_pepper(self) -> str:
        return _secret("PREPAGO_PIN_PEPPER", self.pin_pepper)

    def require_jwt_secret(self) -> str:
        return _secret("PREPAGO_JWT_SECRET", self.jwt_secret)


def _secret(name: str, value: str | None) -> str:
    if not value or len(value) < 32:
        raise ConfigError(
            f"{name} must be set to a random string of at least 32 characters (`make run` generates one into .env)."
        )
    return value


def settings() -> Settings:
    """Read the settings now (cheap; called where needed, never cached at import)."""
    return Settings(
        database_url=os.environ.get("PREPAGO_DATABASE_URL", DEFAULT_DATABASE_URL),
        portal_url=os.environ.get("PREPAGO_PORTAL_URL", "https://office.ooma.com.mx").rstrip("/"),
        jwt_secret=os.environ.get("PREPAGO_JWT_SECRET"),
        jwt_issuer=os.environ.get("PREPAGO_JWT_ISSUER", "prepago-demo"),
        jwt_audience=os.environ.get("PREPAGO_JWT_AUDIENCE", "prepago-assistant"),
        pin_pepper=os.environ.get("PREPAGO_PIN_PEPPER"),
    )
