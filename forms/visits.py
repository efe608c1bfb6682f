"""Visit and note of visit forms."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional


def visit_form(areas: list[tuple[str, str]]) -> type[FlaskForm]:
    """A note of visit with an evaluation box for each area the caller names."""

    class VisitForm(FlaskForm):
        school_id = SelectField("School", coerce=int)
        visit_date = DateField("Date of the visit", validators=[InputRequired(message="Enter the date.")])
        visitor_id = SelectField("Visitor", coerce=int)
        visit_type = SelectField("Type of visit")
        evidence = TextAreaField("Evidence", validators=[Optional(), Length(max=4000)])
        going_well = TextAreaField("What is going well", validators=[Optional(), Length(max=4000)])
        next_steps = TextAreaField("Next steps", validators=[Optional(), Length(max=4000)])
        submit = SubmitField("Save the note of visit")

    for key, label in areas:
        setattr(VisitForm, f"evaluation_{key}",
                TextAreaField(f"Evaluation: {label}", validators=[Optional(), Length(max=4000)]))
    return VisitForm


class ShareForm(FlaskForm):
    submit = SubmitField("Share with the headteacher")
