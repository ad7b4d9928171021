"""The students app's models: the register (学籍), the identification of hardship (认定), publicity (公示)."""

from .identification import (
    ApplicationDecision,
    ApplicationStatus,
    Attachment,
    AttachmentKind,
    Decision,
    HardshipApplication,
    HardshipCategory,
    IdentifiedSummary,
    Tier,
    TierAdjustment,
    TierAdjustmentStatus,
)
from .publicity import Objection, ObjectionStatus, Publicity, PublicityEntry, PublicityStatus, PublicNotice
from .register import (
    EnrollmentStatus,
    Gender,
    Guardian,
    GuardianRelation,
    Hukou,
    StatusChange,
    Student,
)
from .visits import HomeVisit, VisitPurpose

__all__ = [
    "ApplicationDecision",
    "ApplicationStatus",
    "Attachment",
    "AttachmentKind",
    "Decision",
    "EnrollmentStatus",
    "Gender",
    "Guardian",
    "GuardianRelation",
    "HardshipApplication",
    "HardshipCategory",
    "HomeVisit",
    "Hukou",
    "IdentifiedSummary",
    "Objection",
    "ObjectionStatus",
    "PublicNotice",
    "Publicity",
    "PublicityEntry",
    "PublicityStatus",
    "StatusChange",
    "Student",
    "Tier",
    "TierAdjustment",
    "TierAdjustmentStatus",
    "VisitPurpose",
]
