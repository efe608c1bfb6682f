"""Account administration forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from forms import optional_choice

ROLE_CHOICES = [
    ("headteacher", "Headteacher"),
    ("school_staff", "School staff"),
    ("executive", "Executive team"),
    ("ceo", "CEO"),
    ("trustee", "Trustee"),
    ("admin", "Administrator"),
]


class UserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(message="Enter the person's name."), Length(max=200)])
    email = EmailField("Email address", validators=[DataRequired(message="Enter an email address."),
                                                    Email(message="Enter a valid email address."),
                                                    Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    school_id = SelectField("School", coerce=int, validators=[optional_choice()],
                            description="Needed for headteachers and school staff; ignored for trust-wide roles.")
    password = PasswordField("Password", validators=[DataRequired(message="Enter a password."), Length(max=128)],
                             description="At least 10 characters. Long phrases are good; common passwords are refused.")
    submit = SubmitField("Create account")


class EditUserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(message="Enter the person's name."), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    school_id = SelectField("School", coerce=int, validators=[optional_choice()])
    active = BooleanField("Account is active (untick to disable it and end its sessions)")
    submit = SubmitField("Save changes")


class PasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(message="Enter a password."), Length(max=128)])
    confirm = PasswordField("Repeat the new password",
                            validators=[EqualTo("password", message="The two passwords are different.")])
    submit = SubmitField("Set password")
