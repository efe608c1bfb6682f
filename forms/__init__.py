"""WTForms classes, one module per area; they never import the app."""

from wtforms.validators import Optional


def optional_choice() -> Optional:
    """For select fields: no choice is allowed, but whitespace is not "no choice".

    WTForms' Optional() strips whitespace before deciding, so " " counted as empty and also cleared the
    field's "Not a valid choice" error, letting a value outside the choices reach the view (the fuzz
    tests found `?state=%20` giving a server error on the nominations list)."""
    return Optional(strip_whitespace=False)
