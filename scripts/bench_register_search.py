"""Time talent register searches on 5,000 entries: through the service, and as full pages through the test client.

    .venv/bin/python scripts/bench_register_search.py [--entries 5000] [--searches 200]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench_db]

Builds the register in a temporary SQLite database (and in PostgreSQL when --database-url is given: that
database's public schema is DROPPED and rebuilt, so never point it at real data) and prints p50/p95/max in ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    AUDIT_AREAS,
    KEY_STAGES,
    SUBJECTS,
    Availability,
    Designation,
    EntryStatus,
    Phase,
    RegisterEntry,
    RegisterTag,
    Role,
    School,
    TagKind,
    User,
)
from app.services import register  # noqa: E402
from app.terms import Term, current  # noqa: E402

PHRASES = [
    "Read Write Inc. trainer", "phonics keep-up groups", "maths mastery", "fluency and retrieval", "EHCP applications",
    "graduated approach", "persistent absence", "disadvantaged pupils", "EYFS communication and language",
    "designated safeguarding lead", "governance reviews", "ECF mentoring", "instructional coaching", "MFL phonics",
    "science practicals", "behaviour and SEMH", "trauma-informed practice", "curriculum sequencing",
    "pupil premium strategy", "reading fluency", "disciplinary literacy", "A level pedagogy", "RSE consultation",
    "timetabling", "subject leader development", "moderation of writing", "attendance panels", "Makaton and PECS",
]
QUERIES = ["phonics", "maths mastery", "ehcp", "attendance", "safeguarding", "mentoring", "science", "semh",
           "reading fluency", "governance", "curriculum", "pupil premium", "eyfs", "literacy", "makaton", "zebra"]


def build(entries: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    schools = [School(urn=f"{900000 + i:06d}", name=f"Bench School {i}", phase=rng.choice(list(Phase)))
               for i in range(60)]
    db.session.add_all(schools)
    db.session.flush()
    year, _ = current()
    today = date.today()
    for i in range(entries):
        expertise = "; ".join(rng.sample(PHRASES, 3)) + f". Raised outcomes by {rng.randint(5, 30)} points."
        designation = rng.choice(list(Designation))
        school = None if designation in (Designation.EXTERNAL, Designation.TRUST_CENTRAL) else rng.choice(schools)
        entry = RegisterEntry(
            name=f"Person {i}", email=f"person{i}@bench.example", school_id=school.id if school else None,
            post="Teacher", designation=designation, expertise=expertise, day_rate=rng.choice([0, 200, 250, 500]),
            consent=rng.random() > 0.05, status=rng.choice([EntryStatus.ACTIVE] * 8 + list(EntryStatus)),
            valid_until=today + timedelta(days=rng.randint(-30, 365)), preferred_days="", search_text="")
        entry.tags = ([RegisterTag(kind=TagKind.AREA, value=a) for a in rng.sample(AUDIT_AREAS, 2)]
                      + [RegisterTag(kind=TagKind.SUBJECT, value=s) for s in rng.sample(SUBJECTS, 1)]
                      + [RegisterTag(kind=TagKind.PHASE, value=p.value) for p in rng.sample(list(Phase), 1)]
                      + [RegisterTag(kind=TagKind.KEY_STAGE, value=k) for k in rng.sample(KEY_STAGES, 2)])
        entry.availability = [Availability(academic_year=year.start, term=t, days=rng.choice([0, 1, 2, 3, 5]))
                              for t in Term]
        entry.search_text = register._search_text(
            entry, {k: [t.value for t in entry.tags if t.kind == k] for k in TagKind}, school)
        db.session.add(entry)
        if i % 1000 == 999:
            db.session.flush()
    db.session.add(User(email="bench.exec@bench.example", name="Bench Executive", role=Role.EXECUTIVE,
                        password_hash="!unusable", active=True))  # noqa: S106 - cannot sign in
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))  # what autovacuum does soon after a bulk load
        db.session.commit()


def variants(rng: random.Random, n: int, schools: list[int]) -> list[dict]:
    out = []
    for _ in range(n):
        f = {"q": rng.choice(QUERIES + [""]), "sort": rng.choice(list(register.SORTS))}
        if rng.random() < 0.3:
            f["area"] = rng.choice(AUDIT_AREAS)
        if rng.random() < 0.2:
            f["phase"] = rng.choice(list(Phase)).value
        if rng.random() < 0.2:
            f["designation"] = rng.choice(list(Designation)).value
        if rng.random() < 0.15:
            f["school_id"] = rng.choice(schools)
        if rng.random() < 0.3:
            f["available"] = True
        if rng.random() < 0.1:
            f["status"] = ""
        f["page"] = rng.choice([1, 1, 1, 2, 5])
        out.append(f)
    return out


def stats(label: str, times: list[float]) -> None:
    times = sorted(times)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"  {label:<28} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   max {times[-1]:7.1f} ms")


def run(url: str, entries: int, searches: int) -> None:
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade(revision="heads")
        started = time.perf_counter()
        build(entries)
        print(f"{url.split('://')[0]}: {entries:,} entries built in {time.perf_counter() - started:.1f} s")
        schools = [s.id for s in db.session.scalars(db.select(School))]
        user = db.session.scalar(db.select(User).where(User.email == "bench.exec@bench.example"))
        session_id = user.get_id()
    rng = random.Random(11)
    cases = variants(rng, searches, schools)
    service_times = []
    with app.app_context():
        for case in cases:
            page = case.get("page", 1)
            filters = register.Filters(**{k: v for k, v in case.items() if k != "page"})
            t0 = time.perf_counter()
            result, remaining = register.search(filters, page=page)
            [(e.areas, e.school) for e in result.items]  # what the page touches
            service_times.append((time.perf_counter() - t0) * 1000)
            db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        now = time.time()
        session.update({"_user_id": session_id, "_fresh": True, "login_at": now, "seen_at": now})
    page_times = []
    for case in cases:
        t0 = time.perf_counter()
        response = client.get("/register/", query_string={k: ("y" if v is True else v) for k, v in case.items()})
        page_times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    stats("service search", service_times)
    stats("full page (test client)", page_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--database-url", help="also run on this PostgreSQL database (its schema is dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{folder}/bench.sqlite", args.entries, args.searches)
    if args.database_url:
        url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        run(url, args.entries, args.searches)


if __name__ == "__main__":
    main()
