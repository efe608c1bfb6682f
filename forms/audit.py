"""Audit log filters (GET form, no CSRF needed as it changes nothing)."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional

from forms import optional_choice


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField("Action", choices=[("", "Any action")], validators=[optional_choice()])
    actor = StringField("Who (email contains)", validators=[Optional(), Length(max=254)])
    since = DateField("From", validators=[Optional()])
    until = DateField("Up to and including", validators=[Optional()])
    submit = SubmitField("Filter")
