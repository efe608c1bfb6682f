"""Demo school improvement data: audits, categories, priorities, support requests in every state, visits.

Called from demo.load; running it again changes nothing. Dates are relative to today so the demo stays current.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Area,
    Grade,
    ImprovementPriority,
    Phase,
    Role,
    School,
    SchoolAudit,
    SchoolCategorisation,
    User,
    VisitType,
)
from app.models.types import utcnow
from app.services import categories, impact, priorities, requests, visits
from app.terms import AcademicYear, Term, current

# ruff: noqa: E501 - the demo texts read better unwrapped

# URN -> (need score this year, need score last year, areas needing attention or worse, urgent areas)
PROFILES = {
    "990101": (3, 2, [Area.CURRICULUM, Area.EARLY_YEARS], []),
    "990102": (4, 3, [Area.ATTENDANCE, Area.INCLUSION, Area.PERSONAL_DEVELOPMENT], []),
    "990103": (3, 3, [Area.CURRICULUM, Area.ACHIEVEMENT], []),
    "990104": (1, 1, [], []),
    "990105": (5, 3, [Area.LEADERSHIP], [Area.ACHIEVEMENT]),
    "990106": (4, 4, [Area.LEADERSHIP, Area.ATTENDANCE], []),
    "990107": (2, 2, [Area.ACHIEVEMENT], []),
    "990108": (1, 1, [], []),
    "990109": (2, 1, [Area.ATTENDANCE], []),
    "990110": (3, 3, [Area.ATTENDANCE, Area.INCLUSION], []),
    "990111": (1, 2, [], []),
    "990112": (2, 2, [Area.ACHIEVEMENT], []),
    "990113": (1, 1, [], []),
    "990114": (3, 2, [Area.ACHIEVEMENT, Area.EARLY_YEARS], []),
}

EVIDENCE = {
    Area.CURRICULUM: "Learning walks in October: sequencing is clear in maths; phonics teaching varies between classes.",
    Area.INCLUSION: "SEN register reviewed with the SENCo; 14% on SEN support, plans not reviewed termly.",
    Area.ACHIEVEMENT: "2026 outcomes and autumn assessments compared with national and the trust's schools.",
    Area.ATTENDANCE: "Attendance 93.1% (national 94.5%); persistent absence 21%, 29% for disadvantaged pupils.",
    Area.PERSONAL_DEVELOPMENT: "Pupil voice with Year 5 and 6; enrichment register; PSHE curriculum map.",
    Area.EARLY_YEARS: "Reception baseline and GLD 2026 (52%); provision walk with the EYFS lead.",
    Area.LEADERSHIP: "Meeting with the headteacher and chair; governing board minutes; school improvement plan.",
}

# Phase -> pool of (area, title, description, success criteria)
PRIORITY_POOL = {
    "primary": [
        (Area.CURRICULUM, "Improve early reading: Year 1 phonics screening check pass rate from 61% to 85%", "Phonics is taught daily but with variable fidelity to the scheme; keep-up sessions are not consistent.", "85% of Year 1 pass the PSC in June; every KS1 teacher observed teaching to the scheme with fidelity by Easter."),
        (Area.EARLY_YEARS, "Raise Reception children reaching a good level of development from 52% to 70%", "Communication and language is the weakest early learning goal; too few adults model rich talk.", "70% GLD in June; communication and language ELG met by 80%."),
        (Area.INCLUSION, "Strengthen the graduated approach for pupils with SEND", "SEN support plans are written by the SENCo and rarely reviewed with class teachers or families.", "Every SEN support plan reviewed termly with the family; class teachers own the targets (sampled in learning walks)."),
        (Area.ATTENDANCE, "Reduce persistent absence among disadvantaged pupils from 29% to 18%", "Persistent absence is concentrated in 22 families; first-day calling is in place but follow-up is not.", "Persistent absence of disadvantaged pupils below 18% by July; attendance above 95% overall."),
        (Area.ACHIEVEMENT, "Raise KS2 reading, writing and maths combined at the expected standard from 54% to 65%", "Writing is the weakest subject; too few pupils apply grammar accurately in extended writing.", "65% combined RWM in 2027 KS2 results; writing moderated as secure by the local authority."),
        (Area.LEADERSHIP, "Develop middle leaders so that every subject leader can evaluate their subject", "Subject leaders are new; monitoring is done by the senior team.", "Every subject leader presents a subject evaluation to governors by the summer term."),
    ],
    "secondary": [
        (Area.CURRICULUM, "Improve disciplinary literacy across KS3: Year 7 reading ages within 12 months of chronological age", "A third of Year 7 arrive with reading ages more than two years below; subject teachers do not teach vocabulary explicitly.", "Year 7 average reading-age gap under 12 months by June; tier 3 vocabulary taught in every science and humanities unit."),
        (Area.ACHIEVEMENT, "Raise Year 11 achieving grade 4 or above in English and maths from 58% to 68%", "Maths has two long-term vacancies covered by supply; mock results are weakest in higher-tier algebra.", "68% grade 4+ in English and maths in August 2027; mocks show 65% by March."),
        (Area.ATTENDANCE, "Reduce suspensions by a third through a consistent behaviour curriculum", "Suspensions rose from 61 to 94 last year, mostly in Year 9, for defiance and persistent disruption.", "Suspensions down by a third; behaviour curriculum taught in every tutor group."),
        (Area.ATTENDANCE, "Reduce persistent absence among disadvantaged pupils", "Persistent absence is 31% for disadvantaged pupils and rising in Year 10.", "Below 20% by July; every persistently absent pupil has a named mentor."),
    ],
    "special": [
        (Area.ATTENDANCE, "Embed positive behaviour support so that restrictive interventions fall by half", "Restrictive physical interventions rose after three new classes opened with newly appointed teaching assistants.", "Recorded restrictive interventions halved by July; every class team trained in positive behaviour support."),
        (Area.CURRICULUM, "Give every pupil a personalised communication passport", "Pupils' communication methods are known to their class team but not shared across the school.", "Every pupil has a passport reviewed with their family; used in all transitions between classes."),
        (Area.ACHIEVEMENT, "Strengthen moderation of pre-key stage standards", "Teacher assessments of engagement and pre-key stage standards are not moderated outside the school.", "Assessments moderated termly with another special school; agreement above 90%."),
    ],
}

# The schools whose demo requests point at particular priorities get these (indices into their phase's pool).
PRIORITY_CHOICE = {"990101": [0, 1, 2], "990102": [3, 2, 5], "990103": [0, 1, 2], "990110": [0, 1, 2]}

TRUST_PRIORITIES = [
    (Area.CURRICULUM, "Every pupil a reader: early reading and disciplinary literacy", "Reading is the gateway to the curriculum; outcomes in phonics and KS3 reading ages vary widely across the trust.", "Every primary school at or above national PSC pass rate; every secondary closes the Year 7 reading-age gap by half over three years."),
    (Area.ATTENDANCE, "Reduce persistent absence among disadvantaged pupils", "Persistent absence of disadvantaged pupils is 27% across the trust against 19% nationally.", "Below the national rate in every school by July 2029."),
]

# (URN, author email, status, priority index within the school's list or "trust" for a trust-wide one, fields)
REQUESTS = [
    ("990101", "staff.oakfield", "draft", 0, dict(
        title="Phonics keep-up sessions and coaching for KS1 teachers", area=Area.CURRICULUM, key_stage="ks1",
        need="Our Year 1 PSC pass rate dropped to 61% and too many pupils in KS1 can't blend. Keep-up sessions happen when there is time, and two of our three KS1 teachers are new to the scheme this year.",
        evidence="PSC June 2026: 61% (national 80%). Autumn baseline: 19 of 30 Year 1 pupils below the expected phase. Learning walk in October found sounds taught accurately but too little blending practice.",
        desired_outcomes="85% of Year 1 pass the PSC in June 2027. Daily keep-up for the lowest 20% in place by February half-term. Both new teachers observed teaching to the scheme with fidelity by Easter.",
        support_type="coaching", days="4", term="next", preferred_dates="Tuesday mornings")),
    ("990101", "head.oakfield", "submitted", 1, dict(
        title="Reception: communication and language through adult modelling", area=Area.EARLY_YEARS, key_stage="eyfs",
        need="Only 52% of Reception reached a GLD last summer, with communication and language the weakest area. Our EYFS lead is in her first year and our support staff do not yet model rich talk during continuous provision.",
        evidence="GLD 2026: 52% (national 68%). Communication and language ELG: 58%. Reception baseline this September shows 40% of children below age-related expectations in speaking.",
        desired_outcomes="70% GLD in June 2027 and the communication and language ELG met by 80%. Every adult in Reception uses the trust's talk strategies, seen in three observed sessions.",
        support_type="demonstration_lessons", days="3", term="next", preferred_dates="Any day except Friday")),
    ("990101", "head.oakfield", "impact_evaluated", "trust", dict(
        title="Reading fluency in Years 2 and 3", area=Area.CURRICULUM, key_stage="ks2",
        need="A third of Year 3 read fewer than 70 words a minute and lose the meaning of what they read. Our teachers have not been trained to teach fluency through echo and choral reading.",
        evidence="Fluency checks in September: 34% of Year 3 below 70 words correct per minute; only 41% at 90 or more.",
        desired_outcomes="90% of Year 3 reading at 90 or more words correct per minute by the summer; fluency routines seen in every Year 2 and 3 class.",
        support_type="team_teaching", days="3", term="current", impact=(4, "Fluency checks in November: 78% of Year 3 at 90 or more words a minute, up from 41%. Echo and choral reading now happen daily in Years 2 and 3."),
        supporter_note="Team-taught fluency lessons in both Year 3 classes and coached the teachers over three visits; the English lead now runs the routines.")),
    ("990102", "head.fellside", "accepted", 1, dict(
        title="Lunchtime behaviour and SEMH support", area=Area.ATTENDANCE, key_stage="ks2",
        need="Several pupils with SEMH needs are dysregulated at lunchtimes; suspensions rising. Lunchtime supervisors have had no training in de-escalation and incidents spill into afternoon lessons.",
        evidence="7 fixed-term suspensions this term against 2 in the whole of last autumn, all after lunchtime incidents. Behaviour logs show 80% of serious incidents between 12:15 and 13:15.",
        desired_outcomes="Lunchtime incidents halved by Easter; no suspensions for lunchtime incidents in the summer term; all supervisors trained in de-escalation.",
        support_type="behaviour", days="5", term="next", preferred_dates="Lunchtimes, twice a week")),
    ("990102", "head.fellside", "matched", "trust", dict(
        title="Persistent absence: first-day response and family support", area=Area.ATTENDANCE, key_stage="whole_school",
        need="Persistent absence among our disadvantaged pupils is 29% and our attendance officer works alone. We need a strategic plan that uses the trust's attendance framework.",
        evidence="Persistent absence 29% for disadvantaged pupils (21% overall). 22 families account for 60% of absence.",
        desired_outcomes="Persistent absence of disadvantaged pupils below 20% by July; a written attendance plan adopted by governors.",
        support_type="strategic_planning", days="3", term="current")),
    ("990102", "head.fellside", "returned", 1, dict(
        title="SEN support plans reviewed with families", area=Area.INCLUSION, key_stage="whole_school",
        need="Our SEN support plans aren't reviewed termly and class teachers don't own the targets; parents tell us they do not know what the plans say.",
        evidence="Audit of 20 plans: 12 not reviewed since last year.",
        desired_outcomes="Every plan reviewed termly with the family.",
        support_type="coaching", days="2", term="next",
        note="Please add how many pupils are on SEN support and when your provision map was last reviewed, so we can match the right SENCo.")),
    ("990103", "head.lakeland", "approved", 0, dict(
        title="Disciplinary literacy in KS3 science", area=Area.CURRICULUM, key_stage="ks3",
        need="Reading ages in Year 7 are on average 18 months below chronological age and our science teachers are not confident teaching tier 3 vocabulary or reading in science lessons.",
        evidence="NGRT September 2026: mean reading-age gap 18 months; 34% of Year 7 more than two years below. Book looks show little extended reading in science.",
        desired_outcomes="Year 7 reading-age gap below 12 months by June; tier 3 vocabulary explicitly taught in every KS3 science unit (checked by book looks).",
        support_type="training", days="6", term="next", preferred_dates="Department meetings, Wednesdays 15:30")),
    ("990103", "head.lakeland", "in_progress", 1, dict(
        title="Year 11 maths: securing grade 4", area=Area.ACHIEVEMENT, key_stage="ks4",
        need="Only 58% of Year 11 are on track for a grade 4 in maths; the department has two long-term supply teachers and the weakest sets are taught by non-specialists.",
        evidence="November mocks: 58% grade 4+ (target 68%). Question-level analysis: algebra and ratio the weakest.",
        desired_outcomes="68% grade 4+ in the March mocks; every supply-taught set co-planned with a specialist weekly.",
        support_type="team_teaching", days="10", term="current")),
    ("990103", "head.lakeland", "declined", 2, dict(
        title="Year 9 behaviour: restorative conversations", area=Area.ATTENDANCE, key_stage="ks3",
        need="Year 9 suspensions have risen sharply and our heads of year want to introduce restorative conversations.",
        evidence="Year 9 accounts for 41 of 94 suspensions last year.",
        desired_outcomes="Year 9 suspensions down by a third.",
        support_type="training", days="2", term="next",
        note="The trust's behaviour hub is running restorative practice training for every secondary in January; please book two heads of year onto it.")),
    ("990110", "head.baytree", "completed", 0, dict(
        title="Positive behaviour support for new class teams", area=Area.ATTENDANCE, key_stage="whole_school",
        need="Three new classes opened in September with newly appointed teaching assistants; restrictive physical interventions have risen and staff confidence is low.",
        evidence="Restrictive interventions: 46 this half-term against 19 last autumn. Staff survey: 60% not confident de-escalating.",
        desired_outcomes="Restrictive interventions halved by February half-term; every new class team trained and observed using behaviour support plans.",
        support_type="training", days="2.5", term="current")),
    ("990110", "head.baytree", "submitted", 2, dict(
        title="Moderating pre-key stage standards with another special school", area=Area.ACHIEVEMENT, key_stage="ks2",
        need="Our assessments of engagement and pre-key stage standards have never been moderated outside the school, so governors cannot rely on them.",
        evidence="No external moderation in three years; internal sampling found disagreement on 1 in 4 judgements.",
        desired_outcomes="Termly moderation with Kentmere; agreement above 90% by the summer.",
        support_type="moderation", days="1.5", term="next")),
]

VISIT_NOTES = {
    "going_well": "Calm, purposeful classrooms; leaders know the school's strengths and weaknesses well.",
    "next_steps": "Check that the actions in the improvement plan have measurable milestones for each half-term.",
    "evidence": "Learning walk with the headteacher, book look in Years 2 and 5, meeting with the SENCo.",
}


def _user(email_prefix: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == f"{email_prefix}@fellside-trust.example"))


def _grades(phase: Phase, score: int, attention: list[Area], urgent: list[Area]) -> categories.AuditData:
    grades = {}
    for area in Area:
        if area == Area.EARLY_YEARS and phase in (Phase.SECONDARY,):
            grades[area] = (None, "No early years provision.")
            continue
        grade = Grade.EXPECTED
        if score == 1 and area == Area.LEADERSHIP:
            grade = Grade.STRONG
        if score == 1 and area in (Area.PERSONAL_DEVELOPMENT,):
            grade = Grade.EXCEPTIONAL
        if area in attention:
            grade = Grade.NEEDS_ATTENTION
        if area in urgent:
            grade = Grade.URGENT
        grades[area] = (grade, EVIDENCE[area])
    return categories.AuditData(carried_out_on=date.today(), safeguarding_met=True,
                                safeguarding_evidence="Single central record and safer recruitment checked.",
                                grades=grades)


def _level(score: int, scheme) -> int:
    return 1 + (score - 1) * (scheme.levels - 1) // 4


def load() -> bool:
    """Load the demo's school improvement data once; return whether anything was added."""
    schools = {s.urn: s for s in db.session.scalars(select(School).where(School.urn.in_(PROFILES)))}
    ceo, deputy, lead = _user("ceo"), _user("deputy.ceo"), _user("improvement.lead")
    if len(schools) < len(PROFILES) or not (ceo and deputy and lead):
        return False
    if db.session.scalar(select(SchoolAudit.id).where(SchoolAudit.school_id == schools["990101"].id)) is not None:
        return False
    categories.ensure_presets(commit=False)
    scheme = categories.active_scheme()
    today = date.today()
    year, term = current(today)
    last_year = AcademicYear(year.start - 1)
    year_start = year.term_dates(Term.AUTUMN)[0]

    # audits and categories, last year and this
    for urn, (score, last_score, attention, urgent) in PROFILES.items():
        school = schools[urn]
        audit_row = categories.save_audit(deputy, school.id, year.start,
                                          _grades(school.phase, score, attention, urgent), commit=False)
        suggestion = categories.suggest(audit_row, scheme)
        last_cat = next(c for c in scheme.categories if c.need_level == _level(last_score, scheme))
        db.session.add(SchoolCategorisation(
            school_id=school.id, academic_year=last_year.start, category_id=last_cat.id,
            rationale="Agreed at last year's autumn categorisation meeting.",
            effective_from=last_year.term_dates(Term.AUTUMN)[0], decided_by_id=ceo.id,
            board_confirmed_at=utcnow(), board_confirmed_by_id=ceo.id))
        if urn == "990105":  # re-categorised mid-year after the audit found urgent weaknesses
            earlier = next(c for c in scheme.categories if c.need_level == _level(3, scheme))
            categories.categorise(ceo, school.id, earlier.id, "Autumn categorisation: outcomes below the trust's "
                                  "schools; leadership stable.", year_start, commit=False)
            row = categories.categorise(ceo, school.id, suggestion.category.id,
                                        "Re-categorised after the November audit: KS2 outcomes fell sharply and the "
                                        "headteacher has resigned. " + " ".join(suggestion.reasons),
                                        today - timedelta(days=7), audit_id=audit_row.id, commit=False)
        else:
            row = categories.categorise(ceo, school.id, suggestion.category.id,
                                        "Agreed at the autumn categorisation meeting. " + " ".join(suggestion.reasons),
                                        year_start, audit_id=audit_row.id, commit=False)
        if urn not in ("990105", "990114"):
            categories.confirm_by_board(ceo, row.id, commit=False)
    db.session.flush()

    # priorities: two or three a school, and two trust-wide
    for area, title, description, criteria in TRUST_PRIORITIES:
        priorities.create(ceo, None, year.start, priorities.PriorityData(area, title, description, criteria),
                          commit=False)
    own: dict[str, list[ImprovementPriority]] = {}
    for index, (urn, school) in enumerate(sorted(schools.items())):
        pool = PRIORITY_POOL["secondary" if school.phase in (Phase.SECONDARY, Phase.ALL_THROUGH) else
                             "special" if school.phase == Phase.SPECIAL else "primary"]
        count = 3 if index % 3 else 2
        chosen = ([pool[i] for i in PRIORITY_CHOICE[urn]] if urn in PRIORITY_CHOICE
                  else [pool[(index + k) % len(pool)] for k in range(count)])
        own[urn] = [priorities.create(ceo, school.id, year.start, priorities.PriorityData(*item), commit=False)
                    for item in chosen]
    db.session.commit()

    # support requests in every state
    trust_wide = priorities.trust_wide(year)
    later = [(y, t) for y in (year, year.next()) for t in Term if y.term_dates(t)[0] > today]
    for urn, author, state, priority_index, f in REQUESTS:
        school = schools[urn]
        when_year, when_term = (year, term) if f["term"] == "current" else later[0]
        priority_row = trust_wide[0] if priority_index == "trust" else own[urn][priority_index]
        if priority_index == "trust" and f["area"] == Area.ATTENDANCE:
            priority_row = trust_wide[-1]
        data = requests.RequestData(
            priority_id=priority_row.id, title=f["title"], area=f["area"], phase=school.phase,
            key_stage=f["key_stage"], need=f["need"], evidence=f["evidence"], desired_outcomes=f["desired_outcomes"],
            target_date=today + timedelta(days=200), support_type=f["support_type"], days_requested=Decimal(f["days"]),
            academic_year=when_year.start, term=when_term, funding="core", preferred_dates=f.get("preferred_dates", ""))
        row = requests.create(_user(author), school.id, data)
        head = _user(author if author.startswith("head") else "head." + author.split(".")[1])
        if state == "draft":
            continue
        requests.submit(head, row.id, True)
        if state == "submitted":
            continue
        if state in ("returned", "declined"):
            requests.triage(lead, row.id, "return" if state == "returned" else "decline", f["note"])
            continue
        requests.triage(lead, row.id, "accept")
        steps = ["accepted", "matched", "approved", "in_progress", "completed", "impact_evaluated"]
        for step in steps[1:steps.index(state) + 1]:
            if step == "matched":
                requests.mark_matched(lead, row.id)
            elif step == "approved":
                requests.mark_approved(ceo, row.id)
            elif step == "in_progress":
                requests.start(lead, row.id)
            elif step == "completed":
                requests.complete(lead, row.id)
            elif step == "impact_evaluated":
                impact.evaluate(head, row.id, *f["impact"])
                impact.add_supporter_note(lead, row.id, f["supporter_note"])

    # visits: last term short for some schools (overdue), this term behind for others, some planned and drafts
    prev_year, prev_term = visits.previous_term(year, term)
    prev_start, prev_end = prev_year.term_dates(prev_term)
    start, _ = year.term_dates(term)
    short_last_term = {"990105", "990106", "990114"}
    for index, (urn, school) in enumerate(sorted(schools.items())):
        visitor = deputy if index % 2 else lead
        last_cat = categories.current_category(school.id, prev_end)
        owed = last_cat.visits_per_term if last_cat else 1
        made = max(owed - 2, 0) if urn in short_last_term else owed
        for k in range(made):
            _visit(school, visitor, prev_start + timedelta(days=10 + 21 * k), VisitType.SCHOOL_IMPROVEMENT, shared=True)
        cat = categories.current_category(school.id)
        day = start + timedelta(days=14)  # one visit so far this term: enough for Category 1, behind for 3
        if day < today:
            _visit(school, visitor, day, VisitType.SCHOOL_IMPROVEMENT, shared=index % 4 != 0)
        if cat.executive_reviews_per_term and urn not in short_last_term:
            day = start + timedelta(days=30)
            if day < today:
                _visit(school, deputy, day, VisitType.EXECUTIVE_REVIEW, shared=True)
        if cat.need_level > 1:
            _visit(school, visitor, today + timedelta(days=10), VisitType.LEARNING_WALK, shared=False, note=False)
    _visit(schools["990110"], lead, start + timedelta(days=20) if start + timedelta(days=20) < today else today,
           VisitType.SAFEGUARDING_REVIEW, shared=True)
    db.session.commit()
    return True


def _visit(school: School, visitor: User, day: date, kind: VisitType, *, shared: bool, note: bool = True) -> None:
    row = visits.create(visitor, visits.VisitData(
        school_id=school.id, visit_date=day, visitor_id=visitor.id, visit_type=kind,
        evaluation={Area.CURRICULUM.value: "Reading is prioritised; phonics sessions start promptly and pupils "
                                           "use sound mats independently."} if note else {},
        evidence=VISIT_NOTES["evidence"] if note else "", going_well=VISIT_NOTES["going_well"] if note else "",
        next_steps=VISIT_NOTES["next_steps"] if note else ""), commit=False)
    if shared and note:
        row.shared_at = utcnow()


def use_scheme(name: str) -> int:
    """Switch the demo trust to a scheme by name (as its CEO); returns how many schools were mapped."""
    categories.ensure_presets()
    scheme = categories.scheme_by_name(name)
    if scheme is None:
        raise categories.ValidationError(f"There is no scheme called '{name}'. The presets are: "
                                         + ", ".join(s.name for s in categories.schemes()) + ".")
    ceo = db.session.scalar(select(User).where(User.role == Role.CEO, User.active.is_(True)).order_by(User.id))
    if ceo is None:
        raise categories.ValidationError("The trust has no CEO account to make the change.")
    return categories.set_active_scheme(ceo, scheme.id)

