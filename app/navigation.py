"""The menu each role sees; views and templates never hard-code it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user

from app.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[Role]


#: Later features append their own items here, in the order they should appear.
NAV: list[NavItem] = [
    NavItem("Home", "main.home", frozenset(Role)),
    NavItem("Schools", "schools.school_list", frozenset(Role)),
    NavItem("Categories", "categories.overview", frozenset({Role.CEO, Role.EXECUTIVE, Role.TRUSTEE, Role.ADMIN})),
    NavItem("Priorities", "priorities.priority_list", frozenset({Role.CEO, Role.EXECUTIVE, Role.TRUSTEE,
                                                                 Role.HEADTEACHER, Role.SCHOOL_STAFF})),
    NavItem("Support requests", "requests.request_list", frozenset({Role.CEO, Role.EXECUTIVE, Role.TRUSTEE,
                                                                    Role.HEADTEACHER, Role.SCHOOL_STAFF})),
    NavItem("Visits", "visits.visit_list", frozenset({Role.CEO, Role.EXECUTIVE, Role.HEADTEACHER})),
    NavItem("Talent register", "register.entry_list",
            frozenset({Role.HEADTEACHER, Role.EXECUTIVE, Role.CEO, Role.TRUSTEE})),
    NavItem("Nominations", "nominations.nomination_list", frozenset({Role.HEADTEACHER, Role.EXECUTIVE, Role.CEO})),
    NavItem("Allocations", "allocation.index", frozenset({Role.CEO, Role.EXECUTIVE})),
    NavItem("Staff to release", "allocation.releases", frozenset({Role.HEADTEACHER})),
    NavItem("My assignments", "allocation.assignments", frozenset({Role.SCHOOL_STAFF, Role.HEADTEACHER})),
    NavItem("Reports", "reports.dashboard", frozenset({Role.CEO, Role.EXECUTIVE, Role.TRUSTEE})),
    NavItem("Accounts", "admin.user_list", frozenset({Role.ADMIN})),
    NavItem("Audit log", "audit.event_list", frozenset({Role.ADMIN, Role.CEO})),
    NavItem("Data protection", "privacy.subject_access", frozenset({Role.ADMIN, Role.CEO})),
    NavItem("Two-step sign-in", "auth.two_factor_page", frozenset({Role.ADMIN, Role.CEO, Role.EXECUTIVE})),
]


def menu() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    here = request.endpoint or ""
    items = []
    for item in NAV:
        if current_user.role in item.roles:
            blueprint = item.endpoint.split(".")[0]
            active = here == item.endpoint or (item.endpoint != "main.home" and here.startswith(blueprint + "."))
            items.append({"label": item.label, "url": url_for(item.endpoint), "active": active})
    return items


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"nav_menu": menu, "trust_name": app.config["TRUST_NAME"]})
