"""Formal letters as PDF (ReportLab): the CEO's offer of a place on the talent register."""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.formatting import long_date, money
from app.terms import AcademicYear, Term

TRUST_BLUE = colors.HexColor("#1d3f72")

EXPECTATIONS = (
    "give the days set out above to schools in the trust when the executive team allocates support, "
    "agreeing dates with your headteacher and the school you support;",
    "work to the request the school has written, and write a short note of visit after each visit "
    "(evaluation, evidence, what is going well, next steps);",
    "keep your safeguarding training and checks up to date, and follow the host school's safeguarding "
    "procedures at all times;",
    "keep what you learn about other schools confidential;",
    "take part in the trust's development programme for supporters, and tell the executive team "
    "promptly if your circumstances or availability change.",
)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("Body", parent=base["Normal"], fontName="Helvetica", fontSize=10, leading=13,
                          spaceAfter=5)
    return {
        "trust": ParagraphStyle("Trust", parent=body, fontName="Helvetica-Bold", fontSize=19, leading=23,
                                textColor=TRUST_BLUE, spaceAfter=1),
        "strap": ParagraphStyle("Strap", parent=body, fontSize=9, textColor=colors.HexColor("#4a5a70"),
                                spaceAfter=0),
        "right": ParagraphStyle("Right", parent=body, alignment=TA_RIGHT),
        "body": body,
        "item": ParagraphStyle("Item", parent=body, spaceAfter=2),
        "address": ParagraphStyle("Address", parent=body, spaceAfter=0),
        "subject": ParagraphStyle("Subject", parent=body, fontName="Helvetica-Bold", fontSize=11.5, spaceBefore=4,
                                  spaceAfter=9),
        "cell": ParagraphStyle("Cell", parent=body, spaceAfter=0),
        "small": ParagraphStyle("Small", parent=body, fontSize=8, textColor=colors.HexColor("#555555")),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def offer_letter(nomination, *, trust: str, ceo_name: str, on: date) -> bytes:
    """The offer letter for a nomination, dated `on`; returns the PDF's bytes."""
    st = _styles()
    year = AcademicYear.of(on)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"Offer of a place on the talent register: "
                            f"{nomination.nominee_name}", author=trust)

    letterhead = Table([[ [_p(trust, st["trust"]), _p("School improvement · Talent register", st["strap"])] ]],
                       colWidths=[doc.width])
    letterhead.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, -1), 2, TRUST_BLUE),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ]))
    days = [nomination.days_for(t.value) for t in Term]
    total = sum(days)
    terms_text = ", ".join(f"{t.label} {d:g}" for t, d in zip(Term, days, strict=True))
    rate = money(nomination.day_rate) if nomination.day_rate else "No charge (core trust support)"
    valid_until = nomination.offer_valid_until
    terms = Table([
        [_p("Designation", st["cell"]), _p(nomination.designation.label, st["cell"])],
        [_p(f"Days offered in {year.label}", st["cell"]),
         _p(f"{total:g} days in all: {terms_text}", st["cell"])],
        [_p("Day rate", st["cell"]),
         _p(f"{rate} per day, paid to {nomination.school.name} to cover your release"
            if nomination.day_rate else rate, st["cell"])],
        [_p("Valid until", st["cell"]), _p(long_date(valid_until), st["cell"])],
    ], colWidths=[48 * mm, doc.width - 48 * mm])
    terms.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f8")),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b8c4d6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    first_name = nomination.nominee_name.split()[0] if nomination.nominee_name.split() else nomination.nominee_name
    expectations = ListFlowable([ListItem(_p(text, st["item"]), leftIndent=12) for text in EXPECTATIONS],
                                bulletType="bullet", start="•", leftIndent=12)
    story = [
        letterhead,
        Spacer(1, 5 * mm),
        _p(long_date(on), st["right"]),
        _p(nomination.nominee_name, st["address"]),
        _p(nomination.nominee_post, st["address"]),
        _p(nomination.school.name, st["address"]),
        Spacer(1, 6 * mm),
        _p(f"Dear {nomination.nominee_name},", st["body"]),
        _p("Offer of a place on the talent register", st["subject"]),
        _p(f"Following your nomination by your headteacher, the reference they provided, and our visit, "
           f"observation and interview, I am delighted to offer you a place on the {trust} talent register as "
           f"{nomination.designation.label}.", st["body"]),
        _p(f"Your expertise, as your nomination describes it: {nomination.expertise}", st["body"]),
        _p("The terms of the offer are:", st["body"]),
        terms,
        Spacer(1, 4 * mm),
        _p("In accepting this offer you agree to:", st["body"]),
        expectations,
        _p(f"Your place is reviewed each year. Shortly before {long_date(valid_until)} your headteacher will be "
           "asked to confirm that you are still in post and able to support other schools, and I will then renew "
           "it for a further year.", st["body"]),
        _p("Please accept or decline this offer on your nomination page in the trust's school improvement "
           f"service. If you have any questions, do contact the executive team. Thank you, {first_name}, for "
           "your commitment to the children in all of our schools.", st["body"]),
        Spacer(1, 3 * mm),
        _p("Yours sincerely,", st["body"]),
        Spacer(1, 8 * mm),
        _p(ceo_name, st["address"]),
        _p("Chief Executive Officer", st["address"]),
        _p(trust, st["address"]),
        Spacer(1, 5 * mm),
        _p(f"Reference: nomination {nomination.id}. This letter was issued through the {trust} school "
           "improvement service.", st["small"]),
    ]
    doc.build(story)
    return buffer.getvalue()
