"""Fill a database for the load test: 100 schools, 5,000 register entries, 2,000 support requests, one
account per role with a known password. DROPS the database's public schema first: never aim it at real data.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_load .venv/bin/python scripts/loadtest/seed.py
"""

from __future__ import annotations

import os
import random
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    AUDIT_AREAS,
    KEY_STAGES,
    SUBJECTS,
    Area,
    Availability,
    Designation,
    EntryStatus,
    Funding,
    ImprovementPriority,
    KeyStage,
    Phase,
    RegisterEntry,
    RegisterTag,
    RequestStatus,
    Role,
    School,
    SupportRequest,
    SupportType,
    TagKind,
    User,
)
from app.services import passwords, register  # noqa: E402
from app.terms import Term, current  # noqa: E402

PASSWORD = "load test passphrase 2026"  # noqa: S105 - a throwaway database built for the load test
PHRASES = [
    "Read Write Inc. trainer", "phonics keep-up groups", "maths mastery", "fluency and retrieval", "EHCP applications",
    "graduated approach", "persistent absence", "disadvantaged pupils", "EYFS communication and language",
    "designated safeguarding lead", "governance reviews", "ECF mentoring", "instructional coaching",
    "science practicals", "behaviour and SEMH", "trauma-informed practice", "curriculum sequencing",
    "pupil premium strategy", "reading fluency", "disciplinary literacy", "A level pedagogy", "moderation of writing",
]
NEEDS = [
    "Our Year 1 phonics screening check pass rate fell to 61% and too many pupils cannot blend.",
    "Persistent absence among disadvantaged pupils is 24%; first-day calling is not in place.",
    "Several pupils with SEMH needs are dysregulated at lunchtimes; suspensions are rising.",
    "Only 52% of Reception reached a good level of development last summer.",
    "KS3 maths is poorly sequenced and students reach GCSE with gaps in algebra.",
    "New SENCo needs help with EHCP applications and the graduated approach.",
]


def main() -> None:
    url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "ARGON2_TIME_COST": 3,
                      "ARGON2_MEMORY_COST": 65536, "ARGON2_PARALLELISM": 4})
    rng = random.Random(2026)
    with app.app_context():
        upgrade(revision="heads")
        year, term = current()
        schools = [School(urn=f"{800000 + i:06d}", name=f"Load Test Academy {i}", phase=rng.choice(list(Phase)),
                          pupils=rng.randint(60, 1500), latitude=53.5 + rng.random(), longitude=-3 + rng.random())
                   for i in range(100)]
        db.session.add_all(schools)
        db.session.flush()
        today = date.today()
        for i in range(5000):
            designation = rng.choice(list(Designation))
            school = None if designation in (Designation.EXTERNAL, Designation.TRUST_CENTRAL) else rng.choice(schools)
            entry = RegisterEntry(
                name=f"Person {i}", email=f"person{i}@load.example", school_id=school.id if school else None,
                post="Teacher", designation=designation, expertise="; ".join(rng.sample(PHRASES, 3)),
                day_rate=rng.choice([0, 200, 250, 500]), consent=True, status=EntryStatus.ACTIVE,
                valid_until=today + timedelta(days=rng.randint(30, 365)), preferred_days="", search_text="")
            entry.tags = ([RegisterTag(kind=TagKind.AREA, value=a) for a in rng.sample(AUDIT_AREAS, 2)]
                          + [RegisterTag(kind=TagKind.SUBJECT, value=rng.choice(SUBJECTS))]
                          + [RegisterTag(kind=TagKind.PHASE, value=rng.choice(list(Phase)).value)]
                          + [RegisterTag(kind=TagKind.KEY_STAGE, value=k) for k in rng.sample(KEY_STAGES, 2)])
            entry.availability = [Availability(academic_year=year.start, term=t, days=rng.choice([0, 2, 3, 5]))
                                  for t in Term]
            entry.search_text = register._search_text(
                entry, {k: [t.value for t in entry.tags if t.kind == k] for k in TagKind}, school)
            db.session.add(entry)
            if i % 1000 == 999:
                db.session.flush()
        priorities = []
        for school in schools:
            p = ImprovementPriority(school_id=school.id, start_year=year.start, end_year=year.start,
                                    area=rng.choice(list(Area)), title="Improve outcomes", description="d",
                                    success_criteria="s")
            priorities.append(p)
        db.session.add_all(priorities)
        db.session.flush()
        for i in range(2000):
            p = rng.choice(priorities)
            db.session.add(SupportRequest(
                school_id=p.school_id, priority_id=p.id, status=rng.choice(list(RequestStatus)),
                title=f"Request {i}", area=p.area, phase=Phase.PRIMARY, key_stage=rng.choice(list(KeyStage)),
                need=rng.choice(NEEDS), evidence="School data", desired_outcomes="Measurable improvement",
                target_date=today + timedelta(days=120), support_type=rng.choice(list(SupportType)),
                days_requested=rng.choice([1, 2, 3, 4]), academic_year=year.start, term=term,
                funding=rng.choice(list(Funding)), headteacher_consent=True))
        hashed = passwords.hash_password(PASSWORD)
        for role in Role:
            for n in range(20):
                school = schools[n] if role in (Role.HEADTEACHER, Role.SCHOOL_STAFF) else None
                db.session.add(User(email=f"{role.value}{n}@load.example", name=f"{role.label} {n}", role=role,
                                    school_id=school.id if school else None, password_hash=hashed, active=True))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    print("Seeded 100 schools, 5,000 register entries, 2,000 support requests and 120 accounts.")


if __name__ == "__main__":
    main()
