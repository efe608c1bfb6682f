"""A realistic demo trust in south Cumbria and north Lancashire; loading it twice changes nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Phase, Role, School, TrustSettings, User
from app.services import audit, demo_allocation, demo_improvement, demo_register, users

# ruff: noqa: E501 - one school per line reads better than wrapped tuples
# Fictional schools with made-up URNs in the 9xxxxx range, which GIAS does not use for real academies.
DEMO_SCHOOLS = [
    ("990101", "Oakfield Primary Academy", Phase.PRIMARY, 212, "LA12 7AB", 54.1962, -3.0921, "Westmorland and Furness"),
    ("990102", "Fellside Primary School", Phase.PRIMARY, 418, "LA9 4QS", 54.3280, -2.7460, "Westmorland and Furness"),
    ("990103", "Lakeland Academy", Phase.SECONDARY, 1104, "LA9 6EU", 54.3160, -2.7350, "Westmorland and Furness"),
    ("990104", "Walney Infant and Nursery School", Phase.NURSERY, 96, "LA14 3XY", 54.1110, -3.2450, "Westmorland and Furness"),
    ("990105", "Ormsgill Primary Academy", Phase.PRIMARY, 305, "LA14 5NB", 54.1290, -3.2230, "Westmorland and Furness"),
    ("990106", "Furness Bay Secondary Academy", Phase.SECONDARY, 890, "LA13 9BB", 54.1180, -3.2120, "Westmorland and Furness"),
    ("990107", "Morecambe Sands Primary", Phase.PRIMARY, 356, "LA4 5PH", 54.0700, -2.8650, "Lancashire"),
    ("990108", "Lune Valley Primary School", Phase.PRIMARY, 188, "LA2 8QR", 54.0880, -2.7100, "Lancashire"),
    ("990109", "Castle Hill Academy", Phase.SECONDARY, 1240, "LA1 3EJ", 54.0480, -2.8050, "Lancashire"),
    ("990110", "Bay Tree Special School", Phase.SPECIAL, 142, "LA1 4NW", 54.0520, -2.7900, "Lancashire"),
    ("990111", "Kentmere Special Academy", Phase.SPECIAL, 96, "LA9 7HP", 54.3320, -2.7520, "Westmorland and Furness"),
    ("990112", "Carnforth All-Through Academy", Phase.ALL_THROUGH, 1310, "LA5 9LS", 54.1290, -2.7680, "Lancashire"),
    ("990113", "Silverdale Church of England Primary", Phase.PRIMARY, 121, "LA5 0RF", 54.1700, -2.8280, "Lancashire"),
    ("990114", "Heysham Primary Academy", Phase.PRIMARY, 262, "LA3 2RF", 54.0420, -2.8950, "Lancashire"),
]

# (email, name, role, school URN or None)
DEMO_USERS = [
    ("admin@fellside-trust.example", "Priya Natarajan", Role.ADMIN, None),
    ("ceo@fellside-trust.example", "Dr Helen Marsh", Role.CEO, None),
    ("deputy.ceo@fellside-trust.example", "Mark Ellison", Role.EXECUTIVE, None),
    ("improvement.lead@fellside-trust.example", "Sarah Okafor", Role.EXECUTIVE, None),
    ("head.oakfield@fellside-trust.example", "James Whitfield", Role.HEADTEACHER, "990101"),
    ("head.fellside@fellside-trust.example", "Amina Begum", Role.HEADTEACHER, "990102"),
    ("head.lakeland@fellside-trust.example", "Robert Kerr", Role.HEADTEACHER, "990103"),
    ("head.baytree@fellside-trust.example", "Claire Dunmore", Role.HEADTEACHER, "990110"),
    ("staff.oakfield@fellside-trust.example", "Leah Harper", Role.SCHOOL_STAFF, "990101"),
    ("h.briggs@fellside-trust.example", "Hannah Briggs", Role.SCHOOL_STAFF, "990101"),
    ("t.osei@fellside-trust.example", "Tom Osei", Role.SCHOOL_STAFF, "990103"),
    ("trustee@fellside-trust.example", "Gordon Pryce", Role.TRUSTEE, None),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: Role
    password: str


def _password() -> str:
    # Four random words would be friendlier, but a random token needs no word list and is never common.
    return secrets.token_urlsafe(12)


def load(trust_name: str) -> list[DemoLogin]:
    """Create the demo trust if it is not there; return the logins created (empty on a second run)."""
    if db.session.scalar(select(School).where(School.urn == DEMO_SCHOOLS[0][0])) is not None:
        demo_improvement.load()  # idempotent: adds categories, requests and visits to an older demo database
        demo_register.load()
        demo_allocation.load()
        return []
    if db.session.scalar(select(TrustSettings)) is None:
        db.session.add(TrustSettings(trust_name=trust_name))
    by_urn = {}
    for urn, name, phase, pupils, postcode, lat, lon, la in DEMO_SCHOOLS:
        school = School(urn=urn, name=name, phase=phase, pupils=pupils, postcode=postcode, latitude=lat,
                        longitude=lon, local_authority=la)
        db.session.add(school)
        by_urn[urn] = school
    db.session.flush()
    logins = []
    for email, name, role, urn in DEMO_USERS:
        if users.by_email(email):
            continue
        password = _password()
        users.create(users.NewUser(email=email, name=name, role=role, password=password,
                                   school_id=by_urn[urn].id if urn else None), commit=False)
        logins.append(DemoLogin(email, name, role, password))
    audit.record("demo.loaded", details={"schools": len(DEMO_SCHOOLS), "users": len(logins)})
    db.session.commit()
    demo_improvement.load()
    demo_register.load()
    demo_allocation.load()
    return logins


def is_empty() -> bool:
    return db.session.scalar(select(School).limit(1)) is None and db.session.scalar(select(User).limit(1)) is None


def ensure_settings(trust_name: str) -> TrustSettings:
    settings = db.session.scalar(select(TrustSettings))
    if settings is None:
        settings = TrustSettings(trust_name=trust_name)
        db.session.add(settings)
        db.session.commit()
    return settings
