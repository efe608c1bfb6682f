"""Allocation forms: start a run, decide on proposals, release and accept."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

TERM_CHOICES = [("autumn", "Autumn"), ("spring", "Spring"), ("summer", "Summer")]


class StartRunForm(FlaskForm):
    academic_year = SelectField("Academic year", coerce=int)
    term = SelectField("Term", choices=TERM_CHOICES)
    submit = SubmitField("Start an allocation run")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ApproveForm(FlaskForm):
    allocation_ids = MultiCheckboxField("Allocations to approve", coerce=int,
                                        validators=[DataRequired(message="Tick at least one allocation to approve.")])
    submit = SubmitField("Approve the ticked allocations")


class RejectForm(FlaskForm):
    reason = TextAreaField("Reason for rejecting", validators=[
        DataRequired(message="Give a reason for rejecting this allocation."), Length(max=1000)])
    submit = SubmitField("Reject")


class SwapForm(FlaskForm):
    entry_id = SelectField("Swap in", coerce=int)
    submit = SubmitField("Swap")


class PairForm(FlaskForm):
    request_id = HiddenField(validators=[DataRequired()])
    entry_id = IntegerField("Register entry", validators=[InputRequired()])
    choice = SelectField("Rule", choices=[("pin", "Pin (must be matched)"), ("ban", "Ban (must not be matched)"),
                                          ("clear", "Clear the rule")])
    submit = SubmitField("Save the rule")


class ReleaseForm(FlaskForm):
    agree = RadioField("Can you release them for these days?",
                       choices=[("yes", "Yes, I release them"), ("no", "No, I cannot release them")],
                       validators=[InputRequired(message="Say whether you can release them.")])
    reason = TextAreaField("If not, why not?", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("Send my answer")


class AcceptForm(FlaskForm):
    submit = SubmitField("Accept this assignment")


class ConfirmForm(FlaskForm):
    submit = SubmitField("Confirm")
