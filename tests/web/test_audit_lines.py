"""CR, LF and other line breaks in any audit field or log message cannot forge a line of the export or the log."""

import io
import json
import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.logsetup import EscapedTextFormatter, JsonLinesFormatter
from app.models import AuditEvent, Role
from app.services import audit, users
from tests import factories

FORGED = '\r\n{"id":999,"action":"user.created","actor_email":"ceo@trust.example"}\r\n'
BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _export(runner, tmp_path, *args):
    path = tmp_path / "audit.jsonl"
    result = runner.invoke(args=["audit-export", "-o", str(path), *args])
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def _record_hostile_events(app):
    with app.app_context():
        factories.user(role=Role.CEO, email="ceo@trust.example")
        users.authenticate("intruder" + FORGED + "@example.com", "some password here")
        # (Werkzeug itself refuses CR/LF in header values, so a user agent cannot carry them this far.)
        with app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.1" + FORGED[:20]}):
            audit.record("school.updated" + FORGED[:10], target_type="school" + FORGED[:20], target_id="1" + FORGED,
                         details={"name": {"from": "Old", "to": "New" + FORGED}, "list": [FORGED, BREAKS],
                                  "key" + FORGED: BREAKS},
                         actor_email="someone" + BREAKS + "@trust.example", commit=True)


def test_export_has_one_parsable_line_per_event(app, runner, tmp_path):
    _record_hostile_events(app)
    raw = _export(runner, tmp_path)
    with app.app_context():
        events = list(db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)))
        expected = [audit.as_dict(e) for e in events]
    assert b"\r" not in raw
    text = raw.decode("ascii")  # ensure_ascii: not even U+2028 survives unescaped
    lines = text.splitlines()
    assert len(lines) == len(expected) == text.count("\n")
    parsed = [json.loads(line) for line in lines]
    assert parsed == expected  # every value comes back exactly, breaks and all
    assert parsed[-1]["action"] == "audit.exported"
    failed = next(p for p in parsed if p["action"] == "auth.login_failed")
    assert failed["actor_email"].startswith("intruder\r\n{")


def test_export_to_standard_output_and_since(app, runner):
    _record_hostile_events(app)
    result = runner.invoke(args=["audit-export"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    with app.app_context():
        count = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
    assert len(lines) == count and all(json.loads(line)["hash"] for line in lines)
    later = runner.invoke(args=["audit-export", "--since", "2999-01-01"])
    assert later.exit_code == 0 and later.output == ""


def test_hostile_values_keep_the_chain_verifiable(app, runner):
    _record_hostile_events(app)
    assert runner.invoke(args=["audit-verify"]).exit_code == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(BREAKS), max_size=60),
       note=st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(BREAKS), max_size=200))
def test_no_value_can_break_a_line(app, email, note):
    with app.app_context():
        audit.record("test.fuzzed", details={"note": note, note[:20]: email}, actor_email=email[:254], commit=True)
        lines = list(audit.export_lines())
        count = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))
    assert len(lines) == count
    for line in lines:
        assert line.endswith("\n") and line.count("\n") == 1 and "\r" not in line
        assert line.isascii()
    last = json.loads(lines[-1])
    # PostgreSQL cannot store NUL, so the log keeps U+FFFD in its place.
    assert last["actor_email"] == email.replace("\x00", "\ufffd")[:254]
    assert last["details"]["note"] == note.replace("\x00", "\ufffd")


def _record_with_exception(message):
    try:
        raise RuntimeError(message)
    except RuntimeError:
        import sys

        return logging.LogRecord("app", logging.ERROR, __file__, 1, "failed sign-in for %s", (message,),
                                 sys.exc_info())


def test_log_formatters_keep_one_record_on_one_line():
    record = _record_with_exception("bad@example.com" + FORGED)
    line = JsonLinesFormatter().format(record)
    assert "\n" not in line and "\r" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed sign-in for bad@example.com" + FORGED
    assert "RuntimeError" in entry["exc"] and FORGED in entry["exc"]
    text = EscapedTextFormatter().format(_record_with_exception("x" + FORGED))
    assert "\n" not in text and "\r" not in text and "\\r\\n" in text


def test_unexpected_error_is_logged_on_one_line(app, login_as, monkeypatch):
    from flask.logging import default_handler

    from app.services import dashboards

    browser, _ = login_as(Role.CEO)

    def boom(user):
        raise RuntimeError("internal" + FORGED)

    monkeypatch.setattr(dashboards, "home_summary", boom)
    stream = io.StringIO()
    old = default_handler.setStream(stream)
    try:
        assert browser.get("/").status_code == 500
    finally:
        default_handler.setStream(old)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "ERROR" and FORGED in entry["exc"]
