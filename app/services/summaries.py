"""A one-page deployment summary (PDF) for each approved allocation, on the trust's letterhead."""

from __future__ import annotations

import io
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select

from app.extensions import db
from app.formatting import date_time, long_date, money
from app.models import Allocation, AllocationStatus, Role, User
from app.services.errors import Forbidden, NotFound
from app.services.letters import TRUST_BLUE, _p, _styles
from app.terms import AcademicYear

#: Allocations that have a deployment to summarise: approved, and every state after approval.
SUMMARISED = frozenset({AllocationStatus.APPROVED, AllocationStatus.RELEASED, AllocationStatus.RELEASE_DECLINED,
                        AllocationStatus.ACCEPTED})


def may_see(actor: User, a: Allocation) -> bool:
    """The CEO and executive; the requesting school's headteacher; the supporter's headteacher; the supporter."""
    if actor.role in (Role.CEO, Role.EXECUTIVE):
        return True
    if actor.role is Role.HEADTEACHER and actor.school_id is not None and \
            actor.school_id in (a.request.school_id, a.entry.school_id):
        return True
    return a.entry.user_id is not None and a.entry.user_id == actor.id


def get_for(actor: User, allocation_id: int) -> Allocation:
    a = db.session.get(Allocation, allocation_id)
    if a is None or a.status not in SUMMARISED:
        raise NotFound("There is no approved allocation with that number.")
    if not may_see(actor, a):
        raise Forbidden("Only the CEO, the executive team, the two headteachers and the supporter can see this.")
    return a


def _clip(text: str | None, limit: int) -> str:
    """Keep the summary to one page: the full text is on the request's page."""
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    return db.session.scalar(select(User.name).where(User.id == user_id)) or "(account removed)"


def _headteachers(school_id: int | None) -> str:
    if school_id is None:
        return ""
    names = db.session.scalars(select(User.name).where(User.school_id == school_id, User.role == Role.HEADTEACHER,
                                                       User.active.is_(True)).order_by(User.name))
    return ", ".join(names)


def release_state(a: Allocation) -> str:
    """Where release and acceptance stand, in words."""
    if a.status is AllocationStatus.APPROVED:
        return "Waiting for the supporter's headteacher to release them."
    if a.status is AllocationStatus.RELEASE_DECLINED:
        who = _name(a.released_by_id)
        return (f"Release declined{f' by {who}' if who else ''} on {long_date(a.released_at)}: {a.reason or ''}"
                .rstrip(": "))
    released = (f"Released by {_name(a.released_by_id)} on {long_date(a.released_at)}" if a.released_by_id
                else f"No release needed (not employed by a school); released on {long_date(a.released_at)}")
    if a.status is AllocationStatus.RELEASED:
        return f"{released}. Waiting for the supporter to accept."
    return f"{released}. Accepted by the supporter on {long_date(a.accepted_at)}."


def summary_pdf(actor: User, allocation_id: int, *, trust: str, on: date | None = None) -> tuple[bytes, str]:
    """The deployment summary for an allocation the actor may see; returns (PDF bytes, filename)."""
    a = get_for(actor, allocation_id)
    on = on or date.today()
    r, e = a.request, a.entry
    st = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=f"Deployment summary: {e.name} to {r.school.name}",
                            author=trust)
    letterhead = Table([[[_p(trust, st["trust"]), _p("School improvement · Deployment summary", st["strap"])]]],
                       colWidths=[doc.width])
    letterhead.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, -1), 2, TRUST_BLUE),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ]))
    term = f"{a.term.label} {AcademicYear(a.academic_year).label}"
    who_pays = (f"Charged to {r.school.name} (second tier, from the school's budget of {money(r.budget_gbp)})"
                if a.charged else "Core support: paid by the trust")
    success = _clip(r.priority.success_criteria, 350) if r.priority else ""
    rows = [
        ("Supporter", f"{e.name}, {e.post} ({e.designation.label})"),
        ("Supporter's school", e.school.name if e.school else "Trust central staff or external consultant"),
        ("Supporter's headteacher", _headteachers(e.school_id) or "Not applicable"),
        ("School supported", f"{r.school.name} (URN {r.school.urn})"),
        ("Its headteacher", _headteachers(r.school_id) or "No headteacher account"),
        ("Request", f"{r.title} (request {r.id})"),
        ("Area", r.area.label),
        ("The need", _clip(r.need, 600)),
        ("Desired outcomes", _clip(r.desired_outcomes, 450)),
        ("Success criteria", success),
        ("Target date", long_date(r.target_date)),
        ("Days and term", f"{a.days:g} days in {term}"),
        ("Cost", f"{money(a.cost)} ({money(e.day_rate)} a day)"),
        ("Who pays", who_pays),
        ("Travel", f"About {a.travel_km:.0f} km each way" if a.travel_km is not None else "Not known"),
        ("Dates preferred", r.preferred_dates or "None given; agree dates with the school"),
        ("Approved by", f"{_name(a.decided_by_id)} on {date_time(a.decided_at)}"),
        ("Release and acceptance", release_state(a)),
    ]
    table = Table([[_p(k, st["cell"]), _p(v, st["cell"])] for k, v in rows if v],
                  colWidths=[45 * mm, doc.width - 45 * mm])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f8")),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b8c4d6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    story = [
        letterhead,
        Spacer(1, 4 * mm),
        _p(long_date(on), st["right"]),
        _p(f"Deployment summary: allocation {a.id}", st["subject"]),
        _p(f"{e.name} will support {r.school.name} for {a.days:g} days in {term}. State: {a.status.label}.",
           st["body"]),
        table,
        Spacer(1, 3 * mm),
        _p("The supporter agrees dates with the school, follows its safeguarding procedures, and writes a short "
           "note of visit after each visit. Contact the executive team if anything here changes.", st["small"]),
    ]
    doc.build(story)
    filename = f"deployment-summary-{a.id}.pdf"
    return buffer.getvalue(), filename

