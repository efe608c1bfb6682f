"""Builders for test data; each returns a saved object with sensible defaults."""

from __future__ import annotations

import itertools

from app.extensions import db
from app.models import Phase, Role, School, User
from app.services import passwords

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def school(**kw) -> School:
    n = next(_seq)
    values = dict(urn=f"{100000 + n:06d}", name=f"Test Primary School {n}", phase=Phase.PRIMARY, pupils=200,
                  postcode="LA1 1AA", latitude=54.05, longitude=-2.8, local_authority="Lancashire")
    values.update(kw)
    obj = School(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def user(role: Role = Role.HEADTEACHER, school: School | None = None, password: str = PASSWORD, **kw) -> User:
    n = next(_seq)
    values = dict(email=f"user{n}@trust.example", name=f"Test User {n}", role=role,
                  school_id=school.id if school else None, password_hash=passwords.hash_password(password),
                  active=True)
    values.update(kw)
    obj = User(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


# --- school improvement: categories, priorities, support requests, visits ----------------------


def scheme(name: str = "Three categories"):
    from app.services import categories

    categories.ensure_presets()
    return categories.scheme_by_name(name)


def activate(name: str):
    """Make a preset the trust's active scheme without mapping anything (for tests)."""
    from app.models import TrustSettings

    chosen = scheme(name)
    settings = db.session.scalar(db.select(TrustSettings)) or TrustSettings(trust_name="Test Trust")
    settings.category_scheme_id = chosen.id
    db.session.add(settings)
    db.session.commit()
    return chosen


def categorise(school: School, level: int = 2, effective_from=None, scheme_name: str | None = None,
               rationale: str = "Audit findings discussed with the headteacher."):
    from datetime import date

    from app.models import SchoolCategorisation
    from app.services import categories
    from app.terms import AcademicYear

    chosen = scheme(scheme_name) if scheme_name else categories.active_scheme()
    category = next(c for c in chosen.categories if c.need_level == level)
    effective_from = effective_from or date.today()
    row = SchoolCategorisation(school_id=school.id, academic_year=AcademicYear.of(effective_from).start,
                               category_id=category.id, rationale=rationale, effective_from=effective_from)
    db.session.add(row)
    db.session.commit()
    return row


def priority(school: School | None = None, year: int | None = None, **kw):
    from app.models import Area, ImprovementPriority
    from app.terms import AcademicYear

    year = year if year is not None else AcademicYear.of(__import__("datetime").date.today()).start
    values = dict(school_id=school.id if school else None, start_year=year,
                  end_year=year if school else year + 2, area=Area.CURRICULUM,
                  title="Improve early reading: Year 1 phonics screening check pass rate from 61% to 85%",
                  description="Phonics teaching is inconsistent across Reception and Year 1.",
                  success_criteria="85% of Year 1 pupils pass the phonics screening check in June.")
    values.update(kw)
    obj = ImprovementPriority(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def support_request(school: School, status=None, priority_row=None, **kw):
    from datetime import date, timedelta
    from decimal import Decimal

    from app.models import Area, Funding, KeyStage, RequestStatus, SupportRequest, SupportType
    from app.terms import current

    year, term = current()
    priority_row = priority_row or priority(school)
    values = dict(school_id=school.id, priority_id=priority_row.id, status=status or RequestStatus.DRAFT,
                  title="Phonics coaching for Year 1 teachers", area=Area.CURRICULUM, phase=Phase.PRIMARY,
                  key_stage=KeyStage.KS1,
                  need="Our Year 1 PSC pass rate dropped to 61% and too many pupils in KS1 can't blend.",
                  evidence="PSC results 2026: 61% against 79% nationally; reading audit in October.",
                  desired_outcomes="85% pass the PSC; every Year 1 teacher observed teaching phonics to the "
                                   "scheme with fidelity.",
                  target_date=date.today() + timedelta(days=120), support_type=SupportType.COACHING,
                  days_requested=Decimal("4"), academic_year=year.start, term=term, preferred_dates="",
                  funding=Funding.CORE, budget_gbp=None)
    values.update(kw)
    obj = SupportRequest(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def visit(school: School, visitor: User | None = None, **kw):
    from datetime import date

    from app.models import Visit, VisitType

    visitor = visitor or user(role=Role.EXECUTIVE)
    values = dict(school_id=school.id, visit_date=date.today(), visitor_id=visitor.id,
                  visit_type=VisitType.SCHOOL_IMPROVEMENT, evaluation={"curriculum_teaching": "Phonics is improving."},
                  evidence="Observed four phonics sessions.", going_well="Consistent routines in Year 1.",
                  next_steps="Keep-up sessions for the lowest 20%.")
    values.update(kw)
    obj = Visit(**values)
    db.session.add(obj)
    db.session.commit()
    return obj


def sign_in(app, role: Role, school: School | None = None):
    """A fresh client signed in as a new user of the role: for tests that need several people at once."""
    from tests.conftest import Browser

    with app.app_context():
        if role in (Role.HEADTEACHER, Role.SCHOOL_STAFF) and school is None:
            school = globals()["school"]()
        person = user(role=role, school=school)
        email = person.email
    browser = Browser(app.test_client())
    response = browser.login(email, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser
# --- talent register and nominations --------------------------------------------------------------------------


def register_entry(school: School | None = None, days: tuple[float, float, float] = (3, 2, 1), year: int | None = None,
                   **kw):
    """A register entry (active, consented, valid for a year) with days offered in each term of `year`."""
    from datetime import date, timedelta

    from app.models import Availability, Designation, EntryStatus, RegisterEntry, RegisterTag, TagKind
    from app.terms import AcademicYear, Term

    n = next(_seq)
    year = year if year is not None else AcademicYear.of(date.today()).start
    tags = kw.pop("tags", {TagKind.AREA: ["Curriculum and Teaching"], TagKind.PHASE: ["primary"]})
    values = dict(name=f"Supporter {n}", email=f"supporter{n}@trust.example", school_id=school.id if school else None,
                  post="Maths lead", designation=Designation.SLE if school else Designation.EXTERNAL,
                  expertise="Maths mastery and fluency in KS2", day_rate=250.0, consent=True,
                  status=EntryStatus.ACTIVE, valid_until=date.today() + timedelta(days=200), preferred_days="",
                  search_text="")
    values.update(kw)
    entry = RegisterEntry(**values)
    entry.tags = [RegisterTag(kind=k, value=v) for k, vs in tags.items() for v in vs]
    entry.availability = [Availability(academic_year=year, term=t, days=d) for t, d in zip(Term, days, strict=True)]
    entry.search_text = " ".join([entry.name, entry.post, entry.expertise, *(t.value for t in entry.tags)]).lower()
    db.session.add(entry)
    db.session.commit()
    return entry


def nomination_data(**kw):
    from app.models import Designation
    from app.services.nominations import NominationData

    n = next(_seq)
    values = dict(nominee_name=f"Nominee {n}", nominee_email=f"nominee{n}@trust.example",
                  nominee_post="Year 6 teacher and maths lead", designation=Designation.SLE,
                  expertise="Maths mastery: raised KS2 maths from 61% to 84% at the expected standard",
                  areas=["Curriculum and Teaching", "Achievement"], subjects=["Mathematics"], phases=["primary"],
                  key_stages=["KS2"], days_autumn=4, days_spring=3, days_summer=2, day_rate=225)
    values.update(kw)
    return NominationData(**values)


def reference_data(**kw):
    from app.services.nominations import ReferenceData

    values = dict(expertise="An outstanding maths practitioner.", impact="KS2 maths 61% to 84% in two years.",
                  capacity="Has coached three ECTs with great success.", release_agreed=True,
                  safeguarding_confirmed=True)
    values.update(kw)
    return ReferenceData(**values)


def nomination(state="draft", school: School | None = None, head: User | None = None, **kw):
    """A nomination driven through the real transitions up to `state`; returns (nomination, head)."""
    from datetime import UTC, datetime, timedelta

    from app.models import NominationState as S
    from app.services import nominations
    from app.services.nominations import OfferTerms

    state = S(state)
    school = school or (head.school if head else None) or globals()["school"]()
    head = head or user(role=Role.HEADTEACHER, school=school)
    executive = db.session.scalar(db.select(User).where(User.role == Role.EXECUTIVE)) or user(role=Role.EXECUTIVE)
    ceo = db.session.scalar(db.select(User).where(User.role == Role.CEO)) or user(role=Role.CEO, name="Dr Helen Marsh")
    nom = nominations.create(head, nomination_data(**kw))
    path = [S.SUBMITTED, S.REFERENCE_COMPLETED, S.VISIT_SCHEDULED, S.INTERVIEW_RECORDED, S.OFFER_MADE, S.ACCEPTED]
    closing = {S.DECLINED: S.OFFER_MADE, S.WITHDRAWN: S.SUBMITTED, S.REJECTED: S.REFERENCE_COMPLETED}
    target = closing.get(state, state)
    steps = {
        S.SUBMITTED: lambda: nominations.submit(head, nom.id),
        S.REFERENCE_COMPLETED: lambda: nominations.complete_reference(head, nom.id, reference_data()),
        S.VISIT_SCHEDULED: lambda: nominations.schedule_visit(
            executive, nom.id, datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)),
        S.INTERVIEW_RECORDED: lambda: nominations.record_interview(
            executive, nom.id, "Confident, precise modelling; pupils articulate.", "Clear on coaching.", True),
        S.OFFER_MADE: lambda: nominations.make_offer(ceo, nom.id, OfferTerms(nom.designation, 4, 3, 2, 225)),
        S.ACCEPTED: lambda: nominations.accept(executive, nom.id, consent=True),
    }
    if target != S.DRAFT:
        for step in path[: path.index(target) + 1]:
            steps[step]()
    if state == S.DECLINED:
        nominations.decline(executive, nom.id, "Taking up a deputy headship elsewhere.")
    elif state == S.WITHDRAWN:
        nominations.withdraw(head, nom.id, "Needed in school this year.")
    elif state == S.REJECTED:
        nominations.reject(executive, nom.id, "Not enough evidence of impact beyond own class.")
    return db.session.get(type(nom), nom.id), head


# --- data protection ------------------------------------------------------------------------------------------


def two_people():
    """Two members of staff at one school with overlapping records; returns a dict of names and objects.

    Rosalind (the subject) has an account, an accepted nomination with a reference, a register entry with a
    development record, an email and a job; she also created a support request and acted on Bartholomew's
    nomination. Bartholomew has a declined nomination (same headteacher) with his own reference and an email.
    """
    from app.models import DevelopmentKind, DevelopmentRecord, Job, NominationEvent, OutboxMessage
    from app.services import audit

    shared_school = school()
    head = user(role=Role.HEADTEACHER, school=shared_school, name="Harriet Vane", email="h.vane@trust.example")
    rosalind = user(role=Role.SCHOOL_STAFF, school=shared_school, name="Rosalind Pemberton",
                    email="r.pemberton@trust.example")
    nom_r, _ = nomination("accepted", head=head, nominee_name="Rosalind Pemberton",
                          nominee_email="r.pemberton@trust.example")
    nom_r.ref_expertise = "Rosalind transformed phonics in Year 1 (reference R-7731)."
    nom_b, _ = nomination("declined", head=head, nominee_name="Bartholomew Quince",
                          nominee_email="b.quince@trust.example")
    nom_b.ref_expertise = "Bartholomew leads geography superbly (reference B-5521)."
    nom_b.interview_notes = "Bartholomew spoke about fieldwork (interview B-9902)."
    entry = nom_r.entry
    db.session.add(DevelopmentRecord(entry_id=entry.id, kind=DevelopmentKind.COURSE,
                                     on=__import__("datetime").date(2026, 10, 1), text="NPQLT course, Rosalind"))
    db.session.add(OutboxMessage(to="r.pemberton@trust.example", subject="Your place", body="Dear Rosalind"))
    db.session.add(OutboxMessage(to="b.quince@trust.example", subject="Your nomination", body="Dear Bartholomew"))
    db.session.add(Job(kind="import", payload={"file": "register.csv"}, created_by_id=rosalind.id))
    # Rosalind, as a member of staff, noted something on Bartholomew's timeline: her role there is listed only.
    db.session.add(NominationEvent(nomination_id=nom_b.id, actor_id=rosalind.id, actor_name="Rosalind Pemberton",
                                   action="note", to_state=nom_b.state, note="Bartholomew's release is agreed B-4410"))
    db.session.commit()
    request_row = support_request(shared_school, created_by_id=rosalind.id,
                                  need="Bartholomew's class needs fieldwork help (request B-3307).")
    audit.record("nomination.note_added", target_type="nomination", target_id=nom_b.id, actor=rosalind,
                 details={"note": "Bartholomew B-6001"}, commit=True)
    return {"school": shared_school, "head": head, "rosalind": rosalind, "nom_r": nom_r, "nom_b": nom_b,
            "entry": entry, "request": request_row}


# --- allocations (without running the matcher) -----------------------------------------------------------------


def allocation_run(year: int | None = None, term=None, unmet: list[int] | None = None, created_by: User | None = None):
    """A finished run for a term; `unmet` lists the request ids the matcher could not meet."""
    from app.models import AllocationRun
    from app.terms import current

    this_year, this_term = current()
    run = AllocationRun(academic_year=year if year is not None else this_year.start, term=term or this_term,
                        scenario={"schools": [], "supporters": [], "requests": [], "pins": [], "bans": []},
                        result={"allocations": [], "unmet": [{"request_id": f"R{i}", "reason": "Nobody suitable "
                                                              "has days left."} for i in (unmet or [])]},
                        solver_status="optimal", fingerprint="0" * 64,
                        created_by_id=created_by.id if created_by else None)
    db.session.add(run)
    db.session.commit()
    return run


def allocation(request, entry, status=None, run=None, days: float | None = None, charged: bool | None = None,
               decided_by: User | None = None, **kw):
    """An allocation of `entry` to `request` in the request's term, in `status` (proposed by default)."""
    from app.models import Allocation, AllocationStatus, Funding
    from app.models.types import utcnow

    status = status or AllocationStatus.PROPOSED
    run = run or allocation_run(request.academic_year, request.term)
    days = days if days is not None else float(request.days_requested)
    charged = request.funding == Funding.SECOND_TIER if charged is None else charged
    values = dict(run_id=run.id, request_id=request.id, register_entry_id=entry.id, status=status,
                  academic_year=request.academic_year, term=request.term, days=days, relevance=0.62,
                  cost=round(days * float(entry.day_rate), 2), charged=charged, travel_km=4.2,
                  why=["phonics", "early reading"], alternatives=[])
    if status is not AllocationStatus.PROPOSED:
        values.update(decided_by_id=decided_by.id if decided_by else None, decided_at=utcnow())
    values.update(kw)
    obj = Allocation(**values)
    db.session.add(obj)
    # Keep the run's scenario consistent with its allocations, as the review page reads both.
    scenario = dict(run.scenario)
    school = request.school
    if all(s["id"] != f"S{school.id}" for s in scenario["schools"]):
        scenario["schools"] = [*scenario["schools"], {"id": f"S{school.id}", "name": school.name,
                                                      "phase": school.phase.value, "need": 1, "budget": None}]
    if all(r["id"] != f"R{request.id}" for r in scenario["requests"]):
        scenario["requests"] = [*scenario["requests"], {"id": f"R{request.id}", "school_id": f"S{school.id}",
                                                        "text": request.title, "phase": request.phase.value,
                                                        "area": request.area.label,
                                                        "days": float(request.days_requested)}]
    run.scenario = scenario
    db.session.commit()
    return obj
