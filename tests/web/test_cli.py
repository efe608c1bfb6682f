"""Flask commands."""

from app.extensions import db
from app.models import Phase, Role, School, User


def _counts(app):
    with app.app_context():
        return {m.__name__: db.session.scalar(db.select(db.func.count()).select_from(m)) for m in (School, User)}


def test_demo_data_is_realistic_and_idempotent(app, runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert "ceo@fellside-trust.example" in result.output
    first = _counts(app)
    assert first["School"] >= 12
    with app.app_context():
        phases = {s.phase for s in db.session.scalars(db.select(School))}
        roles = {u.role for u in db.session.scalars(db.select(User))}
    assert {Phase.NURSERY, Phase.PRIMARY, Phase.SECONDARY, Phase.SPECIAL} <= phases
    assert roles == set(Role)
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert _counts(app) == first


def test_demo_logins_work(app, runner, browser):
    result = runner.invoke(args=["demo-data"])
    line = next(x for x in result.output.splitlines() if "ceo@fellside-trust.example" in x)
    password = line.split()[-1]
    assert browser.login("ceo@fellside-trust.example", password).status_code == 302


def test_create_user_command(app, runner):
    result = runner.invoke(args=["create-user", "--email", "new.ceo@trust.example", "--name", "New CEO",
                                 "--role", "ceo", "--password", "a long enough passphrase"])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(args=["create-user", "--email", "x@trust.example", "--name", "X", "--role", "ceo",
                              "--password", "password123"])
    assert bad.exit_code != 0 and "commonly used" in bad.output
