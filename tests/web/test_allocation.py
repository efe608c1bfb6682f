"""Allocation runs end to end: scenario from the database, the matcher, review, approval, release, acceptance."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models import (
    Allocation,
    AllocationRun,
    AllocationStatus,
    Area,
    Availability,
    CapacityLedger,
    Designation,
    EntryStatus,
    Funding,
    ImprovementPriority,
    Job,
    JobStatus,
    KeyStage,
    Phase,
    RegisterEntry,
    RegisterTag,
    RequestStatus,
    Role,
    RunChoice,
    SupportRequest,
    SupportType,
    TagKind,
)
from app.services import allocation
from app.services.errors import Forbidden, IllegalTransition
from app.terms import Term
from tests import factories

YEAR, TERM = 2026, Term.AUTUMN
TODAY = date(2026, 11, 22)


def make_entry(name, school=None, *, designation=Designation.SLE, expertise="", days=10.0, rate=200.0,
               phases=("primary",), user=None, email=None):
    entry = RegisterEntry(
        name=name, email=email or f"{name.lower().replace(' ', '.')}@trust.example",
        school_id=school.id if school else None, post="Teacher", designation=designation, expertise=expertise,
        day_rate=rate, consent=True, status=EntryStatus.ACTIVE, valid_until=TODAY + timedelta(days=300),
        search_text=expertise.lower(), user_id=user.id if user else None)
    entry.tags = [RegisterTag(kind=TagKind.PHASE, value=p) for p in phases]
    entry.availability = [Availability(academic_year=YEAR, term=TERM, days=days)]
    db.session.add(entry)
    db.session.commit()
    return entry


def make_request(school, title, need, *, days=3.0, funding=Funding.CORE, budget=None, area=Area.CURRICULUM,
                 status=RequestStatus.ACCEPTED, phase=Phase.PRIMARY):
    priority = ImprovementPriority(school_id=school.id, start_year=YEAR, end_year=YEAR, area=area,
                                   title="Priority", description="d", success_criteria="s")
    db.session.add(priority)
    db.session.flush()
    row = SupportRequest(
        school_id=school.id, priority_id=priority.id, status=status, title=title, area=area, phase=phase,
        key_stage=KeyStage.KS1, need=need, evidence="Internal data", desired_outcomes="Better outcomes",
        target_date=TODAY + timedelta(days=120), support_type=SupportType.COACHING, days_requested=days,
        academic_year=YEAR, term=TERM, funding=funding, budget_gbp=budget, headteacher_consent=True)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def sync_jobs(app):
    app.config["JOBS_SYNCHRONOUS"] = True
    yield
    app.config["JOBS_SYNCHRONOUS"] = False


@pytest.fixture
def trust(app, sync_jobs):
    """Two primaries near each other: Oakfield needs phonics help; Fellside employs the phonics lead."""
    with app.app_context():
        oak = factories.school(name="Oakfield Primary", latitude=54.19, longitude=-3.09)
        fell = factories.school(name="Fellside Primary", latitude=54.23, longitude=-3.05)
        ceo = factories.user(role=Role.CEO)
        head_fell = factories.user(role=Role.HEADTEACHER, school=fell)
        supporter_user = factories.user(role=Role.SCHOOL_STAFF, school=fell)
        phonics = make_entry("Amira Khan", fell, expertise="Early reading lead; systematic synthetic phonics "
                             "trainer; keep-up sessions for pupils who fall behind.", days=6, user=supporter_user)
        maths = make_entry("Tom Reid", fell, expertise="Maths mastery lead; fluency and reasoning in KS2.",
                           days=4)
        own = make_entry("Owen Oak", oak, expertise="Phonics lead at Oakfield; early reading.", days=10)
        req = make_request(oak, "Phonics screening check", "Year 1 phonics screening check results fell to 58% "
                           "and pupils cannot blend unfamiliar words.", days=4)
        ids = dict(oak=oak.id, fell=fell.id, ceo=ceo.id, head_fell=head_fell.id, supporter=supporter_user.id,
                   phonics=phonics.id, maths=maths.id, own=own.id, req=req.id)
    return ids


def _run(app, ids):
    """Start a run as the CEO (synchronously) inside the caller's app context."""
    ceo = db.session.get(factories.User, ids["ceo"])
    run = allocation.start_run(ceo, YEAR, TERM, today=TODAY)
    db.session.expire_all()
    return db.session.get(AllocationRun, run.id)


def test_scenario_is_built_from_the_database(app, trust):
    with app.app_context():
        built = allocation.build_scenario(YEAR, TERM, today=TODAY).scenario
    assert built["format"] == "school-support-scenario/1"
    assert {s["id"] for s in built["supporters"]} == {f"P{trust['phonics']}", f"P{trust['maths']}",
                                                       f"P{trust['own']}"}
    request = built["requests"][0]
    assert request["id"] == f"R{trust['req']}" and request["days"] == 4.0 and "58%" in request["text"]
    assert {s["need"] for s in built["schools"]} == {1}  # uncategorised schools count as the least need


def test_run_proposes_the_phonics_lead_not_the_requesting_schools_own(app, trust):
    with app.app_context():
        run = _run(app, trust)
        job = db.session.get(Job, run.job_id)
        assert job.status is JobStatus.SUCCEEDED, job.error
        proposals = [a for a in run.allocations]
        assert len(proposals) == 1
        a = proposals[0]
        assert a.register_entry_id == trust["phonics"]  # Owen works at Oakfield: rule 2
        assert a.status is AllocationStatus.PROPOSED and a.days == 4 and a.cost == 800
        assert a.why and a.travel_km is not None and a.travel_km < 10


def test_approve_release_accept(app, trust):
    with app.app_context():
        run = _run(app, trust)
        a_id = run.allocations[0].id
        ceo = db.session.get(factories.User, trust["ceo"])
        outcome = allocation.approve(ceo, [a_id])
        assert [x.id for x in outcome.approved] == [a_id]
        assert db.session.get(SupportRequest, trust["req"]).status is RequestStatus.MATCHED
        ledger = db.session.scalar(db.select(CapacityLedger))
        assert ledger.committed == 4
        head = db.session.get(factories.User, trust["head_fell"])
        allocation.release(head, a_id, agree=True)
        supporter = db.session.get(factories.User, trust["supporter"])
        allocation.accept(supporter, a_id)
        assert db.session.get(Allocation, a_id).status is AllocationStatus.ACCEPTED
        assert db.session.get(SupportRequest, trust["req"]).status is RequestStatus.IN_PROGRESS


def test_release_declined_reopens_the_request_and_frees_the_days(app, trust):
    with app.app_context():
        run = _run(app, trust)
        a_id = run.allocations[0].id
        allocation.approve(db.session.get(factories.User, trust["ceo"]), [a_id])
        head = db.session.get(factories.User, trust["head_fell"])
        allocation.release(head, a_id, agree=False, reason="Ofsted are due next week")
        assert db.session.get(SupportRequest, trust["req"]).status is RequestStatus.ACCEPTED
        assert db.session.scalar(db.select(CapacityLedger.committed)) == 0


def test_only_the_supporters_headteacher_may_release(app, trust):
    with app.app_context():
        run = _run(app, trust)
        a_id = run.allocations[0].id
        allocation.approve(db.session.get(factories.User, trust["ceo"]), [a_id])
        oak_school = db.session.get(factories.School, trust["oak"])
        other_head = factories.user(role=Role.HEADTEACHER, school=oak_school)
        with pytest.raises(Forbidden):
            allocation.release(other_head, a_id, agree=True)


def test_approval_never_overspends_capacity(app, trust):
    """Two requests of 4 days each, one supporter with 6: only one approval can stand."""
    with app.app_context():
        oak = db.session.get(factories.School, trust["oak"])
        make_request(oak, "Early reading in Year 2", "Year 2 pupils are not fluent readers; phonics gaps.", days=4)
        run = _run(app, trust)
        ceo = db.session.get(factories.User, trust["ceo"])
        phonics = [a for a in run.allocations if a.register_entry_id == trust["phonics"]]
        assert len(phonics) == 1  # the matcher itself keeps capacity
        # Force a second, conflicting proposal as a stale review would show it.
        extra = Allocation(run_id=run.id, request_id=[r for r in db.session.scalars(db.select(SupportRequest.id))
                                                      if r != phonics[0].request_id][0],
                           register_entry_id=trust["phonics"], academic_year=YEAR, term=TERM, days=4, relevance=0.5,
                           cost=800, why=[], alternatives=[])
        db.session.add(extra)
        db.session.commit()
        outcome = allocation.approve(ceo, [phonics[0].id, extra.id])
        assert len(outcome.approved) == 1 and len(outcome.refused) == 1
        assert "only 2 of 6 days left" in outcome.refused[0][1]
        assert db.session.scalar(db.select(CapacityLedger.committed)) == 4


def test_budget_is_never_overspent(app, trust):
    with app.app_context():
        req = db.session.get(SupportRequest, trust["req"])
        req.funding = Funding.SECOND_TIER
        req.budget_gbp = 500  # 4 days at £200 is £800
        db.session.commit()
        run = _run(app, trust)
        # The matcher keeps the budget too: nothing affordable is proposed.
        assert run.allocations == [] or all(a.cost <= 500 for a in run.allocations)


def test_pins_and_bans_are_kept_on_rerun(app, trust):
    with app.app_context():
        ceo = db.session.get(factories.User, trust["ceo"])
        allocation.set_pair_rule(ceo, trust["req"], trust["phonics"], RunChoice.BAN)
        run = _run(app, trust)
        assert all(a.register_entry_id != trust["phonics"] for a in run.allocations)
        assert run.scenario["bans"] == [{"request_id": f"R{trust['req']}", "supporter_id": f"P{trust['phonics']}"}]


def test_a_broken_pin_fails_the_run_and_saves_nothing(app, trust):
    with app.app_context():
        ceo = db.session.get(factories.User, trust["ceo"])
        allocation.set_pair_rule(ceo, trust["req"], trust["own"], RunChoice.PIN)  # Owen works at Oakfield
        run = _run(app, trust)
        job = db.session.get(Job, run.job_id)
        assert job.status is JobStatus.FAILED
        assert "matcher" in job.error.lower()
        assert db.session.scalar(db.select(db.func.count()).select_from(Allocation)) == 0


def test_review_detects_changed_data(app, trust):
    with app.app_context():
        run = _run(app, trust)
        assert allocation.review(run.id, today=TODAY).changes == []
        entry = db.session.get(RegisterEntry, trust["phonics"])
        entry.status = EntryStatus.PAUSED
        db.session.commit()
        changes = allocation.review(run.id, today=TODAY).changes
        assert any("Amira Khan" in c for c in changes)


def test_reject_needs_a_reason_and_only_once(app, trust):
    with app.app_context():
        run = _run(app, trust)
        ceo = db.session.get(factories.User, trust["ceo"])
        a_id = run.allocations[0].id
        with pytest.raises(Exception, match="reason"):
            allocation.reject(ceo, a_id, "  ")
        allocation.reject(ceo, a_id, "Amira is leading our own phonics review this term")
        with pytest.raises(IllegalTransition):
            allocation.reject(ceo, a_id, "again")


def test_pages(app, trust, login_as):
    with app.app_context():
        run = _run(app, trust)
        first_id = run.allocations[0].id
    browser, _ = login_as(Role.CEO)
    assert browser.get("/allocations/").status_code == 200
    assert browser.get(f"/allocations/runs/{run.id}").status_code == 200
    html = browser.get(f"/allocations/runs/{run.id}/review").get_data(as_text=True)
    assert "Amira Khan" in html and "Oakfield Primary" in html
    response = browser.post(f"/allocations/runs/{run.id}/approve", {"allocation_ids": str(first_id)},
                            token_from=f"/allocations/runs/{run.id}/review")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Allocation, first_id).status is AllocationStatus.APPROVED


@pytest.mark.parametrize("role", [Role.HEADTEACHER, Role.SCHOOL_STAFF, Role.TRUSTEE, Role.EXECUTIVE])
def test_only_the_ceo_approves(app, trust, login_as, role):
    with app.app_context():
        run = _run(app, trust)
        run_id, first_id = run.id, run.allocations[0].id
    browser, _ = login_as(role)
    response = browser.post(f"/allocations/runs/{run_id}/approve", {"allocation_ids": str(first_id)},
                            token_from="/")
    assert response.status_code == 403


@pytest.mark.postgres
def test_concurrent_approvals_cannot_overspend(app, trust):
    """Two threads approve different allocations of the same supporter at the same moment (PostgreSQL)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locking under concurrency is what PostgreSQL is for; SQLite serialises all writes")
        oak = db.session.get(factories.School, trust["oak"])
        second = make_request(oak, "Phonics in Year 2", "Year 2 phonics gaps.", days=4)
        run = _run(app, trust)
        first = next(a for a in run.allocations if a.register_entry_id == trust["phonics"])
        other = Allocation(run_id=run.id, request_id=second.id if first.request_id != second.id else trust["req"],
                           register_entry_id=trust["phonics"], academic_year=YEAR, term=TERM, days=4,
                           relevance=0.5, cost=800, why=[], alternatives=[])
        db.session.add(other)
        db.session.commit()
        ids = [first.id, other.id]
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(allocation_id):
        with app.app_context():
            ceo = db.session.get(factories.User, trust["ceo"])
            barrier.wait()
            outcomes.append(allocation.approve(ceo, [allocation_id]))

    threads = [threading.Thread(target=approve, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(o.approved) for o in outcomes) == 1
    with app.app_context():
        assert db.session.scalar(db.select(CapacityLedger.committed)) == 4


def test_solver_timeout_fails_the_run_clearly_and_saves_nothing(app, trust, monkeypatch):
    with app.app_context():
        time_limit = allocation.build_scenario(YEAR, TERM, today=TODAY).scenario["rules"]["time_limit_s"]
        # Leave the matcher a hundredth of a second: it cannot even start Python in that time.
        monkeypatch.setattr(allocation, "MATCHER_GRACE_S", 0.01 - time_limit)
        run = _run(app, trust)
        job = db.session.get(Job, run.job_id)
        assert job.status is JobStatus.FAILED
        assert "did not finish within" in job.error and "Nothing was saved" in job.error
        assert db.session.scalar(db.select(db.func.count()).select_from(Allocation)) == 0


def test_worker_killed_mid_solve_leaves_nothing_and_can_be_retried(app, trust, monkeypatch):
    """A real child process runs the job and is killed with SIGKILL while the matcher works."""
    import multiprocessing
    import os
    import signal
    import time

    from app.services import jobs

    with app.app_context():  # the test database is a file (SQLite) or a server, so a child process can open it
        ceo = db.session.get(factories.User, trust["ceo"])
        built = allocation.build_scenario(YEAR, TERM, today=TODAY)
        run = AllocationRun(academic_year=YEAR, term=TERM, scenario=built.scenario,
                            fingerprint=allocation.fingerprint(built.scenario), created_by_id=ceo.id)
        db.session.add(run)
        db.session.flush()
        job = jobs.submit("allocation.run", {"run_id": run.id, "notes": []}, ceo, commit=False)
        run.job_id = job.id
        db.session.commit()
        job_id, run_id = job.id, run.id
        db.engine.dispose()  # the child must not share the parent's connections

    def work():
        with app.app_context():
            db.engine.dispose()
            jobs.run(job_id, app)

    child = multiprocessing.get_context("fork").Process(target=work)
    child.start()
    deadline = time.time() + 30
    with app.app_context():
        while time.time() < deadline:
            db.session.expire_all()
            if db.session.get(Job, job_id).status is JobStatus.RUNNING:
                break
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)  # mid-solve: the matcher child is still starting or solving
        child.join()
        db.session.expire_all()
        assert db.session.get(Job, job_id).status is JobStatus.RUNNING  # nobody told the database
        assert db.session.scalar(db.select(db.func.count()).select_from(Allocation)) == 0
        monkeypatch.setattr(jobs, "STALE_AFTER", __import__("datetime").timedelta(seconds=0))
        assert jobs.reap_stale() == 1
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.FAILED and "stopped" in job.error
        app.config["JOBS_SYNCHRONOUS"] = True
        jobs.retry(job_id, db.session.get(factories.User, trust["ceo"]))
        db.session.expire_all()
        assert db.session.get(Job, job_id).status is JobStatus.SUCCEEDED
        assert db.session.scalar(db.select(db.func.count()).select_from(Allocation)
                                 .where(Allocation.run_id == run_id)) == 1
    app.config["JOBS_SYNCHRONOUS"] = False
