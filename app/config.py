"""Settings, read from environment variables; one class per environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - the production config refuses it


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Heroku-style and plain postgres URLs name the old driver; this app uses psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    INSTANCE_PATH = Path(os.environ.get("INSTANCE_PATH", Path(__file__).resolve().parent.parent / "instance"))
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    # Fernet keys for secrets kept in the database (two-step sign-in secrets), newest first, comma-separated.
    # Unset, one key is derived from SECRET_KEY; set it before ever rotating SECRET_KEY (see README).
    DATA_ENCRYPTION_KEYS = os.environ.get("DATA_ENCRYPTION_KEYS", "")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_PATH / 'trust.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    TRUST_NAME = os.environ.get("TRUST_NAME", "Fellside Learning Trust")

    # Sessions: signed cookie, HttpOnly, SameSite=Lax; idle and absolute limits enforced on every request.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    SESSION_COOKIE_NAME = "trust_session"
    IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("IDLE_TIMEOUT_MINUTES", "240")))
    ABSOLUTE_TIMEOUT = timedelta(hours=int(os.environ.get("ABSOLUTE_TIMEOUT_HOURS", "12")))
    PERMANENT_SESSION_LIFETIME = IDLE_TIMEOUT
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    # Login throttling. Redis when configured, in memory otherwise; memory fallback if Redis goes down.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "30 per 15 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")

    # argon2id cost; RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes).
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "3"))
    ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", str(64 * 1024)))
    ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", "4"))

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session, which has its own limits
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_BYTES", str(5 * 1024 * 1024)))

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None
    HSTS = False

    # Email: every message goes through the outbox table; this picks how the outbox is delivered.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")  # console | file | smtp
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR", str(INSTANCE_PATH / "mail"))
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "school-improvement@trust.example")

    # json: one JSON object per line; text: readable, with CR/LF escaped. Either way input cannot forge a line.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")

    DEBUG = _bool("FLASK_DEBUG", False)
    TESTING = False


class DevelopmentConfig(Config):
    DEBUG = _bool("FLASK_DEBUG", False)


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    RATELIMIT_STORAGE_URI = "memory://"
    # Cheap hashes keep the suite fast; a test checks the production parameters separately.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    MAIL_BACKEND = "memory"
    # A test that starts a run decides how it executes (JOBS_SYNCHRONOUS, jobs.run, or a thread), so fuzzing
    # the start page cannot leave matcher processes running behind the suite.
    JOBS_MANUAL = True


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    HSTS = True

    @classmethod
    def check(cls, config: dict) -> None:
        """Refuse to start with settings that are only safe on a developer's laptop."""
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEFAULT_SECRET_KEY or len(
            config["SECRET_KEY"]
        ) < 32:
            raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 characters in production")
        if config.get("DEBUG"):
            raise RuntimeError("FLASK_DEBUG must be off in production")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
