"""The data model; every aggregate's module is re-exported here."""

from app.models.audit import AuditEvent
from app.models.job import Job, JobStatus
from app.models.school import PHASE_LABELS, Phase, School
from app.models.settings import TrustSettings
from app.models.user import ROLE_LABELS, SCHOOL_ROLES, Role, User

__all__ = [
    "AuditEvent",
    "Job",
    "JobStatus",
    "PHASE_LABELS",
    "Phase",
    "ROLE_LABELS",
    "Role",
    "SCHOOL_ROLES",
    "School",
    "TrustSettings",
    "User",
]
