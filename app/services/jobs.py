"""Run long work in the background: an RQ worker on Redis when REDIS_URL is set, a thread otherwise.

A job's handler does its work and its writes in one transaction that commits only on success, so a failed,
cancelled or killed job leaves nothing half-done. A running job beats a heartbeat; one whose heartbeat stops
(its worker was killed) is marked failed by `reap_stale` and can be retried.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from app.extensions import db
from app.models import Job, JobStatus, User
from app.models.types import utcnow
from app.services import audit
from app.services.errors import IllegalTransition, NotFound

QUEUE_NAME = "trust-jobs"
STALE_AFTER = timedelta(seconds=60)


class Cancelled(Exception):
    """Raised inside a handler when the user asked to stop the job."""


class Reporter:
    """Handed to a handler: report progress, beat the heartbeat, and learn whether to stop."""

    def __init__(self, job_id: int, app: Flask):
        self.job_id = job_id
        self.app = app

    def _update(self, **values) -> bool:
        # A separate connection, so progress is visible while the handler's own transaction is still open.
        with self.app.app_context(), db.engine.begin() as conn:
            conn.execute(Job.__table__.update().where(Job.id == self.job_id).values(heartbeat_at=utcnow(), **values))
            return bool(conn.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))

    def progress(self, message: str) -> None:
        if self._update(progress=message[:300]):
            raise Cancelled()

    def beat(self) -> None:
        if self._update():
            raise Cancelled()


Handler = Callable[[Job, Reporter], dict]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def get(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound("There is no such job.")
    return job


def submit(kind: str, payload: dict, actor: User | None, *, commit: bool = True) -> Job:
    if kind not in HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    job = Job(kind=kind, payload=payload, status=JobStatus.QUEUED, created_by_id=actor.id if actor else None)
    db.session.add(job)
    db.session.flush()
    audit.record("job.submitted", target_type="job", target_id=job.id, details={"kind": kind}, actor=actor)
    if commit:
        db.session.commit()
        dispatch(job.id)
    return job


def dispatch(job_id: int) -> None:
    app = current_app._get_current_object()
    if app.config.get("JOBS_SYNCHRONOUS"):
        run(job_id, app)
    elif app.config.get("REDIS_URL") and not app.config.get("JOBS_IN_PROCESS"):
        from redis import Redis
        from rq import Queue

        queue = Queue(QUEUE_NAME, connection=Redis.from_url(app.config["REDIS_URL"]))
        queue.enqueue("app.services.jobs.run", job_id, job_timeout=app.config.get("JOB_TIMEOUT_S", 1800))
    elif app.config.get("JOBS_MANUAL"):
        return  # tests: the job stays queued until the test runs it (jobs.run) or opts into threads
    else:
        threading.Thread(target=run, args=(job_id, app), daemon=True, name=f"job-{job_id}").start()


def run(job_id: int, app: Flask | None = None) -> None:
    """Execute one job; called by the RQ worker, a thread, or a test."""
    if app is None:
        if has_app_context():
            app = current_app._get_current_object()
        else:
            from app import create_app

            app = create_app()
    with app.app_context():
        job = db.session.get(Job, job_id)
        if job is None or job.status is not JobStatus.QUEUED:
            return
        job.status = JobStatus.RUNNING
        job.started_at = job.heartbeat_at = utcnow()
        job.attempts += 1
        db.session.commit()
        reporter = Reporter(job_id, app)
        try:
            if job.cancel_requested:
                raise Cancelled()
            result = HANDLERS[job.kind](job, reporter)
        except Cancelled:
            db.session.rollback()
            _finish(job_id, JobStatus.CANCELLED, error="Cancelled at the user's request.")
        except Exception as exc:  # noqa: BLE001 - any failure must leave a clear state, never a stuck job
            db.session.rollback()
            current_app.logger.exception("job %s failed", job_id)
            _finish(job_id, JobStatus.FAILED, error=_explain(exc))
        else:
            job = db.session.get(Job, job_id)
            job.status = JobStatus.SUCCEEDED
            job.result = result
            job.finished_at = utcnow()
            job.progress = "Finished"
            db.session.commit()


def _explain(exc: Exception) -> str:
    from app.services.errors import DomainError

    if isinstance(exc, DomainError):
        return str(exc)
    return f"The job stopped with an unexpected error ({type(exc).__name__}). It has been logged; try again."


def _finish(job_id: int, status: JobStatus, error: str | None) -> None:
    job = db.session.get(Job, job_id)
    job.status = status
    job.error = error
    job.finished_at = utcnow()
    db.session.commit()


def cancel(job_id: int, actor: User) -> Job:
    job = get(job_id)
    if job.status.finished:
        raise IllegalTransition(f"This job has already {job.status.value}; there is nothing to cancel.")
    job.cancel_requested = True
    if job.status is JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED
        job.finished_at = utcnow()
        job.error = "Cancelled before it started."
    audit.record("job.cancelled", target_type="job", target_id=job.id, actor=actor)
    db.session.commit()
    return job


def reap_stale(now=None) -> int:
    """Mark running jobs whose worker stopped beating as failed; returns how many."""
    now = now or utcnow()
    stale = list(db.session.scalars(select(Job).where(Job.status == JobStatus.RUNNING,
                                                      Job.heartbeat_at < now - STALE_AFTER)))
    for job in stale:
        job.status = JobStatus.FAILED
        job.finished_at = now
        job.error = "The worker running this job stopped (it may have been restarted). Nothing was saved; retry it."
    if stale:
        db.session.commit()
    return len(stale)


def retry(job_id: int, actor: User) -> Job:
    job = get(job_id)
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise IllegalTransition("Only a failed or cancelled job can be retried.")
    job.status = JobStatus.QUEUED
    job.cancel_requested = False
    job.error = None
    job.progress = "Queued again"
    job.started_at = job.finished_at = None
    audit.record("job.retried", target_type="job", target_id=job.id, actor=actor)
    db.session.commit()
    dispatch(job.id)
    return job
