"""Report forms: the term a dashboard or export is for (a GET form, so the address can be bookmarked)."""

from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField

TERM_CHOICES = [("autumn", "Autumn"), ("spring", "Spring"), ("summer", "Summer")]


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    year = SelectField("Academic year")
    term = SelectField("Term", choices=TERM_CHOICES)
    submit = SubmitField("Show this term")
