"""Improvement priority form."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class PriorityForm(FlaskForm):
    school_id = SelectField("School", coerce=int, description="Trust-wide priorities span three academic years.")
    year = SelectField("Academic year", coerce=int)
    area = SelectField("Area")
    title = StringField("Priority", validators=[DataRequired(message="Enter the priority in a sentence."),
                                                Length(max=200)],
                        description="For example: Improve early reading: Year 1 phonics screening check pass rate "
                                    "from 61% to 85%.")
    description = TextAreaField("Description", validators=[DataRequired(message="Enter a description."),
                                                           Length(max=2000)])
    success_criteria = TextAreaField("Success criteria",
                                     validators=[DataRequired(message="Enter the success criteria."),
                                                 Length(max=2000)],
                                     description="Measurable: what will be different, by how much, by when.")
    submit = SubmitField("Save priority")
