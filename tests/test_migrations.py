"""The account store's schema revisions (migrations/): a store from before them is upgraded in
place by `bot migrate`, and keeps every row.

The fixtures under tests/data/ were made once with the last release before migrations (its
create_all and its demo seed, one row in every other table), on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

import migrations
from tests.conftest import PROJECT_ROOT

DATA = PROJECT_ROOT / "tests" / "data"
SQLITE_DUMP = DATA / "store_before_migrations.sqlite.sql"
POSTGRES_SCHEMA = DATA / "store_before_migrations.postgresql.sql"
PG_URL = os.environ.get("PREPAGO_TEST_POSTGRES_URL")


def rows(engine, tables) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {t.name: sorted(connection.execute(select(*t.columns)).all(), key=repr) for t in tables}


def release_tables(engine):
    """The tables as the release made them, read from the database itself."""
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(engine)
    return [t for t in meta.sorted_tables if t.name != "alembic_version"]


def migrate(url: str, search_path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREPAGO_DATABASE_URL": url}
    if search_path:
        env["PGOPTIONS"] = f"-csearch_path={search_path}"
    return subprocess.run([sys.executable, "-m", "tools.cli", "migrate"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_schema_is_the_models(engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, migrations.metadata()) == []
        assert context.get_current_revision() == migrations.head()


def test_bot_migrate_upgrades_a_sqlite_store_from_before_migrations_with_every_row(tmp_path):
    path = tmp_path / "prepago.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(SQLITE_DUMP.read_text())
    engine = create_engine(f"sqlite:///{path}", future=True)
    tables = release_tables(engine)
    assert len(tables) == 20
    before = rows(engine, tables)
    assert all(before.values()), [name for name, found in before.items() if not found]
    assert len(before["ledger_entries"]) > 300

    result = migrate(f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    assert f"sin versión → {migrations.head()}" in result.stdout
    assert rows(engine, tables) == before
    assert_schema_is_the_models(engine)

    again = migrate(f"sqlite:///{path}")
    assert again.returncode == 0 and "Esquema al día" in again.stdout


def test_an_empty_database_gets_the_whole_schema_and_the_app_works_on_it(tmp_path):
    from datetime import date

    from bot.db import engine_for, session_scope
    from bot.store import get_account
    from tools.seed import seed_demo

    engine = engine_for(f"sqlite:///{tmp_path / 'new.db'}")
    seed_demo(engine, date(2026, 12, 1))  # upgrades first, then loads the demo accounts
    assert_schema_is_the_models(engine)
    with session_scope(engine) as session:
        assert get_account(session, "100100").company == "Despacho Contable Ramírez"


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="set PREPAGO_TEST_POSTGRES_URL=postgresql://user@host/db to test on PostgreSQL")
def test_bot_migrate_upgrades_a_postgresql_store_from_before_migrations_with_every_row():
    schema = f"prepago_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL, future=True, connect_args={"options": f"-csearch_path={schema}"})
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(POSTGRES_SCHEMA.read_text())
        # The same rows as the SQLite fixture, copied table by table in foreign-key order.
        lite = create_engine("sqlite://", future=True)
        with lite.begin() as connection:
            connection.connection.executescript(SQLITE_DUMP.read_text())
        source = rows(lite, release_tables(lite))
        tables = release_tables(engine)
        with engine.begin() as connection:
            for table in tables:
                names = [c.name for c in table.columns]
                if source[table.name]:
                    connection.execute(table.insert(), [dict(zip(names, row)) for row in source[table.name]])
        before = rows(engine, tables)
        assert sum(map(len, before.values())) == sum(map(len, source.values()))

        result = migrate(PG_URL, search_path=schema)
        assert result.returncode == 0, result.stderr
        assert f"sin versión → {migrations.head()}" in result.stdout
        assert rows(engine, tables) == before
        assert "alembic_version" in inspect(engine).get_table_names()
        assert_schema_is_the_models(engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
