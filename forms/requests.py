"""Support request forms: the trust-wide template, submission with consent, triage and impact."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class RequestForm(FlaskForm):
    priority_id = SelectField("Improvement priority this serves", coerce=int)
    title = StringField("Short title", validators=[DataRequired(message="Give the request a short title."),
                                                   Length(max=200)])
    area = SelectField("Area")
    phase = SelectField("Phase")
    key_stage = SelectField("Key stage")
    need = TextAreaField("The need", validators=[DataRequired(message="Describe the need."), Length(max=4000)],
                         description="In your own words: what is happening and who is affected.")
    evidence = TextAreaField("Evidence of the need",
                             validators=[DataRequired(message="Give the evidence for the need."), Length(max=4000)],
                             description="Data, monitoring and external findings.")
    desired_outcomes = TextAreaField(
        "Desired outcomes and success criteria",
        validators=[DataRequired(message="Describe the desired outcomes and how you will measure them."),
                    Length(max=2000)], description="Measurable success criteria.")
    target_date = DateField("Target date for the outcomes",
                            validators=[InputRequired(message="Enter the target date.")])
    support_type = SelectField("Type of support")
    days_requested = DecimalField("Days of support requested", places=1,
                                  validators=[InputRequired(message="Enter the number of days."),
                                              NumberRange(min=0.5, max=60,
                                                          message="Days requested must be more than 0 and at "
                                                                  "most 60.")],
                                  description="Half days allowed, for example 2.5; at most 60.")
    term = SelectField("Preferred term")
    preferred_dates = StringField("Preferred dates or days of the week", validators=[Optional(), Length(max=300)])
    funding = RadioField("Funding", validators=[InputRequired(message="Choose how the support is funded.")])
    budget_gbp = DecimalField("Budget the school has (£)", places=2, validators=[Optional(), NumberRange(min=0)],
                              description="Needed for second-tier support, which is charged to the school.")
    submit = SubmitField("Save draft")


class SubmitRequestForm(FlaskForm):
    consent = BooleanField("As headteacher, I consent to this request and to sharing it with the trust's "
                           "executive team and the staff who may support us")
    submit = SubmitField("Submit the request")


class TriageForm(FlaskForm):
    decision = RadioField("Decision", choices=[("accept", "Accept for matching"),
                                               ("return", "Return for more information"),
                                               ("decline", "Decline")],
                          validators=[InputRequired(message="Choose a decision.")])
    note = TextAreaField("Note to the school", validators=[Optional(), Length(max=2000)],
                         description="Needed when returning (what more is needed) or declining (the reason).")
    submit = SubmitField("Record the decision")


class CompleteForm(FlaskForm):
    submit = SubmitField("Mark the support completed")


class ImpactForm(FlaskForm):
    rating = RadioField("Impact against the success criteria", coerce=int,
                        choices=[(1, "1 – no impact"), (2, "2 – a little"), (3, "3 – partly met"),
                                 (4, "4 – mostly met"), (5, "5 – fully met")],
                        validators=[InputRequired(message="Choose a rating from 1 to 5.")])
    narrative = TextAreaField("What changed", validators=[DataRequired(message="Describe the impact."),
                                                          Length(max=4000)])
    submit = SubmitField("Record the impact")


class SupporterNoteForm(FlaskForm):
    note = TextAreaField("Supporter's note", validators=[DataRequired(message="Enter the supporter's note."),
                                                         Length(max=4000)])
    submit = SubmitField("Save the supporter's note")
