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
