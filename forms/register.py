"""Talent register forms: browsing filters, an entry, availability, development record, renewal, import."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forms import optional_choice

AREAS = ["Curriculum and Teaching", "Inclusion", "Achievement", "Attendance and Behaviour",
         "Personal Development and Well-being", "Early Years", "Leadership and Governance"]
PHASES = [("nursery", "Nursery"), ("primary", "Primary"), ("secondary", "Secondary"), ("special", "Special"),
          ("all-through", "All-through"), ("post-16", "16 plus")]
KEY_STAGES = ["EYFS", "KS1", "KS2", "KS3", "KS4", "KS5"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
DESIGNATIONS = [("sle", "Specialist Leader of Education (SLE)"), ("nle", "National Leader of Education (NLE)"),
                ("specialist", "Specialist"), ("lead_practitioner", "Lead practitioner"),
                ("headteacher", "Headteacher"), ("trust_central", "Trust central staff"),
                ("external", "External consultant")]
STATUSES = [("active", "Active"), ("paused", "Paused"), ("lapsed", "Lapsed"), ("withdrawn", "Withdrawn")]
DEVELOPMENT = [("mentor", "Mentor"), ("course", "Course"), ("peer_review", "Peer review"),
               ("project", "Project led"), ("placement", "Placement in a partner school")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FilterForm(FlaskForm):
    """Browsing is a GET form: bookmarkable, and it changes nothing."""

    class Meta:
        csrf = False

    q = StringField("Search expertise", validators=[Optional(), Length(max=200)],
                    description="For example: phonics, EHCP, attendance, maths mastery")
    area = SelectField("Area", choices=[("", "Any area")] + [(a, a) for a in AREAS], validators=[optional_choice()])
    subject = SelectField("Subject", choices=[("", "Any subject")], validators=[optional_choice()])
    phase = SelectField("Phase", choices=[("", "Any phase")] + PHASES, validators=[optional_choice()])
    key_stage = SelectField("Key stage", choices=[("", "Any key stage")] + [(k, k) for k in KEY_STAGES],
                            validators=[optional_choice()])
    designation = SelectField("Designation", choices=[("", "Any designation")] + DESIGNATIONS,
                              validators=[optional_choice()])
    school_id = SelectField("School", coerce=int, choices=[(0, "Any school")], validators=[optional_choice()])
    status = SelectField("Status", choices=[("active", "Active"), ("", "Any status")] + STATUSES[1:],
                         validators=[optional_choice()], default="active")
    available = BooleanField("Only people with days left this term")
    sort = SelectField("Sort by", choices=[("name", "Name")], validators=[optional_choice()], default="name")
    submit = SubmitField("Search")


class EntryForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(message="Enter the person's name."), Length(max=200)])
    email = StringField("Email address", validators=[DataRequired(message="Enter an email address."),
                                                     Email(message="Enter a valid email address."),
                                                     Length(max=254)])
    post = StringField("Post", validators=[DataRequired(message="Enter their post."), Length(max=200)],
                       description="For example: Independent consultant, former HMI; MAT SENCo")
    designation = SelectField("Designation", choices=DESIGNATIONS)
    school_id = SelectField("School", coerce=int, choices=[(0, "No school (trust central or external)")],
                            validators=[optional_choice()])
    expertise = TextAreaField("Nature of expertise", validators=[
        DataRequired(message="Describe their expertise."), Length(max=4000)],
        description="In their own words: what they have done and the difference it made.")
    areas = MultiCheckboxField("Audit areas", choices=[(a, a) for a in AREAS])
    subjects = MultiCheckboxField("Subjects and specialisms", choices=[])
    phases = MultiCheckboxField("Phases", choices=PHASES)
    key_stages = MultiCheckboxField("Key stages", choices=[(k, k) for k in KEY_STAGES])
    days_autumn = DecimalField("Autumn term", places=1, default=0, validators=[
        InputRequired(message="Enter the days (0 if none)."), NumberRange(min=0, max=100)])
    days_spring = DecimalField("Spring term", places=1, default=0, validators=[
        InputRequired(message="Enter the days (0 if none)."), NumberRange(min=0, max=100)])
    days_summer = DecimalField("Summer term", places=1, default=0, validators=[
        InputRequired(message="Enter the days (0 if none)."), NumberRange(min=0, max=100)])
    preferred_days = MultiCheckboxField("Preferred days of the week", choices=[(d, d) for d in WEEKDAYS])
    max_travel_km = IntegerField("How far they will travel (km)", validators=[Optional(), NumberRange(min=0, max=500)])
    day_rate = DecimalField("Day rate (£)", places=2, default=0, validators=[
        InputRequired(message="Enter the day rate (0 if free)."), NumberRange(min=0, max=5000)],
        description="Backfill cost for school staff; the fee for an external consultant.")
    consent = BooleanField("They consent to being listed on the talent register")
    valid_until = DateField("Valid until", validators=[Optional()],
                            description="Leave empty for a year from today.")
    submit = SubmitField("Save")


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=[("active", "Active"), ("paused", "Paused"),
                                                ("withdrawn", "Withdrawn")])
    reason = StringField("Reason", validators=[Optional(), Length(max=1000)],
                         description="Needed when withdrawing someone from the register.")
    submit = SubmitField("Change status")


class DevelopmentForm(FlaskForm):
    kind = SelectField("Kind", choices=DEVELOPMENT)
    on = DateField("Date", validators=[DataRequired(message="Enter the date.")])
    text = StringField("What", validators=[DataRequired(message="Describe it briefly."), Length(max=1000)])
    submit = SubmitField("Add to the development record")


class RenewalConfirmForm(FlaskForm):
    still_in_post = BooleanField("They are still in post")
    still_available = BooleanField("They are still able to support other schools next year")
    submit = SubmitField("Confirm for renewal")


class ConfirmForm(FlaskForm):
    submit = SubmitField("Confirm")


class ImportForm(FlaskForm):
    file = FileField("Register file (.csv or .xlsx)", validators=[
        FileRequired(message="Choose a file to upload."),
        FileAllowed(["csv", "xlsx"], message="Upload a .csv or .xlsx file."),
    ], description="Use the columns of an export: Name, Email, School URN, Post, Designation, Expertise, Areas, "
                   "Subjects, Phases, Key stages, Academic year, Autumn days, Spring days, Summer days, Preferred "
                   "days, Travel km, Day rate, Consent, Status, Valid until.")
    submit = SubmitField("Check the file")


class ConfirmImportForm(FlaskForm):
    filename = HiddenField()
    content = HiddenField()
    submit = SubmitField("Import")
