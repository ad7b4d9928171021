"""The platform's matching across districts: one pass, in three steps, never a query per pupil.

1. **Facts** (per district, in that district's transaction: row-level security shows it its own rows
   only): two reads, the pupils at school or funded (id, encrypted ID number) and the approved awards
   of the semesters matched (pupil, award, program code and name, semester). Each ID number is
   decrypted once and hashed with the PLATFORM's key (`core.crypto.platform_hasher`), in memory.
2. **The platform table** (outside every tenant's transaction: its row-level security admits no
   tenant session): the hashes found in two districts or more are picked in memory, as the facts are
   read (a set of hashes per district: the facts are in this process already, and a pupil in one
   district only, nearly all of them, needs no further step); the platform table keeps, replacing the
   last pass's, only the facts of those pupils (a DELETE and one COPY of a few thousand rows: what the
   districts are told stands on them, and no other pupil's hash is kept at rest); ONE self-join on
   the hash over it finds the matches (the same program and semester funded in both, or at school in
   one and funded in the other).
3. **Each district is told** (its transaction again): a `CrossDistrictPass` and its matches, naming of
   the other district only its name, the program and the semester, or nothing if what it would be
   told has not changed since the last pass. The reconciliation then lists each match with the reason
   FUNDED_ELSEWHERE (`audits.reconciliation.engine`).

Programs are matched by their code: every district's catalogue is seeded with the same codes
(`funding.services.catalogue`, on `tenant_created`), and a district's own program keeps its code
(unique per district). Semesters by their code ("2026-AUTUMN": the academic year and the term).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from core import clock
from core.audit import trail
from core.crypto import decrypt, platform_hasher
from core.pgcopy import copy_line
from core.tenancy.context import current_tenant_id_or_none, tenant_transaction
from funding.models import Award, AwardStatus, Program, Semester
from schools import permissions
from schools.models import Tenant
from students.models import EnrollmentStatus, Student

from ..models import CrossDistrictMatch, CrossDistrictPass, FactKind, MatchCase, PlatformFact

Progress = Callable[[str], None]

#: Who the audit trail names for the platform's pass (a task or the operator's command).
PLATFORM_ACTOR = trail.Actor(user_id=None, label="platform_crossdistrict", source="task")


@dataclass
class PassResult:
    semesters: list[str]
    districts: int = 0
    pupils: int = 0
    facts: int = 0
    kept: int = 0  # facts the platform table keeps (of pupils in two districts or more)
    matches: int = 0
    told: int = 0  # districts whose matches changed (a new CrossDistrictPass)
    seconds: dict[str, float] = field(default_factory=dict)


def current_semester_codes(today: Any = None) -> list[str]:
    """The codes of the semesters in progress today in any active district (the nightly pass's)."""
    today = today or clock.today()
    codes: set[str] = set()
    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        with tenant_transaction(tenant_id):
            codes.update(
                f"{year}-{term}"
                for year, term in Semester.objects.filter(starts_on__lte=today, ends_on__gte=today).values_list(
                    "academic_year", "term"
                )
            )
    return sorted(codes)


def crossdistrict_match_start(*, actor: Any, semesters: list[str] | None = None) -> None:
    """The platform operator's button or command: queue a pass now (the nightly beat does the same)."""
    if not permissions.is_platform_operator(actor):
        raise PermissionDenied("only the platform operator starts the matching across districts")
    from .tasks import crossdistrict_match_task

    crossdistrict_match_task.delay(semesters=semesters)


def crossdistrict_match(*, semesters: list[str] | None = None, progress: Progress | None = None) -> PassResult:
    """One pass of the platform's matching (see the module). Runs outside any tenant's context: it
    refuses to run inside one, where the platform table has no rows."""
    if current_tenant_id_or_none() is not None:
        raise PermissionDenied("the matching across districts is the platform's, not a district's")
    tick = progress or (lambda message: None)
    codes = sorted(set(semesters if semesters is not None else current_semester_codes()))
    result = PassResult(semesters=codes)
    districts = {pk: name for pk, name in Tenant.objects.filter(is_active=True).values_list("pk", "name")}
    result.districts = len(districts)

    started = time.perf_counter()
    facts: list[tuple[Any, ...]] = []
    platform_hash = platform_hasher()
    decrypt_seconds = 0.0
    for n, tenant_id in enumerate(sorted(districts, key=str), 1):
        with tenant_transaction(tenant_id):
            pupils, awards = _district_rows(tenant_id, codes)
        began = time.perf_counter()
        hashes = {pk: platform_hash(decrypt(token, context="id_number")) for pk, (token, _attending) in pupils.items()}
        decrypt_seconds += time.perf_counter() - began
        result.pupils += len(pupils)
        district = str(tenant_id)
        for pk, (_token, attending) in pupils.items():
            if attending:
                facts.append((district, pk, hashes[pk], FactKind.ENROLLED, "", "", "", None))
        for student_id, award_id, program_code, program_name, year, term in awards:
            facts.append(
                (district, student_id, hashes[student_id], FactKind.FUNDED, f"{year}-{term}", program_code,
                 program_name, award_id)
            )  # fmt: skip
        tick(f"read {n} of {len(districts)} districts")
    result.facts = len(facts)
    result.seconds["read"] = round(time.perf_counter() - started - decrypt_seconds, 2)
    result.seconds["decrypt_and_hash"] = round(decrypt_seconds, 2)

    began = time.perf_counter()
    kept = _in_two_districts(facts)
    del facts
    result.seconds["pick_shared"] = round(time.perf_counter() - began, 2)
    began = time.perf_counter()
    with transaction.atomic():
        _platform_session()
        result.kept = len(kept)
        staged = _keep(kept)
        result.seconds["write_platform_table"] = round(time.perf_counter() - began, 2)
        began = time.perf_counter()
        found = _match(staged)
        result.seconds["match"] = round(time.perf_counter() - began, 2)
    tick("matched")

    began = time.perf_counter()
    told = _by_district(found, districts)
    result.matches = sum(len(rows) for rows in told.values())
    now = timezone.now()
    with trail.acting_as(PLATFORM_ACTOR):
        for tenant_id in sorted(districts, key=str):
            with tenant_transaction(tenant_id):
                if _tell(tenant_id, told.get(str(tenant_id), []), codes, now):
                    result.told += 1
    result.seconds["tell_districts"] = round(time.perf_counter() - began, 2)
    result.seconds["total"] = round(time.perf_counter() - started, 2)
    tick("done")
    return result


# --- 1. Facts, per district ------------------------------------------------------------------------------


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    from audits.reconciliation.engine import _fetch as fetch_ids_as_text

    return fetch_ids_as_text(sql, params)


def _district_rows(tenant_id: Any, codes: list[str]) -> tuple[dict[str, tuple[str, bool]], list[tuple]]:
    """({pupil id: (encrypted ID number, attending)}, [(pupil, award, program code, name, year, term)])
    of the district: the pupils at school and those funded in the semesters, in two statements."""
    qn = connection.ops.quote_name
    t = {m: qn(m._meta.db_table) for m in (Student, Award, Program, Semester)}
    tenant = tenant_id.hex if connection.vendor == "sqlite" else str(tenant_id)
    pairs = [code.split("-", 1) for code in codes if "-" in code]
    awards: list[tuple] = []
    if pairs:
        wanted = " OR ".join(["(sem.academic_year = %s AND sem.term = %s)"] * len(pairs))
        awards = _fetch(
            f"SELECT a.student_id, a.id, p.code, p.name, sem.academic_year, sem.term FROM {t[Award]} a "  # noqa: S608
            f"JOIN {t[Program]} p ON p.tenant_id = a.tenant_id AND p.id = a.program_id "
            f"JOIN {t[Semester]} sem ON sem.tenant_id = a.tenant_id AND sem.id = a.semester_id "
            f"WHERE a.tenant_id = %s AND a.status = %s AND ({wanted})",
            [tenant, AwardStatus.APPROVED, *[v for year, term in pairs for v in (_year(year), term)]],
        )
    funded = {row[0] for row in awards}
    pupils = {
        pk: (token, status == EnrollmentStatus.ATTENDING)
        for pk, token, status in _fetch(
            f"SELECT id, id_number, enrollment_status FROM {t[Student]} WHERE tenant_id = %s",  # noqa: S608
            [tenant],
        )
        if status == EnrollmentStatus.ATTENDING or pk in funded
    }
    return pupils, awards


def _year(text: str) -> int:
    return int(text) if text.isdigit() else -1


# --- 2. The platform table -------------------------------------------------------------------------------


_FACT_COLUMNS = (
    "district_id", "student_id", "id_hash", "fact", "semester_code", "program_code", "program_name", "award_id",
)  # fmt: skip


def _platform_session() -> None:
    """No tenant in this transaction, on both sides: the platform table's policy admits only that."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL app.tenant_id = ''")


def _in_two_districts(facts: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The facts of pupils (by hash) found in two districts or more: one pass to see which hashes more
    than one district holds, one to pick their facts. Nearly every pupil is in one district only, so
    this leaves a few thousand facts of a million and a half; none of the others leaves this process."""
    first_district: dict[str, str] = {}
    shared: set[str] = set()
    for district, _pupil, id_hash, *_rest in facts:
        seen = first_district.setdefault(id_hash, district)
        if seen != district:
            shared.add(id_hash)
    return [row for row in facts if row[2] in shared]


def _keep(kept: list[tuple[Any, ...]]) -> str:
    """The platform table holds these facts and no others (the last pass's replaced). Returns the table
    the match should read: on PostgreSQL the TEMP copy of the same facts, which this session owns and so
    may ANALYZE (the app role may not ANALYZE the platform table; without statistics of the rows just
    written the planner took the join for a few rows and ran it as a nested loop: minutes at 35,000)."""
    qn = connection.ops.quote_name
    table = qn(PlatformFact._meta.db_table)
    if connection.vendor != "postgresql":
        PlatformFact.objects.all().delete()
        PlatformFact.objects.bulk_create(
            [PlatformFact(**dict(zip(_FACT_COLUMNS, row, strict=True))) for row in kept], batch_size=5000
        )
        return table
    cols = ", ".join(qn(c) for c in _FACT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        # PostgreSQL refuses COPY into a table under row-level security: COPY into a TEMP table (gone at
        # commit; dropped first should two passes share one transaction, as the tests' do), then one
        # INSERT … SELECT, which the policy checks.
        cursor.execute("DROP TABLE IF EXISTS platform_fact_stage")
        cursor.execute(
            f"CREATE TEMP TABLE platform_fact_stage ON COMMIT DROP AS SELECT {cols} FROM {table} WHERE false"  # noqa: S608
        )
        with cursor.cursor.copy(f"COPY platform_fact_stage ({cols}) FROM STDIN") as copy:
            copy.write("".join([copy_line(row) for row in kept]))
        cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM platform_fact_stage")  # noqa: S608
        cursor.execute("ANALYZE platform_fact_stage")
    return "platform_fact_stage"


def _match(table: str) -> list[tuple[Any, ...]]:
    """The pairs of facts of one pupil (equal hashes) in two districts, from each side: (district,
    pupil, own fact, own award, semester, program code, program name, other district, other fact). One
    statement; the same program and semester funded in both, or at school in one and funded in the other."""
    f, e = FactKind.FUNDED, FactKind.ENROLLED
    return _fetch(
        "SELECT a.district_id, a.student_id, a.fact, a.award_id, "  # noqa: S608
        "CASE WHEN a.fact = %s THEN a.semester_code ELSE b.semester_code END, "
        "CASE WHEN a.fact = %s THEN a.program_code ELSE b.program_code END, "
        "CASE WHEN a.fact = %s THEN a.program_name ELSE b.program_name END, "
        "b.district_id, b.fact "
        f"FROM {table} a JOIN {table} b ON b.id_hash = a.id_hash AND b.district_id <> a.district_id "
        "WHERE (a.fact = %s AND b.fact = %s AND a.program_code = b.program_code AND a.semester_code = b.semester_code) "
        "OR (a.fact = %s AND b.fact = %s) OR (a.fact = %s AND b.fact = %s)",
        [f, f, f, f, f, e, f, f, e],
    )


# --- 3. Each district is told ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Told:
    case: str
    student_id: str
    award_id: str | None
    semester_code: str
    program_code: str
    program_name: str
    other_district: str

    def key(self) -> tuple[str, ...]:
        return (self.student_id, self.case, self.semester_code, self.program_code, self.other_district,
                self.award_id or "")  # fmt: skip


def _by_district(found: list[tuple[Any, ...]], names: dict[Any, str]) -> dict[str, list[Told]]:
    """{district id: what it is told}. Funded twice (same program and semester) says it all for that
    pupil, program and other district: the same pair is not told again as at school here and funded
    there, or funded here and at school there."""
    canon = {_key(pk): name for pk, name in names.items()}
    twice: set[tuple[Any, ...]] = set()
    for district, student, own, _award, semester, program, _name, other, theirs in found:
        if own == FactKind.FUNDED and theirs == FactKind.FUNDED:
            twice.add((district, student, other, semester, program))
    told: dict[str, set[Told]] = defaultdict(set)
    for district, student, own, award, semester, program, name, other, theirs in found:
        if own == FactKind.FUNDED and theirs == FactKind.FUNDED:
            case = MatchCase.FUNDED_TWICE
        elif (district, student, other, semester, program) in twice:
            continue
        else:
            case = MatchCase.FUNDED_THERE if own == FactKind.ENROLLED else MatchCase.ENROLLED_THERE
        told[_key(district)].add(
            Told(str(case), _key(student), _key(award) if award else None, semester, program, name,
                 canon.get(_key(other), ""))
        )  # fmt: skip
    return {district: sorted(rows, key=Told.key) for district, rows in told.items()}


def _key(value: Any) -> str:
    """An id as str(uuid) spells it, whichever database it was read from."""
    import uuid

    return str(uuid.UUID(str(value)))


def _tell(tenant_id: Any, rows: list[Told], codes: list[str], now: Any) -> bool:
    """Write this district's pass and its matches, unless the last pass told it exactly the same."""
    fingerprint = hashlib.sha256(json.dumps([r.key() for r in rows]).encode()).hexdigest()
    last = CrossDistrictPass.objects.order_by("-finished_at", "-pk").first()
    if last is not None and last.counts.get("fingerprint") == fingerprint and last.semesters == codes:
        return False
    counts: dict[str, Any] = defaultdict(int)
    for r in rows:
        counts[r.case] += 1
    counts["fingerprint"] = fingerprint
    platform_pass = CrossDistrictPass(finished_at=now, semesters=codes, counts=dict(counts))
    with trail.labelled("crossdistrict.pass"):
        platform_pass.save()
    # The pass's audit row (its counts) stands for its matches: written in bulk, as a run's findings.
    CrossDistrictMatch._base_manager.bulk_create(
        [
            CrossDistrictMatch(
                tenant_id=tenant_id, platform_pass=platform_pass, case=r.case, student_id=r.student_id,
                award_id=r.award_id, semester_code=r.semester_code, program_code=r.program_code,
                program_name=r.program_name, other_district=r.other_district,
            )
            for r in rows
        ],
        batch_size=2000,
    )  # fmt: skip
    return True


def latest_matches(*, semester_code: str) -> list[CrossDistrictMatch]:
    """What the latest pass told the current district about the semester (the reconciliation's input)."""
    last = CrossDistrictPass.objects.order_by("-finished_at", "-pk").first()
    if last is None:
        return []
    return list(CrossDistrictMatch.objects.filter(platform_pass=last, semester_code=semester_code))
