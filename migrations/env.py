"""Alembic's entry point: run by migrations.upgrade() with the engine in the config."""
from __future__ import annotations

from alembic import context
from sqlalchemy import text

from migrations import metadata

# Any id: the same on every process, so concurrent upgrades (two replicas starting) queue.
PG_LOCK_ID = 0x70726570  # "prep"


def run() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Held to the end of the migration's transaction.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": PG_LOCK_ID})
        context.configure(connection=connection, target_metadata=metadata(),
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
