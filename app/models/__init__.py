"""The data model; every aggregate's module is re-exported here."""

from app.models.audit import AuditEvent
from app.models.category import (
    AREA_LABELS,
    GRADE_LABELS,
    Area,
    AuditGrade,
    Category,
    CategoryDispute,
    CategoryScheme,
    DisputeOutcome,
    Grade,
    SchoolAudit,
    SchoolCategorisation,
)
from app.models.job import Job, JobStatus
from app.models.nomination import CLOSED_STATES, STATE_LABELS, Nomination, NominationEvent, NominationState
from app.models.outbox import OutboxMessage
from app.models.priority import ImprovementPriority
from app.models.register import (
    AUDIT_AREAS,
    DESIGNATION_LABELS,
    KEY_STAGES,
    SUBJECTS,
    WEEKDAYS,
    Availability,
    Designation,
    DevelopmentKind,
    DevelopmentRecord,
    EntryStatus,
    RegisterEntry,
    RegisterTag,
    TagKind,
)
from app.models.request import Funding, KeyStage, RequestStatus, SupportRequest, SupportType
from app.models.school import PHASE_LABELS, Phase, School
from app.models.settings import TrustSettings
from app.models.user import ROLE_LABELS, SCHOOL_ROLES, Role, User
from app.models.visit import Visit, VisitType

__all__ = [
    "AREA_LABELS",
    "Area",
    "AuditEvent",
    "Job",
    "JobStatus",
    "AuditGrade",
    "Category",
    "CategoryDispute",
    "CategoryScheme",
    "DisputeOutcome",
    "Funding",
    "GRADE_LABELS",
    "Grade",
    "ImprovementPriority",
    "KeyStage",
    "AUDIT_AREAS",
    "Availability",
    "AuditEvent",
    "CLOSED_STATES",
    "DESIGNATION_LABELS",
    "Designation",
    "DevelopmentKind",
    "DevelopmentRecord",
    "EntryStatus",
    "KEY_STAGES",
    "Nomination",
    "NominationEvent",
    "NominationState",
    "OutboxMessage",
    "RegisterEntry",
    "RegisterTag",
    "STATE_LABELS",
    "SUBJECTS",
    "TagKind",
    "WEEKDAYS",
    "PHASE_LABELS",
    "Phase",
    "ROLE_LABELS",
    "RequestStatus",
    "Role",
    "SCHOOL_ROLES",
    "School",
    "SchoolAudit",
    "SchoolCategorisation",
    "SupportRequest",
    "SupportType",
    "TrustSettings",
    "User",
    "Visit",
    "VisitType",
]
