"""Demo allocation: more accepted requests for the Spring term, one real run of the matcher, some decisions.

Runs once (when no allocation run exists), so loading the demo twice changes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AllocationRun,
    AllocationStatus,
    Area,
    Funding,
    KeyStage,
    RequestStatus,
    Role,
    School,
    SupportRequest,
    SupportType,
    User,
)
from app.services import allocation, priorities
from app.terms import AcademicYear, Term

# (URN, title, area, key stage, support type, days, need, evidence, outcomes, funding, budget)
SPRING_REQUESTS = [
    ("990105", "Times tables fluency in Year 4", Area.ACHIEVEMENT, KeyStage.KS2, SupportType.COACHING, 3,
     "Last June's multiplication tables check average was 14 out of 25 and a third of Year 4 scored under 10. "
     "Teachers want a consistent approach to fluency and retrieval in daily maths lessons.",
     "MTC 2025 average 14/25; 33% scored under 10. Book looks show little daily practice.",
     "MTC average of 20 or more in June; daily fluency sessions seen in every Year 3 and 4 class.",
     Funding.CORE, None),
    ("990104", "Communication and language in Nursery", Area.EARLY_YEARS, KeyStage.EYFS, SupportType.TRAINING, 2,
     "WellComm screening in September put 40% of our three-year-olds below age-related expectations for "
     "speaking and understanding, and staff are not confident running small-group language sessions.",
     "WellComm autumn screen: 40% red or amber. Two new practitioners without early language training.",
     "Every practitioner trained; 75% of the children screened green or better by the summer.",
     Funding.CORE, None),
    ("990106", "Persistent absence in Year 10", Area.ATTENDANCE, KeyStage.KS4, SupportType.STRATEGIC_PLANNING, 3,
     "Persistent absence in Year 10 is 31%, and 42% among disadvantaged pupils. First-day calling and "
     "attendance panels are not working consistently and parents say they do not hear from us early enough.",
     "PA 31% in Year 10 (national about 20%); 42% for pupil premium pupils.",
     "Year 10 persistent absence below 22% by the summer; every absent pupil's family contacted on day one.",
     Funding.SECOND_TIER, 2000),
    ("990109", "Mentoring our early career teachers", Area.LEADERSHIP, KeyStage.WHOLE_SCHOOL, SupportType.COACHING,
     2, "We have six ECTs this year and three new mentors who have not done mentor training; the ECF sessions "
     "are not linked to what we see in lessons.",
     "Six ECTs; three mentors new to the role; two ECTs flagged at the first progress review.",
     "Every mentor trained and observed giving instructional coaching; all ECTs on track at the spring review.",
     Funding.CORE, None),
    ("990108", "A new designated safeguarding lead", Area.LEADERSHIP, KeyStage.WHOLE_SCHOOL,
     SupportType.COACHING, 1.5, "Our DSL is new to the role and wants help with record keeping on CPOMS, "
     "early help referrals and preparing for the annual safeguarding audit.",
     "DSL appointed in September; the safeguarding audit found chronologies incomplete.",
     "Chronologies complete for every pupil on the vulnerable list; the audit is fully met by the summer.",
     Funding.CORE, None),
]


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def load(today: date | None = None) -> bool:
    if db.session.scalar(select(func.count()).select_from(AllocationRun)):
        return False
    ceo = _user("ceo@fellside-trust.example")
    executive = _user("improvement.lead@fellside-trust.example")
    if ceo is None or executive is None:
        return False
    today = today or date.today()
    year = AcademicYear.of(today).start
    for urn, title, area, key_stage, kind, days, need, evidence, outcomes, funding, budget in SPRING_REQUESTS:
        school = db.session.scalar(select(School).where(School.urn == urn))
        own = priorities.for_school(school.id, year) if school else []
        if school is None or not own:
            continue
        db.session.add(SupportRequest(
            school_id=school.id, priority_id=own[0].id, status=RequestStatus.ACCEPTED, title=title, area=area,
            phase=school.phase, key_stage=key_stage, need=need, evidence=evidence, desired_outcomes=outcomes,
            target_date=today + timedelta(days=200), support_type=kind, days_requested=days, academic_year=year,
            term=Term.SPRING, funding=funding, budget_gbp=budget, headteacher_consent=True,
            submitted_at=None, triaged_by_id=executive.id))
    db.session.commit()
    config = current_app.config
    synchronous, config["JOBS_SYNCHRONOUS"] = config.get("JOBS_SYNCHRONOUS", False), True
    try:
        run = allocation.start_run(ceo, year, Term.SPRING, today=today)
    finally:
        config["JOBS_SYNCHRONOUS"] = synchronous
    db.session.expire_all()
    run = db.session.get(AllocationRun, run.id)
    proposed = [a for a in run.allocations if a.status is AllocationStatus.PROPOSED]
    # Approve two so that release, acceptance and the dashboards have something to show; leave the rest
    # for the CEO to review in the demo.
    if proposed:
        allocation.approve(ceo, [a.id for a in proposed[:2]], today=today)
        for a in proposed[:2]:
            db.session.refresh(a)
            head = db.session.scalar(select(User).where(User.role == Role.HEADTEACHER,
                                                        User.school_id == a.entry.school_id))
            if head is not None and a.status is AllocationStatus.APPROVED:
                allocation.release(head, a.id, agree=True)
                break
    return True
