"""Log records that user input cannot forge: JSON Lines by default, or text with CR/LF escaped."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from flask import Flask
from flask.logging import default_handler


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record; a traceback goes into the `exc` field, so it stays on the same line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=True)


class EscapedTextFormatter(logging.Formatter):
    """Readable text on one line per record: CR and LF in the message and traceback are written as \\r and \\n."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.msg, record.args = _escape(record.getMessage()), None
        exc_info, record.exc_info, record.exc_text = record.exc_info, None, None
        line = super().format(record)
        if exc_info:
            line += " | " + _escape(self.formatException(exc_info))
        return line


def formatter(kind: str) -> logging.Formatter:
    return EscapedTextFormatter() if kind == "text" else JsonLinesFormatter()


def init_app(app: Flask) -> None:
    default_handler.setFormatter(formatter(app.config.get("LOG_FORMAT", "json")))
    # Flask leaves its handler out when something (a test runner, a server) configured logging first;
    # the app's own lines must go through the safe formatter whatever else is listening.
    app.logger.addHandler(default_handler)
