"""Nomination forms: the nomination, the reference template, the visit, the interview, the offer, decisions."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange

from forms import optional_choice
from forms.register import AREAS, KEY_STAGES, PHASES, MultiCheckboxField

NOMINATED = [("sle", "Specialist Leader of Education (SLE)"), ("nle", "National Leader of Education (NLE)"),
             ("specialist", "Specialist"), ("lead_practitioner", "Lead practitioner"), ("headteacher", "Headteacher")]
STATES = [("", "Any state"), ("draft", "Draft"), ("submitted", "Submitted, awaiting reference"),
          ("reference_completed", "Reference completed, awaiting visit"), ("visit_scheduled", "Visit scheduled"),
          ("interview_recorded", "Interview recorded, awaiting CEO"), ("offer_made", "Offer made"),
          ("accepted", "Accepted: on the register"), ("declined", "Declined"), ("withdrawn", "Withdrawn"),
          ("rejected", "Not taken forward")]


def _days(label):
    return DecimalField(label, places=1, default=0, validators=[
        InputRequired(message=f"Enter the days in the {label.split()[0]} term (0 if none)."),
        NumberRange(min=0, max=60, message="Between 0 and 60 days.")])


class NominationForm(FlaskForm):
    nominee_name = StringField("Nominee's full name", validators=[DataRequired(message="Enter the nominee's name."),
                                                                  Length(max=200)])
    nominee_email = StringField("Nominee's work email", validators=[
        DataRequired(message="Enter the nominee's email address."), Email(message="Enter a valid email address."),
        Length(max=254)])
    nominee_post = StringField("Their post", validators=[DataRequired(message="Enter their post."), Length(max=200)],
                               description="For example: Assistant headteacher and SENCo")
    designation = SelectField("Designation you propose", choices=NOMINATED)
    expertise = TextAreaField("Nature of their expertise", validators=[
        DataRequired(message="Describe their expertise."), Length(max=4000)],
        description="What they do well and the difference it has made, e.g. \"Read Write Inc. trainer; led "
                    "phonics from 58% to 89% PSC pass rate\".")
    areas = MultiCheckboxField("Audit areas", choices=[(a, a) for a in AREAS])
    subjects = MultiCheckboxField("Subjects and specialisms", choices=[])
    phases = MultiCheckboxField("Phases", choices=PHASES)
    key_stages = MultiCheckboxField("Key stages", choices=[(k, k) for k in KEY_STAGES])
    days_autumn = _days("Autumn term")
    days_spring = _days("Spring term")
    days_summer = _days("Summer term")
    day_rate = DecimalField("Backfill day rate (£)", places=2, default=0, validators=[
        InputRequired(message="Enter the day rate (0 if none)."), NumberRange(min=0, max=5000)],
        description="What the school you support pays yours to cover their absence.")
    submit = SubmitField("Save as draft")


class ReferenceForm(FlaskForm):
    expertise = TextAreaField("Their expertise", validators=[DataRequired(message="Describe their expertise."),
                                                              Length(max=4000)])
    impact = TextAreaField("Evidence of impact", validators=[DataRequired(message="Give the evidence of impact."),
                                                             Length(max=4000)],
                           description="Outcomes, monitoring, external validation.")
    capacity = TextAreaField("Capacity to support others", validators=[
        DataRequired(message="Describe their capacity to support others."), Length(max=4000)],
        description="Coaching, training or leading colleagues; how they work with adults.")
    release_agreed = BooleanField("The school agrees to release them for the days proposed")
    safeguarding_confirmed = BooleanField("I confirm there are no safeguarding concerns and their checks "
                                          "(enhanced DBS, training) are current")
    submit = SubmitField("Complete the reference")


class VisitForm(FlaskForm):
    visit_at = DateTimeLocalField("Date and time of the visit (UK time)", format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired(message="Enter the date and time of the visit.")])
    submit = SubmitField("Schedule the visit")


class InterviewForm(FlaskForm):
    observation_notes = TextAreaField("Observation notes", validators=[
        DataRequired(message="Enter the observation notes."), Length(max=4000)])
    interview_notes = TextAreaField("Semi-formal interview notes", validators=[
        DataRequired(message="Enter the interview notes."), Length(max=4000)])
    recommended = RadioField("Recommendation", choices=[("yes", "Recommend an offer"),
                                                        ("no", "Do not recommend an offer")],
                             validators=[InputRequired(message="Say whether you recommend an offer.")])
    submit = SubmitField("Record the interview")


class OfferForm(FlaskForm):
    designation = SelectField("Designation", choices=NOMINATED)
    days_autumn = _days("Autumn term")
    days_spring = _days("Spring term")
    days_summer = _days("Summer term")
    day_rate = DecimalField("Day rate (£)", places=2, validators=[
        InputRequired(message="Enter the day rate (0 if none)."), NumberRange(min=0, max=5000)])
    submit = SubmitField("Make the offer and write the letter")


class AcceptForm(FlaskForm):
    consent = BooleanField("I agree to be listed on the trust's talent register (or: the nominee has agreed)")
    submit = SubmitField("Accept the offer")


class ReasonForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(message="Give the reason."), Length(max=1000)])
    submit = SubmitField("Confirm")


class ButtonForm(FlaskForm):
    submit = SubmitField("Confirm")


class StateFilterForm(FlaskForm):
    class Meta:
        csrf = False

    state = SelectField("State", choices=STATES, validators=[optional_choice()])
    submit = SubmitField("Show")
