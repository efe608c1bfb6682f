"""`flask backup` and `flask restore`: a restore gives back every row of every table, and refuses without --yes."""

import pytest

from app.extensions import db
from app.models import AuditEvent, Role
from app.services import audit, backup
from tests import factories, tablefill


def _snapshot(app):
    with app.app_context(), db.engine.connect() as conn:
        return tablefill.snapshot(conn, db.metadata)


def _load_every_table(app):
    with app.app_context():
        school = factories.school(name="Ysgol Gynradd Ŵ «Bryn»")
        factories.user(role=Role.HEADTEACHER, school=school, name="Siân O'Neill =HYPERLINK()")
        audit.record("test.event", details={"note": "line one\r\nline two"}, commit=True)
        with db.engine.begin() as conn:
            counts = tablefill.fill(conn, db.metadata, rows=2)
    empty = [name for name, count in counts.items() if count == 0]
    assert empty == [], f"tables left empty: {empty}"
    return counts


def _without_restore_event(snap):
    events = snap["audit_events"]
    restored = [e for e in events if e[4] == "database.restored"]
    assert len(restored) == 1
    return {**snap, "audit_events": [e for e in events if e[4] != "database.restored"]}


def test_restore_gives_back_every_table_row_by_row(app, runner, tmp_path):
    counts = _load_every_table(app)
    path = tmp_path / "trust.backup"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert path.is_file() and path.stat().st_size > 0
    before = _snapshot(app)
    assert sum(len(rows) for rows in before.values()) >= sum(counts.values())

    # Damage every table: delete everything, then add a row that was never backed up.
    with app.app_context():
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        factories.school(name="Added after the backup")
    assert _snapshot(app) != before

    refused = runner.invoke(args=["restore", str(path)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert _snapshot(app)["schools"][0][2] == "Added after the backup"

    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    after = _snapshot(app)
    assert set(after) == {t.name for t in db.metadata.sorted_tables}
    for table in before:
        assert _without_restore_event(after)[table] == before[table], f"{table} differs after the restore"

    # The restored database takes new rows (sequences came back too).
    with app.app_context():
        factories.school(name="Added after the restore")


def test_backup_and_restore_are_audited_and_chain_holds(app, runner, tmp_path):
    with app.app_context():
        factories.user(role=Role.CEO)
    path = tmp_path / "b"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    assert runner.invoke(args=["restore", str(path), "--yes"]).exit_code == 0
    with app.app_context():
        actions = list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions[-2:] == ["database.backup", "database.restored"]
        assert audit.verify_chain() == []


def test_restore_of_a_missing_or_bad_file_is_a_clear_error(app, runner, tmp_path):
    missing = runner.invoke(args=["restore", str(tmp_path / "nope"), "--yes"])
    assert missing.exit_code != 0 and "no backup file" in missing.output
    junk = tmp_path / "junk"
    junk.write_bytes(b"this is not a backup")
    bad = runner.invoke(args=["restore", str(junk), "--yes"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_default_backup_path_is_in_the_instance_folder(app, runner):
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        folder = app.config["INSTANCE_PATH"]
    assert str(folder) in result.output


def test_missing_postgres_tool_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match="pg_dump was not found"):
        backup._pg_tool("pg_dump")


def test_password_is_never_on_the_command_line(app, monkeypatch):
    from sqlalchemy.engine import make_url

    url = make_url("postgresql+psycopg://alice:s3cret@db.example:5433/trust?sslmode=require")
    monkeypatch.setattr(backup, "_url", lambda: url)
    uri, env = backup._pg_target()
    assert "s3cret" not in uri and env["PGPASSWORD"] == "s3cret"
    assert uri == "postgresql://alice@db.example:5433/trust?sslmode=require"
