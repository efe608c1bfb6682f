"""Domain errors: services raise them, views turn them into form errors or 4xx pages."""


class DomainError(Exception):
    """Something the user asked for cannot be done; the message says why, in their words."""

    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class ValidationError(DomainError):
    status_code = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class IllegalTransition(DomainError):
    """A workflow step that is not allowed from the current state."""

    status_code = 409


class Conflict(DomainError):
    status_code = 409
