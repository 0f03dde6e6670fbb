"""The account store's schema, versioned with Alembic (accounts, ledger, cases, insights, alerts,
staff, channel links, payments).

`upgrade(engine)` brings any earlier database to the newest revision in place: `bot migrate`
(and the compose and Kubernetes migrate jobs) call it, and so do the processes that start
against a local SQLite store. A new table or column is a new file in migrations/versions/
(`alembic revision --autogenerate` against `metadata()`), never an edit of an applied one.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def metadata() -> MetaData:
    """Every table of the account store, on the one metadata the models share."""
    import alerts.models  # noqa: F401 - each package registers its tables on bot.models.Base
    import handoff.models  # noqa: F401
    import insights.models  # noqa: F401
    import payments.models  # noqa: F401
    from bot.models import Base

    return Base.metadata


def config(engine: Engine):
    from alembic.config import Config  # Alembic: ≈ 1.3 s of imports, paid only when migrating

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every revision not yet applied (a database made by the old create_all included)."""
    from alembic import command  # Alembic: ≈ 1.3 s of imports, paid only when migrating

    command.upgrade(config(engine), revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.migration import MigrationContext  # Alembic: ≈ 1.3 s of imports, paid only when migrating

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    from alembic.script import ScriptDirectory  # Alembic: ≈ 1.3 s of imports, paid only when migrating

    return ScriptDirectory(str(HERE)).get_current_head()
