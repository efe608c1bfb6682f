"""Application factory: load config, bind extensions, register blueprints, errors and commands."""

from __future__ import annotations

import os

from flask import Flask

from app.config import CONFIGS, ProductionConfig


def create_app(config: str | dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", instance_path=None)
    """`config` names an environment ("testing") or is a dict of settings, optionally with APP_ENV."""
    if isinstance(config, str):
        name = config
    elif isinstance(config, dict) and "APP_ENV" in config:
        name = config["APP_ENV"]
    else:
        name = os.environ.get("APP_ENV", "development")
    app.config.from_object(CONFIGS[name])
    if isinstance(config, dict):
        app.config.update(config)
    if name == "production":
        ProductionConfig.check(app.config)
    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from app.extensions import bootstrap, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app.views import (
        admin,
        allocation,
        audit,
        auth,
        categories,
        main,
        nominations,
        priorities,
        privacy,
        register,
        reports,
        requests,
        schools,
        visits,
    )

    for module in (auth, main, admin, schools, audit, register, nominations, categories, priorities, requests,
                   visits, privacy, allocation, reports):
        app.register_blueprint(module.bp)


def register_hooks(app: Flask) -> None:
    from app import errors, formatting, logsetup, navigation, security

    logsetup.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    formatting.init_app(app)
    navigation.init_app(app)


def register_commands(app: Flask) -> None:
    from app import cli

    cli.init_app(app)
