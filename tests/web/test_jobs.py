"""Background jobs: success, failure leaving nothing behind, cancellation, stale workers, retry, RQ."""

import time
import uuid
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import AuditEvent, Job, JobStatus, Role
from app.models.types import utcnow
from app.services import audit, jobs
from app.services.errors import IllegalTransition, ValidationError
from tests import factories


@jobs.handler("test.ok")
def _ok(job, reporter):
    reporter.progress("half way")
    audit.record("test.job_write", details={"n": job.payload["n"]})
    return {"doubled": job.payload["n"] * 2}


@jobs.handler("test.fails")
def _fails(job, reporter):
    audit.record("test.job_write", details={"n": 1})
    raise ValidationError("The scenario has no requests to match.")


@jobs.handler("test.slow")
def _slow(job, reporter):
    for _ in range(200):
        reporter.beat()
        time.sleep(0.02)
    return {}


def _writes(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "test.job_write"))


@pytest.fixture
def sync_jobs(app):
    app.config["JOBS_SYNCHRONOUS"] = True
    yield
    app.config["JOBS_SYNCHRONOUS"] = False


def test_job_succeeds_and_commits_its_writes(app, sync_jobs):
    with app.app_context():
        job = jobs.submit("test.ok", {"n": 21}, None)
        job = db.session.get(Job, job.id)
        db.session.refresh(job)
        assert job.status is JobStatus.SUCCEEDED and job.result == {"doubled": 42}
    assert _writes(app) == 1


def test_failed_job_leaves_nothing_and_says_why(app, sync_jobs):
    with app.app_context():
        job_id = jobs.submit("test.fails", {}, None).id
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.FAILED
        assert job.error == "The scenario has no requests to match."
    assert _writes(app) == 0


def test_cancel_a_running_job(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_MANUAL", False)  # a real thread this time
    with app.app_context():
        user = factories.user(role=Role.CEO)
        job_id = jobs.submit("test.slow", {}, user).id  # a real thread
        deadline = time.time() + 5
        while time.time() < deadline:
            db.session.expire_all()
            if db.session.get(Job, job_id).status is JobStatus.RUNNING:
                break
            time.sleep(0.02)
        jobs.cancel(job_id, user)
        while time.time() < deadline:
            db.session.expire_all()
            if db.session.get(Job, job_id).status.finished:
                break
            time.sleep(0.05)
        assert db.session.get(Job, job_id).status is JobStatus.CANCELLED
        with pytest.raises(IllegalTransition):
            jobs.cancel(job_id, user)


def test_stale_job_is_failed_and_can_be_retried(app, sync_jobs):
    with app.app_context():
        user = factories.user(role=Role.CEO)
        job = Job(kind="test.ok", payload={"n": 1}, status=JobStatus.RUNNING,
                  heartbeat_at=utcnow() - timedelta(minutes=5))
        db.session.add(job)
        db.session.commit()
        assert jobs.reap_stale() == 1
        assert "worker running this job stopped" in job.error
        jobs.retry(job.id, user)
        db.session.expire_all()
        assert db.session.get(Job, job.id).status is JobStatus.SUCCEEDED


def test_rq_worker_runs_the_job(app):
    """With Redis, the job goes through a real RQ queue and worker."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    url = "redis://127.0.0.1:6379/0"
    app.config.update(REDIS_URL=url)
    queue_name = f"{jobs.QUEUE_NAME}"
    try:
        with app.app_context():
            connection = Redis.from_url(url)
            Queue(queue_name, connection=connection).empty()
            job_id = jobs.submit("test.ok", {"n": 5}, None).id
            worker = SimpleWorker([Queue(queue_name, connection=connection)], connection=connection,
                                  name=f"test-{uuid.uuid4().hex[:8]}")
            # The job function builds its own app unless one is active; the test's app context is active here.
            worker.work(burst=True)
            db.session.expire_all()
            job = db.session.get(Job, job_id)
            assert job.status is JobStatus.SUCCEEDED and job.result == {"doubled": 10}
    finally:
        app.config.update(REDIS_URL=None)
