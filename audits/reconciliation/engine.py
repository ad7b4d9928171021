"""The reconciliation itself: what a semester's lists should hold, against what they hold.

Set-based: one join matches the departments' latest snapshots to pupils and guardians on the keyed
hashes (blind indexes) of their ID numbers; five more queries read the register, the identifications,
the awards, the paid and pending lines and the programs. The rules then run over those rows in memory
(a province's 200,000 pupils and 150,000 awards are a few hundred MB at most), never a query per row.

Every finding carries its reason code and the evidence: which registry row (source, snapshot, row
number, category, whether it names the child or a parent), which award and line, which enrollment fact.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Max
from psycopg.types.string import TextLoader

from care.models import CaseStatus, CaseStep, DropoutCase
from core.money import to_money
from core.rawsql import db_uuid, tenant_param, whole_snapshot_joins
from core.tenancy.context import current_tenant_id
from funding.models import Award, AwardStatus, Program, Semester, Standard
from funding.services.awards import standard_for
from schools.models import Area, Grade, School, Tenant
from students.models import (
    ApplicationStatus,
    EnrollmentStatus,
    Guardian,
    HardshipApplication,
    HardshipCategory,
    Student,
    Tier,
)

from ..models import AuditEvent, FindingKind, ReasonCode, RegistryEntry, RegistrySnapshot, RegistrySource
from ..registry.fields import SOURCE_DEPARTMENT

#: Bumped when the rules change, so a run under new rules is not taken for an old one.
RULES_VERSION = 1

LEFT = {EnrollmentStatus.TRANSFERRED_OUT, EnrollmentStatus.GRADUATED}
#: A dropout case in these states, confirmed by the semester's end, means the pupil is out of school.
DROPPED_CASE_STATES = (CaseStatus.CONFIRMED, CaseStatus.PERSUADING)

#: Audit rows of these kinds are not changes of the data a run reads (its own job, runs, findings).
_NOT_INPUTS = ("schools.job", "audits.reconciliationrun", "audits.finding")

Progress = Callable[[int, int, str], None]


@dataclass
class FindingRow:
    kind: str
    reason: str
    student_id: Any
    school_id: Any
    grade_id: Any
    klass_id: Any
    program_id: Any = None
    award_id: Any = None
    category: str = ""
    amount: Decimal | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[str, ...]:
        return (self.kind, self.reason, str(self.student_id), str(self.program_id or ""), str(self.award_id or ""))


@dataclass
class Outcome:
    inputs: dict[str, Any]
    fingerprint: str
    findings: list[FindingRow]


# --- Inputs ----------------------------------------------------------------------------------------------


def current_snapshots() -> dict[str, RegistrySnapshot]:
    """The latest snapshot of each source (by its as-of date, then by when it was imported)."""
    latest: dict[str, RegistrySnapshot] = {}
    for snapshot in RegistrySnapshot.objects.order_by("source", "-taken_on", "-created_at"):
        latest.setdefault(snapshot.source, snapshot)
    return latest


def inputs_of(semester: Semester, snapshots: dict[str, RegistrySnapshot]) -> tuple[dict[str, Any], str]:
    """What a run reads, as fingerprints: each source's snapshot (its file's SHA-256) and the data
    version of the tenant (the last audit row of a data change: every change of tenant data writes
    one, so an unchanged number means unchanged students, identifications, awards and lines)."""
    version = AuditEvent.objects.exclude(object_type__in=_NOT_INPUTS).aggregate(seq=Max("seq"))["seq"] or 0
    inputs = {
        "rules": RULES_VERSION,
        "semester": str(semester.pk),
        "data_version": version,
        "snapshots": {
            source: {"id": str(s.pk), "fingerprint": s.fingerprint, "taken_on": s.taken_on.isoformat()}
            for source, s in sorted(snapshots.items())
        },
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    return inputs, digest


# --- Matching --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    category: str
    source: str
    snapshot_id: str
    row: int
    named: str  # "child", "parent" (a guardian's own row) or "household" (a guardian as household head)

    def evidence(self) -> dict[str, Any]:
        return {"source": self.source, "snapshot": self.snapshot_id, "row": self.row, "category": self.category,
                "named": self.named}  # fmt: skip


def registry_matches(snapshots: dict[str, RegistrySnapshot]) -> dict[str, list[Match]]:
    """{student id: the registry rows naming the child or a guardian}: one statement, joined on the
    blind indexes. A disabled parent makes the child a 残疾人子女 (the federation lists the parent)."""
    if not snapshots:
        return {}
    qn = connection.ops.quote_name
    entry, student, guardian = (
        qn(RegistryEntry._meta.db_table), qn(Student._meta.db_table), qn(Guardian._meta.db_table)
    )  # fmt: skip
    source_of = {db_uuid(s.pk): source for source, s in snapshots.items()}
    marks = ", ".join(["%s"] * len(source_of))
    as_parent = "CASE WHEN e.category = 'DISABLED_STUDENT' THEN 'DISABLED_PARENT' ELSE e.category END"
    sql = f"""
        SELECT s.id, e.category, e.snapshot_id, e.row_number, 'child'
          FROM {entry} e JOIN {student} s ON s.tenant_id = e.tenant_id AND s.id_number_hash = e.id_number_hash
         WHERE e.tenant_id = %s AND e.snapshot_id IN ({marks})
        UNION ALL
        SELECT g.student_id, {as_parent}, e.snapshot_id, e.row_number, 'parent'
          FROM {entry} e JOIN {guardian} g ON g.tenant_id = e.tenant_id AND g.id_number_hash = e.id_number_hash
         WHERE e.tenant_id = %s AND e.snapshot_id IN ({marks})
        UNION ALL
        SELECT g.student_id, {as_parent}, e.snapshot_id, e.row_number, 'household'
          FROM {entry} e JOIN {guardian} g
               ON g.tenant_id = e.tenant_id AND g.id_number_hash = e.household_id_number_hash
         WHERE e.tenant_id = %s AND e.snapshot_id IN ({marks}) AND e.household_id_number_hash IS NOT NULL
    """  # noqa: S608  identifiers only; every value is a parameter
    tenant = tenant_param()
    ids = list(source_of)
    matches: dict[str, list[Match]] = defaultdict(list)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.cursor.adapters.register_loader("uuid", TextLoader)  # ids as text, as _fetch reads them
        with whole_snapshot_joins():  # hash joins (15.6 s → 4.5 s for a million rows in bench/reconcile.py)
            cursor.execute(sql, [tenant, *ids, tenant, *ids, tenant, *ids])
            fetched = cursor.fetchall()
        snapshot_text = {db_uuid(s.pk): str(s.pk) for s in snapshots.values()}
        for student_id, category, snapshot_id, row, named in fetched:
            matches[student_id].append(Match(category, source_of[snapshot_id], snapshot_text[snapshot_id], row, named))
    return matches


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """A raw read with ids as text: PostgreSQL's uuids in their canonical spelling (psycopg would build
    a uuid.UUID for each, and every dict lookup would hash it in Python: 2 million of them a run),
    SQLite's as stored (32 hex digits). The rules compare ids only with ids read here, so one
    spelling per database is all they need; _canonical spells them for the evidence."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.cursor.adapters.register_loader("uuid", TextLoader)
        cursor.execute(sql, params)
        return cursor.fetchall()


def _canonical(value: Any) -> str:
    """An id read by _fetch, as str(uuid) spells it (what the evidence and the pages show)."""
    return value if connection.vendor == "postgresql" else str(uuid.UUID(str(value)))


# --- The rules -------------------------------------------------------------------------------------------


@dataclass
class _Pupil:
    id: Any
    school_id: Any
    grade_id: Any
    klass_id: Any
    stage: str
    boarding: bool
    status: str
    rural_school: bool
    registered: bool
    card_hash: str | None

    def place(self) -> dict[str, Any]:
        return {
            "student_id": self.id,
            "school_id": self.school_id,
            "grade_id": self.grade_id,
            "klass_id": self.klass_id,
        }


def reconcile(*, semester: Semester, progress: Progress | None = None) -> Outcome:
    """Compute the run's lists (nothing is written here)."""
    tick = progress or (lambda done, total, message: None)
    snapshots = current_snapshots()
    inputs, fingerprint = inputs_of(semester, snapshots)
    tick(1, 6, "matching the registries")
    matches = registry_matches(snapshots)
    tick(2, 6, "reading the register")
    tenant = Tenant.objects.get(pk=current_tenant_id())
    special_tier = tenant.special_category_tier or Tier.SPECIAL
    categories = {c.code: c for c in HardshipCategory.objects.all()}
    judged_departments = {SOURCE_DEPARTMENT[RegistrySource(s)] for s in snapshots}
    # The big reads are raw SQL with ids as text (_fetch); on SQLite the tenant is named here, on
    # PostgreSQL row-level security holds it as well.
    from disbursements.models import LineStatus, PaymentLine

    t = {m: connection.ops.quote_name(m._meta.db_table) for m in (Student, Grade, School, HardshipApplication, Award)}
    tenant_key, semester_key = db_uuid(tenant.pk), db_uuid(semester.pk)
    pupils = {
        row[0]: _Pupil(*row[:5], bool(row[5]), row[6], row[7] == Area.RURAL, row[8] is not None, row[9])
        for row in _fetch(
            "SELECT s.id, s.school_id, s.grade_id, s.klass_id, g.stage, s.is_boarding, s.enrollment_status, "  # noqa: S608
            "sc.area, s.student_no_hash, s.card_account_hash "
            f"FROM {t[Student]} s JOIN {t[Grade]} g ON g.tenant_id = s.tenant_id AND g.id = s.grade_id "
            f"JOIN {t[School]} sc ON sc.tenant_id = s.tenant_id AND sc.id = s.school_id "
            "WHERE s.tenant_id = %s",
            [tenant_key],
        )
    }  # fmt: skip
    tick(3, 6, "reading identifications and awards")
    identified = {
        sid: (app_id, tier, json.loads(cats) if isinstance(cats, str) else cats or [])
        for app_id, sid, tier, cats in _fetch(
            f"SELECT id, student_id, tier, categories FROM {t[HardshipApplication]} "  # noqa: S608
            "WHERE tenant_id = %s AND academic_year = %s AND status = %s",
            [tenant_key, semester.academic_year, ApplicationStatus.IDENTIFIED],
        )
    }
    app_categories = {
        app_id: json.loads(cats) if isinstance(cats, str) else cats or []
        for app_id, cats in _fetch(
            f"SELECT id, categories FROM {t[HardshipApplication]} WHERE tenant_id = %s AND id IN "  # noqa: S608
            f"(SELECT application_id FROM {t[Award]} WHERE tenant_id = %s AND semester_id = %s)",
            [tenant_key, tenant_key, semester_key],
        )
    }
    programs = {db_uuid(p.pk): p for p in Program.objects.filter(is_active=True)}
    standards: dict[Any, list[Standard]] = defaultdict(list)
    for s in Standard.objects.filter(semester=semester):
        standards[db_uuid(s.program_id)].append(s)
    fits: dict[tuple[Any, str, str, bool], Standard | None] = {}

    def standard(program_id: Any, pupil: _Pupil, tier: str) -> Standard | None:
        """The standard that fits: pupils are few (stage, tier, boarding) cases, each looked up once."""
        key = (program_id, pupil.stage, tier, pupil.boarding)
        if key not in fits:
            fits[key] = standard_for(standards[program_id], stage=pupil.stage, tier=tier, boarding=pupil.boarding)
        return fits[key]

    awards = [
        (*row[:8], to_money(row[8]))
        for row in _fetch(
            f"SELECT id, student_id, program_id, status, school_id, grade_id, klass_id, application_id, amount "  # noqa: S608
            f"FROM {t[Award]} WHERE tenant_id = %s AND semester_id = %s",
            [tenant_key, semester_key],
        )
    ]  # fmt: skip
    dropped = _dropout_cases(tenant_key, semester)
    tick(4, 6, "reading the payments")
    lines: dict[Any, list[tuple[str, Decimal, Any]]] = defaultdict(list)
    for award_id, status, amount, batch_id in _fetch(
        f"SELECT award_id, status, amount, batch_id FROM {connection.ops.quote_name(PaymentLine._meta.db_table)} "  # noqa: S608
        "WHERE tenant_id = %s AND semester_id = %s",
        [tenant_key, semester_key],
    ):
        lines[award_id].append((status, to_money(amount), batch_id))

    findings: list[FindingRow] = []
    tick(5, 6, "applying the rules")
    awarded: dict[str, set[Any]] = defaultdict(set)
    for a in awards:
        awarded[a[1]].add(a[2])

    # Omissions and tier mismatches: pupils the registries name.
    for student_key, found in matches.items():
        pupil = pupils.get(student_key)
        if pupil is None or pupil.status != EnrollmentStatus.ATTENDING:
            continue
        registry_codes = {m.category for m in found}
        special = sorted(c for c in registry_codes if c in categories and categories[c].is_special)
        evidence = _RegistryEvidence(found)  # built only for the pupils a finding is about
        application = identified.get(student_key)
        if application is None:
            fundable = [
                (key, p) for key, p in programs.items()
                if _eligible(p, pupil, tier=special_tier if special else "", codes=registry_codes)
                and standard(key, pupil, special_tier if special else "") is not None
            ]  # fmt: skip
            if fundable and (special or any(p.eligible_categories for _key, p in fundable)):
                findings.append(
                    FindingRow(
                        FindingKind.OMISSION, ReasonCode.NOT_IDENTIFIED, **pupil.place(),
                        program_id=fundable[0][0], category=(special or sorted(registry_codes))[0],
                        evidence={**evidence(), "programs": [p.code for _key, p in fundable],
                                  "suggested_tier": special_tier if special else ""},
                    )
                )  # fmt: skip
            continue
        app_id, tier, app_codes = application
        codes = registry_codes | set(app_codes)
        for key, p in programs.items():
            if key in awarded[student_key] or not _eligible(p, pupil, tier=tier, codes=codes):
                continue
            fit = standard(key, pupil, tier)
            if fit is None:
                continue
            findings.append(
                FindingRow(
                    FindingKind.OMISSION, ReasonCode.NOT_AWARDED, **pupil.place(), program_id=key,
                    category=(special or sorted(registry_codes))[0], amount=fit.amount,
                    evidence={**evidence(), "application": _canonical(app_id), "tier": tier},
                )
            )  # fmt: skip
        if special and tier and Tier.rank(tier) < Tier.rank(special_tier):
            findings.append(
                FindingRow(
                    FindingKind.TIER, ReasonCode.TIER_TOO_LOW, **pupil.place(), category=special[0],
                    evidence={**evidence(), "application": _canonical(app_id), "tier": tier, "demanded": special_tier},
                )
            )  # fmt: skip

    # Errors: approved awards that should not be.
    approved = [a for a in awards if a[3] == AwardStatus.APPROVED]
    errors: list[tuple[tuple, str, dict[str, Any]]] = []
    for a in approved:
        award_id, student_id, program_id, _status, school_id, grade_id, klass_id, app_id, amount = a
        pupil = pupils[student_id]
        if pupil.status == EnrollmentStatus.DROPPED_OUT or student_id in dropped:
            facts = {
                "enrollment": pupil.status,
                **({"dropout_case": dropped[student_id]} if student_id in dropped else {}),
            }
            errors.append((a, ReasonCode.FUNDED_DROPPED_OUT, facts))
        elif pupil.status in LEFT:
            errors.append((a, ReasonCode.LEFT_SCHOOL, {"enrollment": pupil.status}))
        if not pupil.registered:
            errors.append((a, ReasonCode.NOT_REGISTERED, {"enrollment": "no registration number (在校不在籍)"}))
        claimed = [
            c for c in (app_categories.get(app_id) or [])
            if c in categories and categories[c].source in judged_departments
        ]  # fmt: skip
        listed = {m.category for m in matches.get(student_id, [])}
        if claimed and not set(claimed) & listed:
            errors.append((a, ReasonCode.REGISTRY_DROPPED, {"claimed": claimed, "listed": sorted(listed)}))
    errors.extend(_double_funded(approved, programs, pupils))
    errors.extend(_shared_cards(approved, pupils))

    for a, reason, facts in errors:
        award_id, student_id, program_id, _status, school_id, grade_id, klass_id, _app, amount = a
        paid = [(s, amt, b) for s, amt, b in lines.get(award_id, []) if s == LineStatus.PAID]
        kind = FindingKind.RECOVER if paid else FindingKind.STOP
        line_facts = [
            {"status": s, "amount": str(amt), "batch": _canonical(b)} for s, amt, b in lines.get(award_id, [])
        ]
        findings.append(
            FindingRow(
                kind, reason, student_id=student_id, school_id=school_id, grade_id=grade_id, klass_id=klass_id,
                program_id=program_id, award_id=award_id,
                amount=sum((amt for _s, amt, _b in paid), Decimal("0.00")) if paid else amount,
                evidence={**facts, "award": _canonical(award_id), "lines": line_facts,
                          "registry": [m.evidence() for m in matches.get(student_id, [])]},
            )
        )  # fmt: skip
    findings.extend(_elsewhere(semester, pupils, awards))
    findings.sort(key=FindingRow.key)
    tick(6, 6, "done")
    return Outcome(inputs=inputs, fingerprint=fingerprint, findings=findings)


def _elsewhere(semester: Semester, pupils: dict[str, _Pupil], awards: list[tuple]) -> list[FindingRow]:
    """跨区县: what the platform's latest matching told this district about the semester, one finding per
    match (audits.crossdistrict). The evidence names the other district, the program and the semester,
    nothing more: that is all the district was told. Listed, not stopped: neither district can tell
    alone whose funding stands, so the two settle it (a stop is then an ordinary correction)."""
    from ..crossdistrict.services import latest_matches

    amounts = {a[0]: (a[2], a[8]) for a in awards}
    out = []
    for m in latest_matches(semester_code=semester.code):
        pupil = pupils.get(db_uuid(m.student_id))
        if pupil is None:
            continue
        award = db_uuid(m.award_id) if m.award_id else None
        program_id, amount = amounts.get(award, (None, None)) if award else (None, None)
        out.append(
            FindingRow(
                FindingKind.ELSEWHERE, ReasonCode.FUNDED_ELSEWHERE, **pupil.place(), program_id=program_id,
                award_id=award if program_id is not None else None, amount=amount,
                evidence={"elsewhere": {"case": m.case, "district": m.other_district, "program": m.program_code,
                                        "program_name": m.program_name, "semester": m.semester_code}},
            )
        )  # fmt: skip
    return out


def _dropout_cases(tenant_key: Any, semester: Semester) -> dict[Any, dict[str, str]]:
    """{student id: the case} for pupils whose dropout (care) was confirmed by the semester's end and who
    have not come back: one statement (the case, and the day of its confirmation step)."""
    q = connection.ops.quote_name
    case, step = q(DropoutCase._meta.db_table), q(CaseStep._meta.db_table)
    marks = ", ".join(["%s"] * len(DROPPED_CASE_STATES))
    rows = _fetch(
        f"SELECT c.student_id, c.id, MIN(st.done_on) FROM {case} c JOIN {step} st "  # noqa: S608
        "ON st.tenant_id = c.tenant_id AND st.case_id = c.id AND st.to_status = %s "
        f"WHERE c.tenant_id = %s AND c.status IN ({marks}) GROUP BY c.student_id, c.id HAVING MIN(st.done_on) <= %s",
        [CaseStatus.CONFIRMED, tenant_key, *DROPPED_CASE_STATES, semester.ends_on],
    )
    return {
        student_id: {"case": _canonical(case_id), "confirmed_on": str(confirmed_on)[:10]}
        for student_id, case_id, confirmed_on in rows
    }


class _RegistryEvidence:
    """The registry rows naming a pupil, as a finding's evidence: built once, when first needed."""

    __slots__ = ("found", "value")

    def __init__(self, found: list[Match]) -> None:
        self.found, self.value = found, None

    def __call__(self) -> dict[str, Any]:
        if self.value is None:
            self.value = {"registry": [m.evidence() for m in sorted(self.found, key=lambda m: (m.source, m.row))]}
        return self.value


def _eligible(program: Program, pupil: _Pupil, *, tier: str, codes: set[str]) -> bool:
    """The award list's rules (funding.services.awards.eligible_students), for one pupil in memory."""
    if program.is_emergency or pupil.stage not in program.stages:
        return False
    if program.requires_identification and not tier:
        return False
    if program.eligible_tiers and tier not in program.eligible_tiers:
        return False
    if program.eligible_categories and not codes & set(program.eligible_categories):
        return False
    if program.rural_schools_only and not pupil.rural_school:
        return False
    return not (program.boarders_only and not pupil.boarding)


def _double_funded(approved: list[tuple], programs: dict[Any, Program], pupils: dict[str, _Pupil]) -> list:
    """Two approved awards of one exclusive group (two living subsidies, a grant from two schools): the
    one at the pupil's own school (the first such) stands, the others are errors."""
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for a in approved:
        group = programs[a[2]].exclusive_group if a[2] in programs else ""
        if group:
            groups[(a[1], group)].append(a)
    doubled = {key: held for key, held in groups.items() if len(held) > 1}
    # When each was awarded: read for these few only (150,000 timestamps cost seconds to convert).
    ids = [a[0] for held in doubled.values() for a in held]
    created = {db_uuid(pk): at for pk, at in Award.objects.filter(pk__in=ids).values_list("pk", "created_at")}
    out = []
    for (student_key, group), held in doubled.items():
        pupil = pupils[student_key]
        held.sort(key=lambda a: (a[4] != pupil.school_id, created[a[0]], str(a[0])))
        out.extend((a, ReasonCode.DOUBLE_FUNDED, {"group": group, "kept": _canonical(held[0][0])}) for a in held[1:])
    return out


def _shared_cards(approved: list[tuple], pupils: dict[str, _Pupil]) -> list:
    """One funding card paid for pupils who share no guardian (siblings may share a parent's card)."""
    by_card: dict[str, set[str]] = defaultdict(set)
    for a in approved:
        pupil = pupils[a[1]]
        if pupil.card_hash:
            by_card[pupil.card_hash].add(a[1])
    shared = {card: ids for card, ids in by_card.items() if len(ids) > 1}
    if not shared:
        return []
    suspects = {pupils[k].id for ids in shared.values() for k in ids}
    guardians: dict[str, set[str]] = defaultdict(set)
    for student_id, hash_ in Guardian.objects.filter(student_id__in=suspects, id_number_hash__isnull=False).values_list(
        "student_id", "id_number_hash"
    ):
        guardians[db_uuid(student_id)].add(hash_)
    unrelated: set[str] = set()
    for ids in shared.values():
        for k in ids:
            if any(not guardians[k] & guardians[other] for other in ids if other != k):
                unrelated.add(k)
    return [
        (
            a,
            ReasonCode.SHARED_CARD,
            {"shared_with": sorted(_canonical(pupils[o].id) for o in by_card[pupils[a[1]].card_hash] if o != a[1])},
        )
        for a in approved
        if a[1] in unrelated
    ]
