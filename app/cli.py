"""Flask commands; each one calls a service."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.models import Role
from app.services import audit, demo, users
from app.services.errors import DomainError


def _write_logins(logins) -> Path:
    path = Path(current_app.config["INSTANCE_PATH"]) / "demo-logins.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["Demo logins (development only; delete this file to forget them)", ""]
    lines += [f"{login.role.label:<16} {login.email:<44} {login.password}" for login in logins]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return path


@click.command("demo-data")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only load when the database has no schools and no users.")
def demo_data(if_empty: bool) -> None:
    """Load the demo trust (schools, accounts for every role). Running it twice changes nothing."""
    if if_empty and not demo.is_empty():
        click.echo("The database already has data; demo data not loaded.")
        return
    logins = demo.load(current_app.config["TRUST_NAME"])
    if not logins:
        click.echo("Demo data is already loaded; nothing changed.")
        return
    path = _write_logins(logins)
    click.echo(f"Demo trust loaded. These passwords are shown once (a copy is in {path}):")
    for login in logins:
        click.echo(f"  {login.role.label:<16} {login.email:<44} {login.password}")


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--school-urn", default=None, help="For headteachers and school staff.")
@click.password_option(help="Asked for when not given.")
def create_user(email: str, name: str, role: str, school_urn: str | None, password: str) -> None:
    """Create an account."""
    from app.services import schools

    school_id = None
    if school_urn:
        school = schools.by_urn(school_urn)
        if school is None:
            raise click.ClickException(f"No school has URN {school_urn}.")
        school_id = school.id
    try:
        user = users.create(users.NewUser(email=email, name=name, role=Role(role), password=password,
                                          school_id=school_id))
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role.label} account for {user.email}.")


@click.command("audit-verify")
@with_appcontext
def audit_verify() -> None:
    """Check the audit log's hash chain; exit 1 if any event was changed or removed."""
    problems = audit.verify_chain()
    if problems:
        for line in problems:
            click.echo(line, err=True)
        sys.exit(1)
    click.echo("The audit log is intact.")


@click.command("audit-export")
@with_appcontext
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
              help="Only events at or after this UTC date (YYYY-MM-DD) or time.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def audit_export(since, output: Path | None) -> None:
    """Write the audit log as JSON Lines: one event per line, each line a JSON object."""
    from datetime import UTC

    audit.record("audit.exported", details={"since": since.isoformat() if since else None,
                                            "to": output.name[:100] if output else "standard output"},
                 actor_email="flask audit-export", commit=True)
    lines = audit.export_lines(since.replace(tzinfo=UTC) if since else None)
    if output is None:
        for line in lines:
            click.echo(line, nl=False)
        return
    with open(output, "w", encoding="ascii", newline="\n") as handle:
        count = 0
        for line in lines:
            handle.write(line)
            count += 1
    os.chmod(output, stat.S_IRUSR | stat.S_IWUSR)
    click.echo(f"Wrote {count} audit events to {output}.", err=True)


@click.command("backup")
@with_appcontext
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path | None) -> None:
    """Write a consistent copy of the whole database to PATH (default: instance/backups/trust-<time>)."""
    from app.services import backup

    try:
        written = backup.backup(path, actor_email="flask backup")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {written}.")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that every table is to be replaced by the backup's contents.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the whole database with the backup at PATH. Refuses without --yes."""
    from app.services import backup

    if not yes:
        raise click.ClickException(
            "A restore replaces every table with the backup's contents; anything saved since the backup is lost. "
            "Run it again with --yes to go ahead.")
    try:
        backup.restore(path, actor_email="flask restore")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored the database from {path}.")


def init_app(app: Flask) -> None:
    for command in (demo_data, create_user, audit_verify, audit_export, backup_command, restore_command):
        app.cli.add_command(command)
