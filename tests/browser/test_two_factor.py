"""Two-step sign-in in a real browser: set up with the QR page, then sign in with a code; pages pass axe-core."""

import time

import pyotp
import pytest

from app.extensions import db
from app.models import Role, User
from tests import factories
from tests.browser.conftest import screenshot, serious_violations, sign_in

pytestmark = pytest.mark.browser


def test_set_up_and_sign_in_with_a_code(app, live_server, page, axe):
    with app.app_context():
        user = factories.user(role=Role.EXECUTIVE)
        email, user_id = user.email, user.id
    sign_in(page, live_server, email, factories.PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.get_by_role("link", name="Two-step sign-in").click()
    page.get_by_role("button", name="Set up two-step sign-in").click()
    assert page.locator("svg.segno").count() == 1
    screenshot(page, "two-step-set-up")
    assert serious_violations(axe, page) == []
    with app.app_context():
        secret = db.session.get(User, user_id).totp_secret
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    assert "Two-step sign-in is on" in page.content()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, email, factories.PASSWORD)
    page.wait_for_url(f"{live_server}/login/code")
    assert serious_violations(axe, page) == []
    screenshot(page, "two-step-code")
    # The code just used cannot be used again; the next step's code is within the allowed drift.
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
    assert "Signed in as" in page.content()
