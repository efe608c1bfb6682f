"""Talent register: browsing and search, a person's page, renewal and the daily job, import and export, email."""

import io
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models import AuditEvent, Designation, EntryStatus, OutboxMessage, RegisterEntry, Role, TagKind
from app.services import notify, register, tabular
from app.services.errors import Conflict, Forbidden
from app.terms import Term, current
from tests import factories


@pytest.mark.parametrize("role,status", [(Role.HEADTEACHER, 200), (Role.EXECUTIVE, 200), (Role.CEO, 200),
                                         (Role.TRUSTEE, 200), (Role.SCHOOL_STAFF, 403), (Role.ADMIN, 403)])
def test_who_may_browse(login_as, role, status):
    browser, _ = login_as(role)
    assert browser.get("/register/").status_code == status


def test_trustee_is_read_only(app, login_as):
    browser, _ = login_as(Role.TRUSTEE)
    with app.app_context():
        entry_id = factories.register_entry(factories.school()).id
    html = browser.get(f"/register/{entry_id}").get_data(as_text=True)
    assert "Edit the entry" not in html and "Renew for a year" not in html
    assert browser.get(f"/register/{entry_id}/edit").status_code == 403
    assert browser.get("/register/new").status_code == 403
    assert browser.get("/register/export.csv").status_code == 403


def test_filters_and_search(app, db):
    school = factories.school(name="Oakfield Primary")
    year, term = current()
    phonics = factories.register_entry(school, name="Hannah Briggs", expertise="Read Write Inc. trainer; phonics",
                                       tags={TagKind.AREA: ["Curriculum and Teaching"], TagKind.PHASE: ["primary"],
                                             TagKind.KEY_STAGE: ["KS1"]})
    senco = factories.register_entry(None, name="Sam Cole", designation=Designation.EXTERNAL,
                                     expertise="MAT SENCo: EHCP applications, graduated approach",
                                     tags={TagKind.AREA: ["Inclusion"], TagKind.PHASE: ["secondary"]},
                                     days=(0, 0, 0))
    factories.register_entry(school, name="Old Entry", expertise="phonics too", status=EntryStatus.LAPSED)

    def names(**kw):
        page, remaining = register.search(register.Filters(**kw))
        return [e.name for e in page.items]

    assert names(q="phonics") == ["Hannah Briggs"]
    assert names(q="PHONICS", status="") == ["Hannah Briggs", "Old Entry"]
    assert names(q="ehcp graduated") == ["Sam Cole"]
    assert names(q="ehcp phonics") == []
    assert names(q="100%_") == []  # LIKE wildcards are literal
    assert names(area="Inclusion") == ["Sam Cole"]
    assert names(phase="primary") == ["Hannah Briggs"]
    assert names(key_stage="KS1") == ["Hannah Briggs"]
    assert names(designation="external") == ["Sam Cole"]
    assert names(school_id=school.id) == ["Hannah Briggs"]
    assert names(available=True) == ["Hannah Briggs"]
    assert names(status="lapsed") == ["Old Entry"]
    assert names(sort="days") == ["Hannah Briggs", "Sam Cole"]
    _, remaining = register.search(register.Filters())
    assert remaining[phonics.id] == phonics.days_offered(year.start, term) and remaining[senco.id] == 0


def test_list_page_shows_capacity_and_paginates(app, login_as):
    browser, _ = login_as(Role.HEADTEACHER)
    with app.app_context():
        school = factories.school()
        for i in range(30):
            factories.register_entry(school, name=f"Person {i:02d}", days=(5, 5, 5))
    html = browser.get("/register/?sort=name").get_data(as_text=True)
    assert "30 people found" in html and "Person 00" in html and "Person 29" not in html
    assert "5 of 5" in html and "Page 1 of 2" in html
    assert "Person 29" in browser.get("/register/?sort=name&page=2").get_data(as_text=True)


def test_list_avoids_n_plus_one(app, db):
    from sqlalchemy import event

    school = factories.school()
    for _ in range(20):
        factories.register_entry(school)
    db.session.expunge_all()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page, _ = register.search(register.Filters())
        for entry in page.items:
            _ = entry.areas, entry.school, entry.days_offered(2026, Term.AUTUMN)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(page.items) == 20 and len(statements) <= 5, statements


def test_available_days_and_matching_pool(db):
    year, term = current()
    school = factories.school()
    good = factories.register_entry(school, days=(4, 3, 2))
    factories.register_entry(school, consent=False)
    factories.register_entry(school, status=EntryStatus.PAUSED)
    factories.register_entry(school, valid_until=date.today() - timedelta(days=1))
    assert [e.id for e in register.matching_pool(year, term)] == [good.id]
    assert register.available_days(good, year, Term.AUTUMN) == 4

    def source(ids, year_start, t):
        return {good.id: 1.5} if t == Term.AUTUMN else {}

    register.add_commitment_source(source)
    try:
        assert register.available_days(good, year, Term.AUTUMN) == 2.5
        assert register.available_days(good, year.start, Term.SPRING) == 3
    finally:
        register._commitment_sources.remove(source)


def test_person_page_for_the_supporter_only(app, login_as):
    browser, me = login_as(Role.SCHOOL_STAFF)
    with app.app_context():
        mine = factories.register_entry(me.school, user_id=me.id, name="Me Myself")
        register.add_development(db.session.get(type(me), me.id), mine.id, "course", date(2026, 10, 1),
                                 "NPQ for Leading Teaching")
        other = factories.register_entry(me.school)
        mine_id, other_id = mine.id, other.id
    html = browser.get(f"/register/{mine_id}").get_data(as_text=True)
    assert "Me Myself" in html and "NPQ for Leading Teaching" in html and "No support has been allocated yet" in html
    assert browser.get(f"/register/{other_id}").status_code == 403
    assert browser.get("/register/me").headers["Location"].endswith(f"/register/{mine_id}")


def test_executive_adds_an_external_consultant(app, login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    response = browser.post("/register/new", {
        "name": "Dr Ruth Adeyemi", "email": "ruth@consult.example", "post": "Independent consultant, former HMI",
        "designation": "external", "school_id": "0", "expertise": "Ofsted-style deep dives in science",
        "areas": ["Curriculum and Teaching"], "subjects": ["Science"], "phases": ["secondary"],
        "days_autumn": "5", "days_spring": "5", "days_summer": "2", "day_rate": "550", "consent": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(db.select(RegisterEntry).where(RegisterEntry.email == "ruth@consult.example"))
        assert entry.designation == Designation.EXTERNAL and entry.school_id is None
        assert entry.subjects == ["Science"] and entry.day_rate == 550
        assert "deep dives" in entry.search_text


def test_external_form_refuses_bad_input(app, login_as):
    browser, _ = login_as(Role.CEO)
    response = browser.post("/register/new", {"name": "", "email": "not-an-email", "post": "x",
                                              "designation": "external", "expertise": "x" * 4001,
                                              "days_autumn": "200", "days_spring": "0", "days_summer": "0",
                                              "day_rate": "0"})
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "Enter the person&#39;s name." in html
    assert "Enter a valid email address." in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(RegisterEntry)) == 0


# --- renewal and the daily job --------------------------------------------------------------------------------


def test_daily_job_lapses_and_reminds_once(app, db):
    school = factories.school()
    head = factories.user(role=Role.HEADTEACHER, school=school)
    today = date(2026, 11, 22)
    old = factories.register_entry(school, valid_until=today - timedelta(days=1))
    soon = factories.register_entry(school, valid_until=today + timedelta(days=20))
    later = factories.register_entry(school, valid_until=today + timedelta(days=90))
    assert register.daily(today) == {"lapsed": 1, "reminded": 1}
    assert register.daily(today) == {"lapsed": 0, "reminded": 0}
    db.session.expire_all()
    assert db.session.get(RegisterEntry, old.id).status == EntryStatus.LAPSED  # kept, never deleted
    assert db.session.get(RegisterEntry, later.id).reminder_sent_for is None
    to = [m.to for m in db.session.scalars(db.select(OutboxMessage))]
    assert sorted(to) == sorted([head.email, soon.email])
    assert old.id not in [e.id for e in register.matching_pool(*current(today), today=today)]


def test_register_daily_command(runner, app):
    result = runner.invoke(args=["register-daily"])
    assert result.exit_code == 0 and "0 entries lapsed" in result.output


def test_renewal_needs_the_headteacher_then_the_ceo(db):
    school = factories.school()
    head = factories.user(role=Role.HEADTEACHER, school=school)
    other_head = factories.user(role=Role.HEADTEACHER, school=factories.school())
    ceo = factories.user(role=Role.CEO)
    today = date.today()
    entry = factories.register_entry(school, valid_until=today - timedelta(days=3), status=EntryStatus.LAPSED)
    with pytest.raises(Conflict, match="has not yet confirmed"):
        register.renew(ceo, entry.id)
    with pytest.raises(Forbidden):
        register.confirm_renewal(other_head, entry.id, True, True)
    with pytest.raises(Forbidden):
        register.renew(head, entry.id)
    register.confirm_renewal(head, entry.id, True, True)
    register.renew(ceo, entry.id)
    assert entry.status == EntryStatus.ACTIVE and entry.valid_until == register.one_year_after(today)
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "register.entry_renewed"))


def test_renewal_of_an_in_date_entry_adds_a_year_to_its_end(db):
    school = factories.school()
    head = factories.user(role=Role.HEADTEACHER, school=school)
    end = date.today() + timedelta(days=10)
    entry = factories.register_entry(school, valid_until=end)
    register.confirm_renewal(head, entry.id, True, True)
    register.renew(factories.user(role=Role.CEO), entry.id)
    assert entry.valid_until == register.one_year_after(end)


# --- export and import ----------------------------------------------------------------------------------------


def _snapshot():
    rows = []
    for e in db.session.scalars(db.select(RegisterEntry).order_by(RegisterEntry.email)):
        rows.append((e.name, e.email, e.school_id, e.post, e.designation, e.expertise, sorted(e.areas),
                     sorted(e.subjects), sorted(e.phases), sorted(e.key_stages),
                     sorted((a.academic_year, a.term, a.days) for a in e.availability), e.preferred_days,
                     e.max_travel_km, e.day_rate, e.consent, e.status, e.valid_until))
    return rows


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_round_trip(app, login_as, fmt):
    browser, _ = login_as(Role.EXECUTIVE)
    with app.app_context():
        school = factories.school()
        factories.register_entry(school, name="=HYPERLINK(\"x\")", expertise="-10% persistent absence; @risk",
                                 preferred_days="Monday;Thursday", max_travel_km=40.0, days=(2.5, 0, 1),
                                 tags={TagKind.AREA: ["Attendance and Behaviour"], TagKind.SUBJECT: ["PSHE and RSE"],
                                       TagKind.PHASE: ["secondary"], TagKind.KEY_STAGE: ["KS3", "KS4"]})
        factories.register_entry(None, designation=Designation.EXTERNAL, status=EntryStatus.PAUSED, consent=False)
        before = _snapshot()
    response = browser.get(f"/register/export.{fmt}?status=")
    assert response.status_code == 200
    content = response.data
    rows = tabular.read_table(f"x.{fmt}", content)
    assert rows[0]["Name"].startswith("'=")  # formula neutralised in the file
    assert any(r["Expertise"].startswith("'-10%") for r in rows)
    with app.app_context():
        for entry in db.session.scalars(db.select(RegisterEntry)):
            db.session.delete(entry)  # the ORM cascade removes tags and availability on SQLite too
        db.session.commit()
    response = browser.post("/register/import", {"file": (io.BytesIO(content), f"register.{fmt}")},
                            content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "Import these 2 people" in html, html
    encoded = html.split('id="content" name="content" type="hidden" value="')[1].split('"')[0]
    response = browser.post("/register/import/confirm", {"filename": f"register.{fmt}", "content": encoded},
                            token_from="/register/import")
    assert response.status_code == 302
    with app.app_context():
        assert _snapshot() == before


def test_import_reports_each_bad_row_and_saves_nothing(app, login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    header = ",".join(register.HEADER)
    good = "A Person,a@x.example,,Consultant,external,Maths,,,,,2026/27,1,1,1,,,300,Yes,active,2027-08-31"
    lines = [header, good,
             "B Person,b@x.example,,Consultant,wizard,Maths,,,,,2026/27,1,1,1,,,300,Yes,active,",
             "C Person,c@x.example,999999,Teacher,sle,Maths,,,,,2026/27,1,1,1,,,300,Yes,active,",
             "D Person,d@x.example,,Consultant,external,Maths,Astrology,,,,2026/27,1,1,1,,,300,Yes,active,",
             "E Person,e@x.example,,Consultant,external,Maths,,,,,2026/27,lots,1,1,,,300,Yes,active,",
             "A Again,a@x.example,,Consultant,external,Maths,,,,,2026/27,1,1,1,,,300,Yes,active,"]
    response = browser.post("/register/import", {"file": (io.BytesIO("\n".join(lines).encode()), "r.csv")},
                            content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "Row 3: Designation &#39;wizard&#39;" in html
    assert "Row 4: No school in the trust has URN 999999" in html
    assert "Row 5: &#39;Astrology&#39; is not one of the audit areas" in html
    assert "Row 6: Autumn days &#39;lots&#39; is not a number" in html
    assert "Row 7: a@x.example is also on row 2" in html
    assert "Import these" not in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(RegisterEntry)) == 0


def test_only_leaders_import(login_as):
    browser, _ = login_as(Role.HEADTEACHER)
    assert browser.get("/register/import").status_code == 403


# --- email outbox ---------------------------------------------------------------------------------------------


def test_outbox_delivers_once(app, db):
    notify.clear_memory()
    notify.queue("a@trust.example", "Hello", "Body")
    db.session.commit()
    assert notify.deliver_pending() == (1, 0)
    assert notify.deliver_pending() == (0, 0)
    assert [m["To"] for m in notify.MEMORY] == ["a@trust.example"]


def test_outbox_file_backend_and_failures(app, db, tmp_path):
    app.config.update(MAIL_BACKEND="file", MAIL_FILE_DIR=str(tmp_path))
    try:
        notify.queue("b@trust.example", "Renewal due", "Please confirm")
        db.session.commit()
        assert notify.deliver_pending() == (1, 0)
        files = list(tmp_path.glob("*.eml"))
        assert len(files) == 1 and b"Renewal due" in files[0].read_bytes()
        app.config["MAIL_BACKEND"] = "carrier-pigeon"
        notify.queue("c@trust.example", "x", "y")
        db.session.commit()
        assert notify.deliver_pending() == (0, 1)
        message = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.to == "c@trust.example"))
        assert message.attempts == 1 and "carrier-pigeon" in message.last_error and message.sent_at is None
    finally:
        app.config["MAIL_BACKEND"] = "memory"


def test_send_mail_command(runner, app):
    with app.app_context():
        notify.queue("d@trust.example", "x", "y")
        db.session.commit()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "1 sent" in result.output


def test_pages_have_no_inline_script_or_style(app, login_as):
    browser, user = login_as(Role.EXECUTIVE)
    with app.app_context():
        entry_id = factories.register_entry(factories.school()).id
        nid = factories.nomination("interview_recorded")[0].id
    for url in ("/register/", f"/register/{entry_id}", f"/register/{entry_id}/edit", "/register/new",
                "/register/renewals", "/register/import", "/nominations/", f"/nominations/{nid}",
                f"/nominations/{nid}/reference", f"/nominations/{nid}/interview", "/"):
        response = browser.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">")[0], f"inline script on {url}"
        assert " style=" not in html, f"inline style on {url}"


def test_demo_register_covers_every_designation_and_state(app, runner):
    from app.models import Nomination, NominationState

    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        entries = list(db.session.scalars(db.select(RegisterEntry)))
        assert 25 <= len(entries) <= 35
        assert {e.designation for e in entries} == set(Designation)
        assert {n.state for n in db.session.scalars(db.select(Nomination))} == set(NominationState)
        assert any(e.user_id for e in entries if e.user and e.user.role == Role.SCHOOL_STAFF)
        counts = (len(entries), db.session.scalar(db.select(db.func.count()).select_from(Nomination)))
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        assert (db.session.scalar(db.select(db.func.count()).select_from(RegisterEntry)),
                db.session.scalar(db.select(db.func.count()).select_from(Nomination))) == counts


def test_demo_pages_render_for_every_role(app, runner, browser):
    from app.models import Nomination, User
    from app.services import users

    runner.invoke(args=["demo-data"])
    with app.app_context():
        for email in ("ceo@fellside-trust.example", "head.oakfield@fellside-trust.example",
                      "staff.oakfield@fellside-trust.example", "trustee@fellside-trust.example"):
            users.set_password(db.session.scalar(db.select(User).where(User.email == email)),
                               db.session.scalar(db.select(User.id).where(User.email == email)),
                               factories.PASSWORD)
        nomination_ids = list(db.session.scalars(db.select(Nomination.id)))
        entry_ids = list(db.session.scalars(db.select(RegisterEntry.id)))
    for email in ("ceo@fellside-trust.example", "head.oakfield@fellside-trust.example",
                  "staff.oakfield@fellside-trust.example", "trustee@fellside-trust.example"):
        assert browser.login(email, factories.PASSWORD).status_code == 302
        assert browser.get("/").status_code == 200
        for nid in nomination_ids:
            assert browser.get(f"/nominations/{nid}").status_code in (200, 403)
        for entry_id in entry_ids[:8]:
            assert browser.get(f"/register/{entry_id}").status_code in (200, 403)
        browser.logout()
    assert browser.login("staff.oakfield@fellside-trust.example", factories.PASSWORD).status_code == 302
    assert "offered a place on the talent register" in browser.get("/").get_data(as_text=True)
