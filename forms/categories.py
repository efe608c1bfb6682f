"""Category forms: the active scheme, entitlements, the yearly audit, decisions and disputes."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from forms import optional_choice

GRADE_CHOICES = [
    ("urgent_improvement", "Urgent Improvement"),
    ("needs_attention", "Needs Attention"),
    ("expected_standard", "Expected Standard"),
    ("strong_standard", "Strong Standard"),
    ("exceptional", "Exceptional"),
]


class SchemeForm(FlaskForm):
    scheme_id = SelectField("Category scheme", coerce=int,
                            description="Schools keep their place on the need scale when the scheme changes.")
    submit = SubmitField("Use this scheme")


def _count(label: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(message="Enter a number from 0 to 20."),
                                           NumberRange(min=0, max=20, message="Enter a number from 0 to 20.")])


class CategoryForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Enter the category's name."), Length(max=100)])
    colour = SelectField("Colour", description="The name is always shown next to the colour.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=1000)])
    visits_per_term = _count("Visits per term")
    peer_reviews_per_year = _count("Peer reviews per year")
    executive_reviews_per_term = _count("Executive reviews per term")
    safeguarding_reviews_per_year = _count("Safeguarding reviews per year")
    charged = BooleanField("Support is charged to the school (second tier)")
    submit = SubmitField("Save category")


def audit_form(areas: list[tuple[str, str]], optional: tuple[str, ...] = ()) -> type[FlaskForm]:
    """The audit form has a grade and evidence for each area; the caller names the areas."""

    class AuditForm(FlaskForm):
        carried_out_on = DateField("Date of the audit", validators=[InputRequired(message="Enter the date.")])
        safeguarding_met = RadioField("Safeguarding", choices=[("met", "Met"), ("not_met", "Not Met")],
                                      validators=[InputRequired(message="Say whether safeguarding is met.")])
        safeguarding_evidence = TextAreaField("Safeguarding evidence", validators=[Optional(), Length(max=4000)])
        submit = SubmitField("Save the audit")

    for key, label in areas:
        choices = ([("", "Not applicable")] if key in optional else [("", "Choose a grade")]) + GRADE_CHOICES
        validators = [Optional()] if key in optional else [DataRequired(message=f"Grade {label}.")]
        setattr(AuditForm, f"grade_{key}", SelectField(f"{label}: grade", choices=choices, validators=validators))
        setattr(AuditForm, f"evidence_{key}", TextAreaField(f"{label}: evidence",
                                                            validators=[Optional(), Length(max=4000)]))
    return AuditForm


class DecisionForm(FlaskForm):
    category_id = SelectField("Category", coerce=int)
    effective_from = DateField("Effective from", validators=[InputRequired(message="Enter the date.")],
                               description="A mid-year change takes effect from this date.")
    rationale = TextAreaField("Rationale", validators=[DataRequired(message="Give the rationale."),
                                                       Length(max=4000)])
    submit = SubmitField("Record the decision")


class DisputeForm(FlaskForm):
    statement = TextAreaField("Why the school disputes its category",
                              validators=[DataRequired(message="Explain why the school disputes its category."),
                                          Length(max=4000)])
    submit = SubmitField("Send the dispute to the Chair")


class DisputeDecisionForm(FlaskForm):
    outcome = RadioField("The Chair's decision", choices=[("upheld", "Category upheld"),
                                                          ("changed", "Category changed")],
                         validators=[InputRequired(message="Choose the Chair's decision.")])
    new_category_id = SelectField("New category (when changed)", coerce=int, validators=[optional_choice()])
    decision = TextAreaField("The Chair's decision in writing",
                             validators=[DataRequired(message="Enter the Chair's decision."), Length(max=4000)])
    submit = SubmitField("Record the Chair's decision")


class ConfirmForm(FlaskForm):
    submit = SubmitField("Record the board's confirmation")
