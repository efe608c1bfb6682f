"""UK GDPR: subject access exports, erasure by anonymisation, the retention schedule and its purge."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditCheckpoint,
    AuditEvent,
    EntryStatus,
    Job,
    JobStatus,
    Nomination,
    OutboxMessage,
    RegisterEntry,
    RetentionRule,
    Role,
    User,
)
from app.services import audit, privacy
from app.services.errors import Forbidden, ValidationError
from tests import factories

OTHERS = ("Bartholomew", "b.quince@trust.example", "B-5521", "B-9902", "B-4410", "B-3307", "B-6001",
          "Harriet Vane", "h.vane@trust.example", "Helen Marsh")


@pytest.fixture
def people(app):
    with app.app_context():
        data = factories.two_people()
        return {k: getattr(v, "id", v) for k, v in data.items()}


def _export(email="r.pemberton@trust.example"):
    data = privacy.subject_access(email)
    return data, json.dumps(data)


# --- subject access --------------------------------------------------------------------------------------------


def test_export_holds_the_subjects_data_and_nobody_elses(app, people):
    with app.app_context():
        data, text = _export()
        assert data["found"]
        assert "Rosalind transformed phonics" in text  # the reference about her is hers
        assert "NPQLT course" in text and "Dear Rosalind" in text
        for other in OTHERS:
            assert other.lower() not in text.lower(), other
        nomination = data["tables"]["nominations"][0]
        assert nomination["nominated_by_id"] == "a headteacher"
        assert "a member of the executive team" in text  # who recorded her acceptance, by role
        user = data["tables"]["users"][0]
        assert not any(word in key for key in user for word in ("password", "token", "secret", "totp"))


def test_audit_events_whose_details_name_the_email_are_in_the_export(app, people):
    with app.app_context():
        # A failed sign-in with her address typed in capitals, and one with someone else's that only looks alike
        # to a careless pattern (LIKE treats _ and % as wildcards).
        audit.record("auth.login_failed", details={"email": "R.Pemberton@Trust.example", "reason": "unknown"},
                     actor_email="r.pemberton@trust.example", commit=True)
        audit.record("auth.login_failed", details={"email": "r_pemberton@trust.example", "reason": "unknown"},
                     actor_email="r_pemberton@trust.example", commit=True)
        audit.record("report.viewed", details={"note": "r.pemberton@trust.example.org"}, commit=True)
        data, text = _export()
        failed = [e for e in data["tables"]["audit_events"] if e["action"] == "auth.login_failed"]
        assert len(failed) == 1
        assert failed[0]["details"]["reason"] == "unknown"
        assert "r_pemberton" not in text and "example.org" not in text


def test_acting_on_someone_elses_record_lists_only_table_id_role_and_date(app, people):
    with app.app_context():
        data, _ = _export()
        acted = {(a["table"], a["role"]) for a in data["acted_on_others_records"]}
        assert ("support_requests", "created_by_id") in acted
        assert ("jobs", "created_by_id") in acted
        assert ("nomination_events", "actor_id") in acted
        assert ("audit_events", "actor_id") in acted
        for item in data["acted_on_others_records"]:
            assert set(item) <= {"table", "id", "role", "date", "action"}


def test_every_table_that_names_the_subject_is_in_the_export(app, people):
    """Walks db.metadata itself: a new table pointing at people with rows about her must show up."""
    with app.app_context():
        data, _ = _export()
        subject = privacy.find("r.pemberton@trust.example")
        present = set(data["tables"]) | {a["table"] for a in data["acted_on_others_records"]}
        checked = set()
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                for fk in column.foreign_keys:
                    target = fk.column.table.name
                    if target not in ("users", "register_entries", "nominations") or not subject.ids[target]:
                        continue
                    count = db.session.scalar(select(func.count()).select_from(table).where(
                        column.in_(subject.ids[target])))
                    if count:
                        checked.add(table.name)
                        assert table.name in present, f"{table.name}.{column.name} names her but is not exported"
        for table in ("register_tags", "register_availability", "register_development", "nomination_events",
                      "nominations", "register_entries", "support_requests", "jobs", "audit_events"):
            assert table in checked
        assert {"users", "outbox_messages"} <= set(data["tables"])


def test_unknown_email_finds_nothing(app, people):
    with app.app_context():
        data, _ = _export("nobody@trust.example")
        assert not data["found"] and data["tables"] == {} and data["acted_on_others_records"] == []


@pytest.mark.parametrize("role,status", [
    (Role.ADMIN, 200), (Role.CEO, 200), (Role.EXECUTIVE, 403), (Role.HEADTEACHER, 403),
    (Role.SCHOOL_STAFF, 403), (Role.TRUSTEE, 403),
])
def test_data_protection_pages_are_for_admin_and_ceo(login_as, role, status):
    browser, _ = login_as(role)
    for url in ("/privacy/subject-access", "/privacy/erase", "/privacy/retention"):
        assert browser.get(url).status_code == status


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.HEADTEACHER, Role.SCHOOL_STAFF, Role.TRUSTEE])
def test_nobody_else_can_export_or_erase(app, people, login_as, role):
    browser, user = login_as(role)
    token_from = "/privacy"  # a page anyone can load, for a real CSRF token
    r = browser.post("/privacy/subject-access", {"email": "r.pemberton@trust.example"}, token_from=token_from)
    assert r.status_code == 403
    r = browser.post("/privacy/erase/confirm", {"email": "r.pemberton@trust.example", "reason": "x",
                                                "confirm_email": "r.pemberton@trust.example", "understood": "y"},
                     token_from=token_from)
    assert r.status_code == 403
    with app.app_context():
        assert db.session.get(User, people["rosalind"]).name == "Rosalind Pemberton"
        actor = db.session.get(User, user.id)
        with pytest.raises(Forbidden):
            privacy.export_for(actor, "r.pemberton@trust.example")
        with pytest.raises(Forbidden):
            privacy.anonymise(actor, "r.pemberton@trust.example", "asked")


def test_download_is_json_and_audited_without_the_email(app, people, login_as):
    browser, admin = login_as(Role.ADMIN)
    r = browser.post("/privacy/subject-access", {"email": "R.Pemberton@trust.example"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert "attachment" in r.headers["Content-Disposition"]
    assert "Rosalind transformed phonics" in r.get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.subject_access"))
        assert event.actor_id == admin.id and event.target_id == str(people["rosalind"])
        assert "pemberton" not in json.dumps(event.details)
        assert event.details["email_digest"] == privacy.digest_email("r.pemberton@trust.example")


def test_bad_email_shows_the_error_summary(login_as):
    browser, _ = login_as(Role.CEO)
    r = browser.post("/privacy/subject-access", {"email": "not an email"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "There is a problem" in html and 'href="#email"' in html


def test_subject_access_command(app, runner, people, tmp_path):
    out = tmp_path / "export.json"
    result = runner.invoke(args=["subject-access", "r.pemberton@trust.example", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert "nominations" in data["tables"]
    result = runner.invoke(args=["subject-access", "r.pemberton@trust.example"])
    assert "Rosalind transformed phonics" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "privacy.subject_access")) == 2


# --- erasure ---------------------------------------------------------------------------------------------------


def _snapshot_bartholomew():
    nom = db.session.scalar(select(Nomination).where(Nomination.nominee_email == "b.quince@trust.example"))
    return (nom.nominee_name, nom.ref_expertise, nom.interview_notes,
            db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.to == "b.quince@trust.example")))


def test_erasure_two_steps_anonymises_and_keeps_the_audit_log(app, people, login_as, runner):
    browser, admin = login_as(Role.ADMIN)
    with app.app_context():
        before_other = _snapshot_bartholomew()
        entries_before = db.session.scalar(select(func.count()).select_from(RegisterEntry))
        audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    step1 = browser.post("/privacy/erase", {"email": "r.pemberton@trust.example", "reason": "Her written request"})
    html = step1.get_data(as_text=True)
    assert step1.status_code == 200 and "Confirm erasure" in html and "1 talent register entry" in html
    with app.app_context():
        assert db.session.get(User, people["rosalind"]).name == "Rosalind Pemberton"  # nothing yet
    wrong = browser.post("/privacy/erase/confirm", {"email": "r.pemberton@trust.example", "reason": "Her request",
                                                    "confirm_email": "someone@trust.example", "understood": "y"},
                         token_from="/privacy/erase")
    assert wrong.status_code == 400 and "does not match" in wrong.get_data(as_text=True)
    unticked = browser.post("/privacy/erase/confirm", {"email": "r.pemberton@trust.example", "reason": "Her request",
                                                       "confirm_email": "r.pemberton@trust.example"},
                            token_from="/privacy/erase")
    assert unticked.status_code == 400 and "cannot be undone" in unticked.get_data(as_text=True)
    done = browser.post("/privacy/erase/confirm", {"email": "r.pemberton@trust.example", "reason": "Her request",
                                                   "confirm_email": "r.pemberton@trust.example", "understood": "y"},
                        token_from="/privacy/erase")
    assert done.status_code == 302
    with app.app_context():
        user = db.session.get(User, people["rosalind"])
        assert user.name.startswith("Former member of staff") and not user.active
        assert user.email == f"erased-{user.id}@invalid.example"
        entry = db.session.get(RegisterEntry, people["entry"])
        assert entry.status == EntryStatus.WITHDRAWN and entry.development == []
        assert db.session.scalar(select(func.count()).select_from(RegisterEntry)) == entries_before
        data, text = _export()
        # Only the audit log still holds her address (the nomination sent to it): it is kept unchanged for its
        # retention period, so a later subject access request still shows it.
        assert set(data["tables"]) == {"audit_events"}
        assert [e["action"] for e in data["tables"]["audit_events"]] == ["nomination.created"]
        for own in ("Rosalind", "Pemberton", "R-7731", "NPQLT"):
            assert own not in text
        assert _snapshot_bartholomew() == before_other
        # the audit log is not rewritten: one more event (the erasure), none changed
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before + 1
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.erased"))
        assert event.actor_id == admin.id and "pemberton" not in json.dumps(event.details)
    assert runner.invoke(args=["audit-verify"]).exit_code == 0


def test_erased_person_cannot_sign_in(app, people, browser):
    with app.app_context():
        privacy.anonymise(None, "r.pemberton@trust.example", "Her request")
    assert browser.login("r.pemberton@trust.example", factories.PASSWORD).status_code != 302


def test_erasure_needs_a_reason_and_a_known_person_and_not_yourself(app, login_as):
    browser, admin = login_as(Role.ADMIN)
    with app.app_context():
        actor = db.session.get(User, admin.id)
        with pytest.raises(ValidationError):
            privacy.anonymise(actor, admin.email, "  ")
    r = browser.post("/privacy/erase", {"email": "nobody@trust.example", "reason": "x"})
    assert "Nobody with that email" in r.get_data(as_text=True)
    r = browser.post("/privacy/erase", {"email": admin.email, "reason": "x"})
    assert "cannot erase your own account" in r.get_data(as_text=True)
    r = browser.post("/privacy/erase", {"email": "a@b.example", "reason": "x" * 501})
    assert "500 characters" in r.get_data(as_text=True)


# --- retention schedule ----------------------------------------------------------------------------------------


@pytest.fixture
def rules(app):
    with app.app_context():
        privacy.ensure_rules()


def test_migration_and_code_agree_on_the_default_schedule(app, rules):
    with app.app_context():
        got = {(r.record_type, r.keep_months, r.action.value) for r in privacy.schedule()}
        assert got == {(r, k, a.value) for r, _, _, k, a in privacy.DEFAULT_RULES}
        assert privacy.ensure_rules() == 0


def test_privacy_notice_reads_the_schedule(app, rules, client):
    with app.app_context():
        rule = privacy.rule_for("nominations_unsuccessful")
        rule.keep_months = 9
        db.session.commit()
    html = client.get("/privacy").get_data(as_text=True)
    assert "9 months after the nomination closed" in html
    assert "6 years after the event" in html
    assert "audit log is not changed" in html


@pytest.mark.parametrize("value,ok", [("0", False), ("241", False), ("abc", False), ("", False), ("1", True),
                                      ("240", True)])
def test_ceo_edits_keep_months_within_range(app, rules, login_as, value, ok):
    browser, _ = login_as(Role.CEO)
    with app.app_context():
        rule_id = privacy.rule_for("outbox_sent").id
    r = browser.post(f"/privacy/retention/{rule_id}", {"keep_months": value})
    with app.app_context():
        months = db.session.get(RetentionRule, rule_id).keep_months
        changed = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "privacy.retention_changed"))
    if ok:
        assert r.status_code == 302 and months == int(value) and changed == 1
    else:
        assert r.status_code == 200 and "There is a problem" in r.get_data(as_text=True) and months == 12


def test_service_refuses_out_of_range_months(app, rules):
    with app.app_context():
        ceo = factories.user(role=Role.CEO)
        with pytest.raises(ValidationError):
            privacy.set_keep_months(ceo, privacy.rule_for("audit_events").id, 241)


def _ago(days):
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)


def test_purge_applies_the_schedule_and_is_safe_to_run_twice(app, rules, people, runner):
    with app.app_context():
        # Bartholomew's nomination closed 7 months ago; a lapsed entry untouched for 7 years; old mail and jobs.
        from app.models import NominationEvent

        timeline = select(NominationEvent).where(NominationEvent.nomination_id == people["nom_b"])
        for event in db.session.scalars(timeline):
            event.at = _ago(220)
        lapsed = factories.register_entry(name="Cedric Lapsed", email="cedric@trust.example",
                                          status=EntryStatus.LAPSED)
        db.session.flush()
        db.session.execute(RegisterEntry.__table__.update().where(RegisterEntry.id == lapsed.id)
                           .values(updated_at=_ago(365 * 7)))
        db.session.add(OutboxMessage(to="old@trust.example", subject="Old", body="x", sent_at=_ago(400)))
        db.session.add(OutboxMessage(to="unsent@trust.example", subject="Waiting", body="x"))
        db.session.add(Job(kind="import", status=JobStatus.SUCCEEDED, finished_at=_ago(400)))
        db.session.add(Job(kind="import", status=JobStatus.RUNNING))
        db.session.commit()
        lapsed_id = lapsed.id
    first = runner.invoke(args=["purge-expired"])
    assert first.exit_code == 0, first.output
    assert "nominations_unsuccessful: 1 were deleted" in first.output
    assert "register_entries_lapsed: 1 were anonymised" in first.output
    assert "outbox_sent: 1 were deleted" in first.output and "jobs_finished: 1 were deleted" in first.output
    assert "allocation_runs: skipped" in first.output or "allocation_runs: 0" in first.output
    with app.app_context():
        assert db.session.get(Nomination, people["nom_b"]) is None
        assert db.session.get(Nomination, people["nom_r"]) is not None  # accepted: kept
        assert db.session.get(RegisterEntry, lapsed_id).name.startswith("Former member of staff")
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.to == "unsent@trust.example")) == 1
        assert db.session.scalar(select(func.count()).select_from(Job).where(Job.status == JobStatus.RUNNING)) == 1
        purged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.purged")).all()
        assert len(purged) == 1
        counts = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
    second = runner.invoke(args=["purge-expired"])
    assert second.exit_code == 0 and "nothing changed" in second.output
    with app.app_context():
        assert counts == {t.name: db.session.scalar(select(func.count()).select_from(t))
                          for t in db.metadata.sorted_tables}
    assert runner.invoke(args=["audit-verify"]).exit_code == 0


def test_dry_run_changes_nothing(app, rules, runner):
    with app.app_context():
        db.session.add(OutboxMessage(to="old@trust.example", subject="Old", body="x", sent_at=_ago(400)))
        db.session.commit()
        events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    result = runner.invoke(args=["purge-expired", "--dry-run"])
    assert "outbox_sent: 1 would be deleted" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before


def _events(n):
    for i in range(n):
        audit.record("test.event", details={"n": i}, commit=True)


def test_purging_old_audit_events_keeps_the_chain_verifiable(app, rules, runner):
    with app.app_context():
        _events(5)
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        # the first three are seven years old (moving `at` breaks their hashes, but they are about to go)
        for event in events[:3]:
            event.at = _ago(365 * 7)
        third = events[2].id
        db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert "audit_events: 3 were deleted" in result.output
    with app.app_context():
        checkpoint = db.session.scalar(select(AuditCheckpoint))
        assert checkpoint.last_event_id == third and checkpoint.purged == 3
        assert audit.verify_chain() == []
        assert runner.invoke(args=["purge-expired"]).output.endswith("nothing changed.\n")
        assert audit.verify_chain() == []
        remaining = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        remaining[0].details = {"n": 99}
        db.session.commit()
        assert any("contents changed" in p for p in audit.verify_chain())
    assert runner.invoke(args=["audit-verify"]).exit_code == 1


def test_a_forged_checkpoint_is_caught(app):
    with app.app_context():
        _events(3)
        first = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        db.session.add(AuditCheckpoint(last_event_id=first.id, last_hash=first.hash, purged=1))
        db.session.delete(first)
        db.session.commit()
        assert any("no purge event" in p for p in audit.verify_chain())


def test_purging_every_event_then_recording_more_still_verifies(app, rules):
    with app.app_context():
        _events(2)
        for event in db.session.scalars(select(AuditEvent)):
            event.at = _ago(365 * 7)
        db.session.commit()
        privacy.purge_expired()
        _events(1)
        assert audit.verify_chain() == []


def test_purge_uses_the_given_date(app, rules, runner):
    with app.app_context():
        db.session.add(OutboxMessage(to="x@trust.example", subject="s", body="b", sent_at=_ago(30)))
        db.session.commit()
    today = (date.today() + timedelta(days=400)).isoformat()
    result = runner.invoke(args=["purge-expired", "--dry-run", "--today", today])
    assert "outbox_sent: 1 would be deleted" in result.output


def test_months_before_clamps_the_day():
    assert privacy.months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert privacy.months_before(date(2026, 11, 22), 72) == date(2020, 11, 22)


def test_a_new_record_type_can_register_its_purge(app, rules):
    calls = []
    privacy.PURGERS["outbox_sent_test"] = lambda cutoff, dry: calls.append(cutoff) or 0
    try:
        with app.app_context():
            db.session.add(RetentionRule(record_type="outbox_sent_test", description="Test", starts="after",
                                         keep_months=1, action="delete"))
            db.session.commit()
            privacy.purge_expired()
        assert len(calls) == 1
    finally:
        del privacy.PURGERS["outbox_sent_test"]


def test_retention_page_lists_the_schedule_with_change_links(app, rules, login_as):
    browser, _ = login_as(Role.ADMIN)
    html = browser.get("/privacy/retention").get_data(as_text=True)
    assert "6 months after the nomination closed" in html and "Anonymised" in html
    assert html.count("/privacy/retention/") == len(privacy.DEFAULT_RULES)
    assert 'style="' not in html and "<script>" not in html
    erase = browser.get("/privacy/erase").get_data(as_text=True)
    assert "audit log is not changed" in erase and "6 years" in erase
