"""The data model; every aggregate's module is re-exported here."""

from app.models.audit import AuditEvent
from app.models.nomination import CLOSED_STATES, STATE_LABELS, Nomination, NominationEvent, NominationState
from app.models.outbox import OutboxMessage
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
from app.models.school import PHASE_LABELS, Phase, School
from app.models.settings import TrustSettings
from app.models.user import ROLE_LABELS, SCHOOL_ROLES, Role, User

__all__ = [
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
    "Role",
    "SCHOOL_ROLES",
    "School",
    "TrustSettings",
    "User",
]
