"""Each role signs in through the real page, reaches its home page, and the pages pass axe-core."""

import pytest

from app.models import Role
from app.services import demo
from tests import factories
from tests.browser.conftest import screenshot, serious_violations, sign_in

pytestmark = pytest.mark.browser

HOME_TEXT = {
    Role.ADMIN: "accounts",
    Role.CEO: "schools and",
    Role.EXECUTIVE: "schools and",
    Role.HEADTEACHER: "URN",
    Role.SCHOOL_STAFF: "URN",
    Role.TRUSTEE: "As a trustee",
}


@pytest.fixture
def demo_trust(app):
    with app.app_context():
        demo.load("Fellside Learning Trust")
        school = factories.school(name="Browser Test Primary")
        people = {role: factories.user(role=role, school=school if role in (Role.HEADTEACHER, Role.SCHOOL_STAFF)
                                       else None).email for role in Role}
    return people


@pytest.mark.parametrize("role", list(Role))
def test_role_signs_in_and_sees_home(live_server, page, axe, demo_trust, role):
    sign_in(page, live_server, demo_trust[role], factories.PASSWORD)
    page.wait_for_url(f"{live_server}/")
    assert HOME_TEXT[role] in page.content()
    screenshot(page, f"home-{role.value}")
    problems = serious_violations(axe, page)
    assert problems == [], problems
    # Every page in the role's menu also passes.
    links = page.locator("nav[aria-label='Main menu'] a.nav-link")
    for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
        page.goto(live_server + href)
        assert page.title() and "Error" not in page.locator("main").inner_text()[-20:]
        problems = serious_violations(axe, page)
        assert problems == [], f"{href}: {problems}"


def test_sign_in_page_is_accessible_and_shows_errors(live_server, page, axe):
    page.goto(f"{live_server}/login")
    assert serious_violations(axe, page) == []
    page.get_by_role("button", name="Sign in").click()
    assert "There is a problem" in page.content()
    screenshot(page, "login-errors")
    assert serious_violations(axe, page) == []


def test_axe_check_can_fail(page, axe):
    # An image without alt text and an unlabelled input must be reported; otherwise the checks above prove nothing.
    page.set_content('<html lang="en"><body><main><img src="x.png"><input type="text"></main></body></html>')
    assert serious_violations(axe, page) != []
