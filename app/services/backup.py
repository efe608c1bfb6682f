"""Backups and restores of the whole database: SQLite's online backup API, or pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # noqa: S404  # nosec B404
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import URL

from app.extensions import db
from app.services import audit
from app.services.errors import DomainError

PG_TIMEOUT_SECONDS = 3600


class BackupError(DomainError):
    status_code = 500


def _url() -> URL:
    return db.engine.url


def dialect() -> str:
    return _url().get_backend_name()


def default_path() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite" if dialect() == "sqlite" else "dump"
    return Path(current_app.config["INSTANCE_PATH"]) / "backups" / f"trust-{stamp}.{suffix}"


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found on PATH. Install the PostgreSQL client tools "
                          f"(Debian: apt-get install postgresql-client) and try again.")
    return path


def _pg_target() -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment carrying the password, so `ps` never shows it."""
    url = _url()
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    bare = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                      query=url.query)
    uri = bare.render_as_string(hide_password=False)
    return uri, env


def _run(args: list[str], env: dict[str, str]) -> None:
    # An argument list, never a shell command line: nothing in the URL or path can be run as a command.
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_SECONDS,  # noqa: S603  # nosec B603
                            check=False)
    if result.returncode != 0:
        tool = os.path.basename(args[0])
        raise BackupError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()[:2000]}")


def _sqlite_raw():
    """The live sqlite3 connection behind the engine (works for files and for in-memory databases)."""
    conn = db.engine.raw_connection()
    return conn, conn.driver_connection


def backup(path: str | Path | None = None, actor_email: str | None = None) -> Path:
    """Write a consistent copy of the database to `path` (made up when not given) and return it."""
    target = Path(path) if path else default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    # A backup is a copy of personal data: say who took it, and when, before taking it.
    audit.record("database.backup", details={"file": target.name[:100]}, actor_email=actor_email, commit=True)
    db.session.remove()
    if dialect() == "sqlite":
        pooled, live = _sqlite_raw()
        try:
            copy = sqlite3.connect(target)
            try:
                live.backup(copy)
            finally:
                copy.close()
        finally:
            pooled.close()
    elif dialect() == "postgresql":
        uri, env = _pg_target()
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={target}",
              f"--dbname={uri}"], env)
    else:
        raise BackupError(f"Backups of {dialect()} databases are not supported.")
    os.chmod(target, 0o600)
    return target


def restore(path: str | Path, actor_email: str | None = None) -> None:
    """Replace every table's contents with those in the backup at `path`."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}.")
    db.session.remove()
    if dialect() == "sqlite":
        try:
            copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            copy.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite backup: {exc}.") from exc
        pooled, live = _sqlite_raw()
        try:
            copy.backup(live)
        finally:
            copy.close()
            pooled.close()
    elif dialect() == "postgresql":
        uri, env = _pg_target()
        tool = _pg_tool("pg_restore")
        # Nothing may hold a connection (and so a lock) while the tables are dropped and rebuilt.
        db.engine.dispose()
        _run([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              f"--dbname={uri}", str(source)], env)
    else:
        raise BackupError(f"Restores of {dialect()} databases are not supported.")
    db.engine.dispose()
    audit.record("database.restored", details={"file": source.name[:100]}, actor_email=actor_email, commit=True)
