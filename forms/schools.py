"""School forms: details and the GIAS import."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DecimalField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

PHASE_CHOICES = [
    ("nursery", "Nursery"),
    ("primary", "Primary"),
    ("secondary", "Secondary"),
    ("special", "Special"),
    ("all-through", "All-through"),
    ("post-16", "16 plus"),
]


class SchoolForm(FlaskForm):
    urn = StringField("URN", validators=[DataRequired(message="Enter the school's URN."),
                                         Regexp(r"^\d{6}$", message="The URN must be exactly 6 digits.")],
                      description="The 6-digit unique reference number from Get Information about Schools.")
    name = StringField("School name", validators=[DataRequired(message="Enter the school's name."), Length(max=200)])
    phase = SelectField("Phase", choices=PHASE_CHOICES)
    pupils = IntegerField("Number of pupils", validators=[Optional(), NumberRange(min=0, max=10000)])
    postcode = StringField("Postcode", validators=[Optional(), Length(max=10)])
    local_authority = StringField("Local authority", validators=[Optional(), Length(max=100)])
    latitude = DecimalField("Latitude", places=5, validators=[Optional(), NumberRange(min=49, max=61)])
    longitude = DecimalField("Longitude", places=5, validators=[Optional(), NumberRange(min=-9, max=2.5)])
    submit = SubmitField("Save school")


class ImportForm(FlaskForm):
    file = FileField("GIAS extract (.csv)", validators=[
        FileRequired(message="Choose a file to upload."),
        FileAllowed(["csv", "xlsx"], message="Upload a .csv or .xlsx file."),
    ], description="Download it from Get Information about Schools: the columns URN, EstablishmentName and "
                   "PhaseOfEducation (name) are needed; Postcode, LA (name), NumberOfPupils, Easting and "
                   "Northing are used when present.")
    submit = SubmitField("Check the file")


class ConfirmImportForm(FlaskForm):
    filename = HiddenField()
    content = HiddenField()
    submit = SubmitField("Import these schools")
