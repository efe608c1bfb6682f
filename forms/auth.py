"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(message="Enter your email address."),
                                                    Email(message="Enter a valid email address."),
                                                    Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."),
                                                     Length(max=128)])
    submit = SubmitField("Sign in")


class ConfirmForm(FlaskForm):
    """A form with only a CSRF token and a button, for actions such as signing out."""

    submit = SubmitField("Confirm")


class CodeForm(FlaskForm):
    """A 6-digit code from an authenticator app."""

    code = StringField("Code from your authenticator app",
                       validators=[DataRequired(message="Enter the 6-digit code."), Length(max=12)],
                       description="6 digits; a new one appears every 30 seconds.",
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 12})
    submit = SubmitField("Continue")
