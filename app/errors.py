"""Plain error pages: never a traceback, always a way back."""

from __future__ import annotations

import contextlib

from flask import Flask, g, render_template
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from app.extensions import db, login_manager
from app.services.errors import DomainError

MESSAGES = {
    400: ("Something in that request was not right", "Go back, check what you entered and try again."),
    403: ("You do not have access to this page", "If you think you should, ask your trust's administrator."),
    404: ("Page not found", "Check the address, or use the menu to find what you need."),
    405: ("That action is not allowed here", "Use the buttons on the page rather than typing the address."),
    409: ("That cannot be done now",
          "The record has moved on since you opened it. Reload the page to see where it is."),
    413: ("The file is too large", "Files may be at most 5 MB. Split it, or remove unused columns."),
    429: ("Too many attempts", "Wait a few minutes before trying again."),
    500: ("Sorry, something went wrong", "The problem has been logged. Try again in a few minutes."),
    503: ("The service is unavailable", "The database is not answering. Try again in a minute."),
}


def render_error(code: int, detail: str | None = None):
    title, advice = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, advice=advice, detail=detail), code


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        detail = exc.description if exc.code in (400, 409) and isinstance(exc.description, str) else None
        return render_error(exc.code or 500, detail)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        db.session.rollback()
        return render_error(exc.status_code, str(exc))

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):
        app.logger.error("database unavailable: %s", type(exc.orig).__name__)
        with contextlib.suppress(Exception):  # the connection is gone; the pool replaces it (pool_pre_ping)
            db.session.rollback()
        # Render without the database: the signed-in user would need loading (or reloading after the
        # rollback), which would fail again and turn the plain 503 into a 500.
        g._login_user = login_manager.anonymous_user()
        response, code = render_error(503)
        return response, code, {"Retry-After": "30", "Cache-Control": "no-store"}

    @app.errorhandler(DataError)
    def _data_refused(exc: DataError):
        # A value the database cannot hold (too long, out of range): bad input, not a fault of the service.
        app.logger.error("database refused a value: %s", type(exc.orig).__name__)
        db.session.rollback()
        return render_error(400)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        db.session.rollback()
        return render_error(500)
