"""Migrations go up, down to nothing and up again with data in every table, on SQLite and on PostgreSQL.

Each run uses its own scratch database, never the test session's: a temporary SQLite file, or a PostgreSQL
database named after the session's with `_mig` appended, created and dropped here.
"""

import os

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests import tablefill


def _pg_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture
def scratch_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'roundtrip.sqlite'}"
        return
    base = _pg_url()
    if base is None:
        pytest.skip("TEST_DATABASE_URL is not PostgreSQL")
    url = make_url(base.replace("postgresql+psycopg://", "postgresql://", 1))
    scratch = f"{url.database}_mig"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    yield url.set(drivername="postgresql+psycopg", database=scratch).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _fill_and_count() -> dict[str, int]:
    with db.engine.begin() as conn:
        counts = tablefill.fill(conn, db.metadata, rows=3)
    assert all(counts.values()), counts
    return counts


@pytest.mark.parametrize("scratch_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_up_down_and_up_again_with_data(tmp_path, scratch_url):
    scratch = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": scratch_url,
                          "INSTANCE_PATH": tmp_path})
    model_tables = {t.name for t in db.metadata.sorted_tables}
    with scratch.app_context():
        try:
            upgrade(revision="heads")
            assert _tables() == model_tables
            first = _fill_and_count()

            downgrade(revision="base")
            assert _tables() == set(), f"downgrade left tables behind: {_tables()}"

            upgrade(revision="heads")
            assert _tables() == model_tables
            counts = _fill_and_count()
            # Tables the migrations seed (category presets, retention rules) hold their seed rows plus ours.
            assert counts == first, "the downgrade left rows behind"
            with db.engine.connect() as conn:
                assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []

            # And down once more with data in, so a downgrade that only works on empty tables is caught.
            downgrade(revision="base")
            assert _tables() == set()
        finally:
            db.session.remove()
            db.engine.dispose()
