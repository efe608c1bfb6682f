"""Demo talent register and nominations for the demo trust; loading twice changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Designation, DevelopmentKind, EntryStatus, RegisterEntry, Role, School, User
from app.services import nominations, register
from app.services.nominations import NominationData, OfferTerms, ReferenceData
from app.terms import AcademicYear, Term

# ruff: noqa: E501 - one person per line reads better than wrapped tuples
CT, INC, ACH, AB, PD, EY, LG = ("Curriculum and Teaching", "Inclusion", "Achievement", "Attendance and Behaviour",
                                "Personal Development and Well-being", "Early Years", "Leadership and Governance")
D = Designation

# (name, email, school URN or None, post, designation, expertise, areas, subjects, phases, key stages,
#  (autumn, spring, summer days), day rate, travel km, preferred days, days until valid_until, status, account email)
ENTRIES = [
    ("Hannah Briggs", "h.briggs@fellside-trust.example", "990101", "Reading lead and Year 2 teacher", D.SLE, "Read Write Inc. trainer; led phonics from 58% to 89% PSC pass rate in two years. Coaches TAs to deliver keep-up sessions the same day.", [CT, ACH], ["Phonics and early reading", "English"], ["primary"], ["EYFS", "KS1"], (4, 4, 3), 220, 40, "Tuesday;Thursday", 290, EntryStatus.ACTIVE, "h.briggs@fellside-trust.example"),
    ("Dr Anita Rao", "a.rao@fellside-trust.example", None, "MAT SENCo", D.TRUST_CENTRAL, "MAT SENCo: EHCP applications, graduated approach, annual reviews; trains SENCos on provision maps and assess-plan-do-review.", [INC, LG], ["SEND"], ["primary", "secondary", "special"], ["KS1", "KS2", "KS3", "KS4"], (8, 8, 6), 0, 80, "", 300, EntryStatus.ACTIVE, None),
    ("Marcus Feeney", "m.feeney@fellside-trust.example", "990103", "Assistant headteacher (behaviour and attendance)", D.SLE, "Attendance lead: reduced persistent absence among disadvantaged pupils from 31% to 19%; first-day calling, attendance panels, work with the EWO.", [AB, PD], ["PSHE and RSE"], ["secondary"], ["KS3", "KS4"], (3, 3, 2), 260, 50, "Monday;Friday", 250, EntryStatus.ACTIVE, None),
    ("Joanne Pickering", "j.pickering@fellside-trust.example", "990102", "Maths lead and Year 6 teacher", D.SLE, "Maths mastery specialist (NCETM Mastery Specialist). Built fluency through daily retrieval; KS2 maths at the expected standard up from 64% to 85%.", [CT, ACH], ["Mathematics"], ["primary"], ["KS1", "KS2"], (4, 3, 3), 230, 45, "Wednesday", 200, EntryStatus.ACTIVE, None),
    ("Sophie Lund", "s.lund@fellside-trust.example", "990104", "Nursery lead", D.SPECIALIST, "EYFS: communication and language, Early Talk Boost, setting up continuous provision; our nursery's two-year-old offer.", [EY, CT], ["Phonics and early reading"], ["nursery", "primary"], ["EYFS"], (3, 3, 3), 200, 30, "", 180, EntryStatus.ACTIVE, None),
    ("Gareth Doyle", "g.doyle@fellside-trust.example", "990106", "Designated safeguarding lead", D.SPECIALIST, "DSL for 900 pupils: safeguarding audits, CPOMS culture, Section 175 returns, training staff on contextual safeguarding and online harms.", [PD, LG], ["Safeguarding"], ["secondary"], ["KS3", "KS4", "KS5"], (2, 2, 2), 250, 60, "Thursday", 15, EntryStatus.ACTIVE, None),
    ("Dr Alan Whitcombe", "alan@whitcombe-governance.example", None, "Independent governance consultant, former chair of trustees", D.EXTERNAL, "Governance: reviews of governance, scheme of delegation, training local governing boards to challenge on data and the SEF.", [LG], ["Governance"], ["all-through", "primary", "secondary"], [], (2, 2, 1), 650, 120, "", 330, EntryStatus.ACTIVE, None),
    ("Rachel Ngata", "r.ngata@fellside-trust.example", "990109", "ECF lead mentor", D.LEAD_PRACTITIONER, "ECF mentoring: lead mentor for 14 ECTs; instructional coaching, deliberate practice, weekly steps; trained 20 mentors.", [CT, LG], ["Teacher development"], ["secondary"], ["KS3", "KS4"], (3, 3, 2), 240, 50, "Tuesday", 310, EntryStatus.ACTIVE, None),
    ("Claire Dunmore", "head.baytree@fellside-trust.example", "990110", "Headteacher", D.NLE, "Headteacher of a good special school; led it out of special measures. Supports new heads, SEND reviews, and schools in a category of concern.", [LG, INC], ["SEND"], ["special", "primary"], [], (2, 2, 2), 450, 100, "Friday", 340, EntryStatus.ACTIVE, "head.baytree@fellside-trust.example"),
    ("Pierre Martin", "p.martin@fellside-trust.example", "990112", "Head of MFL", D.SLE, "MFL: phonics-first French and Spanish curriculum from Year 3 to Year 11; raised GCSE entries for EBacc from 28% to 55%.", [CT], ["Modern foreign languages"], ["all-through", "secondary", "primary"], ["KS2", "KS3", "KS4"], (2, 2, 2), 240, 50, "", 220, EntryStatus.ACTIVE, None),
    ("Tom Osei", "t.osei@fellside-trust.example", "990103", "Head of science", D.SLE, "Science: practical work that builds knowledge; disciplinary literacy; required practicals. Combined science 4+ up 14 points.", [CT, ACH], ["Science"], ["secondary"], ["KS3", "KS4"], (3, 2, 2), 250, 40, "Monday", 270, EntryStatus.ACTIVE, "t.osei@fellside-trust.example"),
    ("Kelly Armitage", "k.armitage@fellside-trust.example", "990111", "Deputy headteacher (SEMH)", D.SPECIALIST, "Behaviour and SEMH: trauma-informed practice, de-escalation, reducing suspensions by two thirds; designs nurture provision.", [AB, INC, PD], ["SEND", "PSHE and RSE"], ["special", "primary", "secondary"], ["KS2", "KS3"], (3, 3, 3), 260, 60, "Wednesday", 240, EntryStatus.ACTIVE, None),
    ("David Thornber", "d.thornber@fellside-trust.example", None, "Director of Education", D.TRUST_CENTRAL, "School improvement: leads reviews against the risk assessment matrix; curriculum deep dives; supports heads in schools needing urgent improvement.", [LG, CT, ACH], [], ["primary", "secondary"], [], (6, 6, 6), 0, 100, "", 360, EntryStatus.ACTIVE, None),
    ("Fiona McAllister", "fiona@mcallister-literacy.example", None, "Literacy consultant", D.EXTERNAL, "Reading fluency and disciplinary literacy at KS3; writing moderation; former local authority English adviser.", [CT, ACH], ["English"], ["primary", "secondary"], ["KS2", "KS3"], (3, 3, 2), 550, 90, "", 150, EntryStatus.ACTIVE, None),
    ("Ben Haworth", "b.haworth@fellside-trust.example", "990107", "PE and sport premium lead", D.SPECIALIST, "PE curriculum and sport premium; active playtimes; our school won the county School Games gold mark three years running.", [CT, PD], ["Physical education"], ["primary"], ["KS1", "KS2"], (2, 2, 3), 200, 30, "Friday", 200, EntryStatus.ACTIVE, None),
    ("Aisha Karim", "a.karim@fellside-trust.example", "990105", "Deputy headteacher and SENCo", D.SLE, "SENCo: graduated approach, inclusive quality-first teaching, deploying TAs well (EEF guidance), EHCP applications.", [INC], ["SEND"], ["primary"], ["KS1", "KS2"], (3, 3, 2), 230, 40, "Thursday", 25, EntryStatus.ACTIVE, None),
    ("Owen Prescott", "o.prescott@fellside-trust.example", "990109", "Head of computing", D.LEAD_PRACTITIONER, "Computing: new KS3 curriculum, GCSE computer science; online safety education; Teach Computing facilitator.", [CT], ["Computing"], ["secondary"], ["KS3", "KS4"], (2, 2, 1), 240, 40, "", 180, EntryStatus.ACTIVE, None),
    ("Lucy Tran", "l.tran@fellside-trust.example", "990113", "Headteacher (small school)", D.HEADTEACHER, "Mixed-age planning in a small rural primary; curriculum sequencing with a two-year rolling programme; leading a church school (SIAMS).", [CT, LG], ["Religious education"], ["primary"], ["KS1", "KS2"], (2, 1, 1), 350, 50, "", 210, EntryStatus.ACTIVE, None),
    ("Imran Siddiqui", "i.siddiqui@fellside-trust.example", "990109", "Head of sixth form", D.SLE, "Post-16: A level pedagogy, UCAS and destinations, retention; Level 3 value added in the top 20% nationally.", [ACH, PD], ["Mathematics"], ["post-16", "secondary"], ["KS5"], (2, 2, 1), 260, 60, "", 230, EntryStatus.ACTIVE, None),
    ("Gemma Rowe", "g.rowe@fellside-trust.example", "990108", "Year 1 teacher and history lead", D.SPECIALIST, "History and geography in primary: knowledge-rich curriculum, substantive and disciplinary knowledge, subject leader development.", [CT], ["History", "Geography"], ["primary"], ["KS1", "KS2"], (2, 2, 2), 200, 30, "Monday", 260, EntryStatus.PAUSED, None),
    ("Nadia Hussain", "n.hussain@fellside-trust.example", "990114", "Music lead", D.SPECIALIST, "Music: whole-class instrumental teaching, singing strategy, working with the county music hub.", [CT, PD], ["Music"], ["primary"], ["KS1", "KS2"], (1, 2, 2), 200, 25, "", 160, EntryStatus.ACTIVE, None),
    ("Peter Gallagher", "p.gallagher@fellside-trust.example", "990106", "Deputy headteacher (curriculum)", D.SLE, "Curriculum design and timetabling; KS4 options and EBacc; data use for intervention without over-testing.", [CT, LG, ACH], [], ["secondary"], ["KS3", "KS4"], (2, 2, 2), 280, 50, "", -20, EntryStatus.LAPSED, None),
    ("Sarah Whitehead", "sarah@whitehead-eyfs.example", None, "EYFS consultant", D.EXTERNAL, "Early Years: EYFS reforms, Development Matters, moderation of the EYFS profile, outdoor provision.", [EY], ["Phonics and early reading"], ["nursery", "primary"], ["EYFS"], (2, 2, 2), 500, 100, "", 280, EntryStatus.ACTIVE, None),
    ("Joseph Blake", "j.blake@fellside-trust.example", "990101", "Deputy headteacher", D.LEAD_PRACTITIONER, "Pupil premium strategy: tiered approach, attendance and reading for disadvantaged pupils; closed the KS2 gap by 11 points.", [ACH, AB], [], ["primary"], ["KS2"], (2, 2, 2), 240, 40, "", 300, EntryStatus.ACTIVE, None),
    ("Eleanor Varley", "e.varley@fellside-trust.example", "990112", "Art and design lead", D.SPECIALIST, "Art and design: sketchbook practice, a progression in drawing and making from EYFS to KS4.", [CT], ["Art and design"], ["all-through"], ["KS2", "KS3", "KS4"], (1, 1, 1), 220, 40, "", 190, EntryStatus.ACTIVE, None),
    ("Mark Ellison", "deputy.ceo@fellside-trust.example", None, "Deputy CEO", D.TRUST_CENTRAL, "Leadership coaching for new headteachers; finance and staffing structures; leading schools through Ofsted.", [LG], ["Governance"], ["primary", "secondary", "special"], [], (4, 4, 4), 0, 120, "", 350, EntryStatus.ACTIVE, None),
    ("Zara Iqbal", "z.iqbal@fellside-trust.example", "990107", "RSE and PSHE lead", D.SPECIALIST, "Personal development: statutory RSE, consultation with parents, PSHE Association programme builder; well-being ambassadors.", [PD], ["PSHE and RSE"], ["primary"], ["KS1", "KS2"], (2, 2, 1), 200, 30, "", 20, EntryStatus.ACTIVE, None),
]

DEVELOPMENT = {
    "h.briggs@fellside-trust.example": [(DevelopmentKind.COURSE, date(2026, 9, 24), "Read Write Inc. leadership day (Ruth Miskin Training)"),
                                        (DevelopmentKind.PLACEMENT, date(2026, 10, 8), "Two days at Ormsgill Primary Academy: phonics keep-up groups"),
                                        (DevelopmentKind.MENTOR, date(2026, 9, 10), "Mentored by Joanne Pickering (SLE)")],
    "t.osei@fellside-trust.example": [(DevelopmentKind.PEER_REVIEW, date(2026, 10, 15), "Science deep dive, Furness Bay Secondary Academy"),
                                      (DevelopmentKind.PROJECT, date(2026, 6, 30), "Led the trust's KS3 science curriculum working group")],
    "a.rao@fellside-trust.example": [(DevelopmentKind.COURSE, date(2026, 7, 3), "NPQ for Leading Behaviour and Culture")],
}

# Nominations: (head email, nominee name, email, post, designation, expertise, subjects, phases, key stages, target state)
NOMINATIONS = [
    ("head.oakfield@fellside-trust.example", "Emily Sanderson", "e.sanderson@fellside-trust.example", "Year 4 teacher and writing lead", D.SPECIALIST, "Writing: sentence stacking and shared writing; KS2 writing at the expected standard up from 59% to 78%.", ["English"], ["primary"], ["KS2"], "draft"),
    ("head.fellside@fellside-trust.example", "Callum Reid", "c.reid@fellside-trust.example", "KS1 phase leader", D.SLE, "KS1 maths with concrete-pictorial-abstract; Mastering Number lead; Year 2 greater depth doubled.", ["Mathematics"], ["primary"], ["KS1"], "submitted"),
    ("head.lakeland@fellside-trust.example", "Priya Shah", "p.shah@fellside-trust.example", "Head of English", D.SLE, "English KS3-KS4: reading age screening and fluency; GCSE English 5+ up 12 points in two years.", ["English"], ["secondary"], ["KS3", "KS4"], "reference_completed"),
    ("head.baytree@fellside-trust.example", "Daniel Okonjo", "d.okonjo@fellside-trust.example", "Assistant headteacher (communication)", D.SPECIALIST, "Communication and interaction: Makaton, PECS, total communication environments; autism-friendly classrooms.", ["SEND"], ["special", "primary"], ["KS1", "KS2"], "visit_scheduled"),
    ("head.oakfield@fellside-trust.example", "Rebecca Hale", "r.hale@fellside-trust.example", "EYFS lead", D.SPECIALIST, "EYFS: Reception baseline to GLD up from 61% to 79%; Nuffield Early Language Intervention (NELI).", ["Phonics and early reading"], ["primary"], ["EYFS"], "interview_recorded"),
    ("head.oakfield@fellside-trust.example", "Leah Harper", "staff.oakfield@fellside-trust.example", "Year 5 teacher and computing lead", D.LEAD_PRACTITIONER, "Computing and online safety in primary; Teach Computing curriculum; digital leaders programme.", ["Computing"], ["primary"], ["KS2"], "offer_made"),
    ("head.fellside@fellside-trust.example", "Owain Price", "o.price@fellside-trust.example", "Science lead", D.SPECIALIST, "Primary science: working scientifically, PSQM gold; science capital.", ["Science"], ["primary"], ["KS1", "KS2"], "accepted"),
    ("head.lakeland@fellside-trust.example", "Grace Milburn", "g.milburn@fellside-trust.example", "Head of geography", D.SLE, "Geography fieldwork and GIS at KS3-KS4.", ["Geography"], ["secondary"], ["KS3", "KS4"], "declined"),
    ("head.fellside@fellside-trust.example", "Simon Ashworth", "s.ashworth@fellside-trust.example", "Year 6 teacher", D.SLE, "Year 6 reading: whole-class reading and vocabulary.", ["English"], ["primary"], ["KS2"], "withdrawn"),
    ("head.baytree@fellside-trust.example", "Helen Crossley", "h.crossley@fellside-trust.example", "Class teacher", D.NLE, "Sensory curriculum for pupils with PMLD.", ["SEND"], ["special"], ["KS2"], "rejected"),
]
ORDER = ["draft", "submitted", "reference_completed", "visit_scheduled", "interview_recorded", "offer_made", "accepted"]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def load(today: date | None = None) -> bool:
    """Add the demo register and nominations if they are not there; True when something was added."""
    if db.session.scalar(select(RegisterEntry).where(RegisterEntry.email == ENTRIES[0][1])) is not None:
        return False
    ceo = db.session.scalar(select(User).where(User.role == Role.CEO).order_by(User.id))
    executive = _user("improvement.lead@fellside-trust.example") or db.session.scalar(
        select(User).where(User.role == Role.EXECUTIVE).order_by(User.id))
    if ceo is None or executive is None:
        return False
    today = today or date.today()
    year = AcademicYear.of(today).start
    schools = {s.urn: s for s in db.session.scalars(select(School))}
    for (name, email, urn, post, designation, expertise, areas, subjects, phases, key_stages, days, rate, travel,
         preferred, valid_days, status, account) in ENTRIES:
        user = _user(account) if account else None
        entry = register.create(ceo, register.EntryData(
            name=name, email=email, post=post, designation=designation, expertise=expertise,
            school_id=schools[urn].id if urn else None, areas=areas, subjects=subjects, phases=phases,
            key_stages=key_stages, availability={year: dict(zip(Term, days, strict=True))},
            preferred_days=[d for d in preferred.split(";") if d], max_travel_km=travel, day_rate=rate,
            consent=True, status=status, valid_until=today + timedelta(days=valid_days),
            user_id=user.id if user else None), commit=False)
        for kind, on, text in DEVELOPMENT.get(email, []):
            register.add_development(ceo, entry.id, kind, on, text)
    db.session.commit()
    for (head_email, name, email, post, designation, expertise, subjects, phases, key_stages,
         state) in NOMINATIONS:
        _nominate(_user(head_email), executive, ceo, NominationData(
            nominee_name=name, nominee_email=email, nominee_post=post, designation=designation,
            expertise=expertise, subjects=subjects, phases=phases, key_stages=key_stages, areas=["Curriculum and Teaching"],
            days_autumn=3, days_spring=3, days_summer=2, day_rate=220), state, today)
    return True


def _nominate(head: User, executive: User, ceo: User, data: NominationData, state: str, today: date) -> None:
    n = nominations.create(head, data, today=today)
    target = {"declined": "offer_made", "withdrawn": "submitted", "rejected": "reference_completed"}.get(state, state)
    visit = datetime.combine(today + timedelta(days=9), datetime.min.time(), UTC).replace(hour=10)
    steps = {
        "submitted": lambda: nominations.submit(head, n.id),
        "reference_completed": lambda: nominations.complete_reference(head, n.id, ReferenceData(
            expertise=f"{data.nominee_name} is one of our strongest practitioners. {data.expertise}",
            impact="Outcomes have risen for three years in a row, confirmed by our trust review in the summer term.",
            capacity="Coaches colleagues weekly and has led our INSET on this twice; patient and precise with adults.",
            release_agreed=True, safeguarding_confirmed=True)),
        "visit_scheduled": lambda: nominations.schedule_visit(executive, n.id, visit),
        "interview_recorded": lambda: nominations.record_interview(
            executive, n.id, "Observed a well-sequenced lesson; strong modelling and checks for understanding.",
            "Reflective on how to support a school without taking over; clear examples of coaching a colleague.",
            True),
        "offer_made": lambda: nominations.make_offer(ceo, n.id, OfferTerms(data.designation, 3, 3, 2, 220),
                                                     today=today),
        "accepted": lambda: nominations.accept(executive, n.id, consent=True, today=today),
    }
    for step in ORDER[1:ORDER.index(target) + 1]:
        steps[step]()
    if state == "declined":
        nominations.decline(executive, n.id, "Has accepted a deputy headship outside the trust from January.")
    elif state == "withdrawn":
        nominations.withdraw(head, n.id, "Taking on the maths lead role this year; we will nominate again next year.")
    elif state == "rejected":
        nominations.reject(executive, n.id, "Not yet enough evidence of impact beyond their own class; "
                                            "we suggest a placement first and a nomination next year.")
