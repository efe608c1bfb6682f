"""Data protection forms: subject access, erasure with a second confirmation, retention periods."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange


class SubjectAccessForm(FlaskForm):
    email = StringField("Email address of the person", validators=[
        DataRequired(message="Enter the person's email address."),
        Email(message="Enter an email address like name@school.example."), Length(max=254)],
        description="Every record that names this address, or the account and register entry that have it.")
    submit = SubmitField("Download their data (JSON)")


class EraseForm(FlaskForm):
    email = StringField("Email address of the person", validators=[
        DataRequired(message="Enter the person's email address."),
        Email(message="Enter an email address like name@school.example."), Length(max=254)])
    reason = TextAreaField("Why their data is being erased", validators=[
        DataRequired(message="Say why the person's data is being erased."),
        Length(max=500, message="Keep the reason to 500 characters or fewer.")],
        description="For example: their written request of 3 November, checked by the data protection officer.")
    submit = SubmitField("Continue")


class EraseConfirmForm(FlaskForm):
    email = HiddenField()
    reason = HiddenField()
    confirm_email = StringField("Type the email address again to confirm", validators=[
        DataRequired(message="Type the email address again to confirm."), Length(max=254)])
    understood = BooleanField("I understand that this cannot be undone", validators=[
        InputRequired(message="Confirm that you understand this cannot be undone.")])
    submit = SubmitField("Erase their data")


class RetentionForm(FlaskForm):
    keep_months = IntegerField("Keep for (months)", validators=[
        InputRequired(message="Enter the number of months."),
        NumberRange(min=1, max=240, message="Enter a number of months between 1 and 240 (20 years).")])
    submit = SubmitField("Save")
