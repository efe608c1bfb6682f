"""The schema comes only from migrations, and the migrations match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.extensions import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree; run `flask db migrate` and review: {diff}"


def test_database_is_at_the_single_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
        with db.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    assert len(heads) == 1, f"migrations have branched: {heads}; add a merge revision"
    assert current == set(heads)


def test_check_would_catch_a_drift(app):
    # A column only in the models must show up as a difference: the check can fail.
    from sqlalchemy import Column, Integer, MetaData, Table

    extra = MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(extra)
    Table("schools", extra, Column("not_in_migrations", Integer), extend_existing=True)
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), extra)
    assert any("not_in_migrations" in str(d) for d in diff)


