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


@click.command("jobs-worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def jobs_worker(burst: bool) -> None:
    """Run background jobs from Redis (needs REDIS_URL); without Redis, jobs run inside the web process."""
    from redis import Redis
    from rq import Queue, Worker

    from app.services import jobs

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: jobs run in the web process, no worker is needed.")
    connection = Redis.from_url(url)
    jobs.reap_stale()
    Worker([Queue(jobs.QUEUE_NAME, connection=connection)], connection=connection).work(burst=burst)


@click.command("seed-schemes")
@with_appcontext
def seed_schemes() -> None:
    """Add any of the five preset category schemes that are missing (migration 0003 seeds them already)."""
    from app.services import categories

    added = categories.ensure_presets()
    click.echo(f"Added {added} preset scheme(s)." if added else "All five preset schemes are present.")


@click.command("demo-scheme")
@with_appcontext
@click.argument("name")
def demo_scheme(name: str) -> None:
    """Switch the trust to the category scheme NAME, mapping every school by need level."""
    from app.services import demo_improvement

    try:
        mapped = demo_improvement.use_scheme(name)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"The trust now uses {name}; {mapped} school(s) mapped by need level.")


@click.command("register-daily")
@with_appcontext
def register_daily() -> None:
    """Lapse register entries past their date and send renewal reminders (run once a day; safe to repeat)."""
    from app.services import register

    result = register.daily()
    click.echo(f"{result['lapsed']} entries lapsed; {result['reminded']} renewal reminders queued.")


@click.command("send-mail")
@with_appcontext
def send_mail() -> None:
    """Deliver the emails waiting in the outbox through MAIL_BACKEND."""
    from app.services import notify

    sent, failed = notify.deliver_pending()
    click.echo(f"{sent} sent, {failed} failed (failed messages are tried again next time).")
    if failed:
        sys.exit(1)


@click.command("subject-access")
@with_appcontext
@click.argument("email")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the JSON to this file instead of the screen.")
def subject_access(email: str, output: str | None) -> None:
    """Export everything held about the person with EMAIL as JSON (a subject access request); audited."""
    import json

    from app.services import privacy

    try:
        data = privacy.export_for(None, email)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if output:
        Path(output).write_text(body + "\n", encoding="utf-8")
        os.chmod(output, stat.S_IRUSR | stat.S_IWUSR)
        click.echo(f"Written to {output}." if data["found"] else f"Nothing is held about that address; see {output}.")
    else:
        click.echo(body)


@click.command("rotate-data-keys")
@with_appcontext
def rotate_data_keys() -> None:
    """Re-encrypt every stored two-step secret with the first DATA_ENCRYPTION_KEYS key; audited."""
    from app.services import two_factor

    count = two_factor.rotate_keys("flask rotate-data-keys")
    click.echo(f"Re-encrypted {count} two-step sign-in secrets with the first key; older keys can now go.")


@click.command("purge-expired")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Say what would be purged, change nothing.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Apply the schedule as on this date (YYYY-MM-DD); default today.")
def purge_expired(dry_run: bool, today) -> None:
    """Apply the retention schedule: delete or anonymise records past their period. Safe to run twice."""
    from app.services import privacy

    lines = privacy.purge_expired(today.date() if today else None, dry_run=dry_run)
    verb = "would be" if dry_run else "were"
    for line in lines:
        if line.count is None:
            click.echo(f"{line.record_type}: skipped (nothing to purge with yet).")
        else:
            click.echo(f"{line.record_type}: {line.count} {verb} {line.action.label} (older than "
                       f"{line.cutoff.isoformat()}).")
    if not dry_run and not any(line.count for line in lines):
        click.echo("Nothing was past its retention period; nothing changed.")


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
    for command in (demo_data, create_user, audit_verify, audit_export, backup_command, restore_command, jobs_worker,
                    seed_schemes, demo_scheme, register_daily, send_mail, subject_access, purge_expired,
                    rotate_data_keys):
        app.cli.add_command(command)
