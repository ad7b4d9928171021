"""The audits app's tables: the audit trail, the other departments' registries, and the
reconciliation of the funding rosters against them."""

from core.audit.models import AppendOnlyError, AuditChainHead, AuditEvent, AuditEventManager, AuditEventQuerySet

from .crossdistrict import CrossDistrictMatch, CrossDistrictPass, FactKind, MatchCase, PlatformFact
from .reconciliation import Finding, FindingKind, FindingStatus, ReasonCode, ReconciliationRun, RunStatus
from .registry import ColumnMapping, RegistryEntry, RegistrySnapshot, RegistrySource

__all__ = [
    "AppendOnlyError",
    "AuditChainHead",
    "AuditEvent",
    "AuditEventManager",
    "AuditEventQuerySet",
    "ColumnMapping",
    "CrossDistrictMatch",
    "CrossDistrictPass",
    "FactKind",
    "Finding",
    "FindingKind",
    "FindingStatus",
    "MatchCase",
    "PlatformFact",
    "ReasonCode",
    "ReconciliationRun",
    "RegistryEntry",
    "RegistrySnapshot",
    "RegistrySource",
    "RunStatus",
]
