"""Benchmark: the reconciliation (比对) of a 1,000,000-row department registry (xlsx) against 200,000
pupils and 150,000 approved awards, end to end, and side by side the obvious per-row ORM way.

    .venv/bin/python bench/reconcile.py            # --vendors postgresql sqlite --rows 1000000
                                                   # --students 200000 --awards 150000 --baseline-rows 10000

For each database: a fresh database seeded with `manage.py seed_demo --scale 0.05` (the tenants, their
schools, classes, programs, categories and accounts); then, set-based and without audit rows (seeding is
not what is measured), --students pupils of district demo-a with encrypted, blind-indexed ID numbers and
registration numbers (1% without: 在校不在籍; 2% transferred out), a first guardian with an ID number for
every pupil and a second for 30%, identified hardship applications for a third of them, a new semester
(with its standards), --awards approved awards (one program) and a released batch paying a third of them.
One registry workbook of --rows rows (姓名, 身份证号, 类别, 户主身份证号; civil affairs' 低保 list) is
generated with the product's streaming xlsx writer: 8% of the rows name pupils, 6% guardians, 2% name
another person with a guardian as household head, a few hundred are invalid, the rest are other people.

Then, in its own process: `registry_import` of the file (as the district's officer: safety scan,
calamine, validation, AES-GCM and blind indexes, the set-based write, the changes) and
`reconciliation_run` of the semester (the join, the reads, the rules, the findings), timed with the
phase split and the process's peak RSS. The baseline, in another process on the same data: the first
--baseline-rows rows read with openpyxl, for each one `RegistryEntry.objects.create()` and its person
looked up with `.filter(id_number_hash=…).first()` among pupils and guardians, the matched pupil's awards
and lines queried; and the same per-award checks (pupil, application, lines, registry) for
--baseline-rows / 10 awards. Rates are extrapolated to the full size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import PG_OWNER, drop_database, fresh_database, manage, run_script

REGION = "410625"  # a neighbouring county: none of seed_demo's pupils (410622) collide
CATEGORIES = ("低保", "特困供养", "孤儿", "低保边缘", "事实无人抚养儿童")
STUDENT_BASE, GUARDIAN_BASE, OTHER_BASE = dt.date(2008, 1, 1), dt.date(1972, 1, 1), dt.date(1940, 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vendors", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the registry file")
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--awards", type=int, default=150_000)
    parser.add_argument("--baseline-rows", type=int, default=10_000, help="registry rows of the naive baseline")
    parser.add_argument("--inner", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(*args.inner)
        return
    if args.awards > args.students:
        parser.error("--awards must not exceed --students (one award per pupil)")
    work = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    results = []
    try:
        book = work / "registry.xlsx"
        sizes = [str(args.rows), str(args.students)]
        made = json.loads(run_script("bench.reconcile", ["--inner", "file", str(book), *sizes], _plain_env()))
        for vendor in args.vendors:
            env = fresh_database(vendor)
            try:
                manage(["seed_demo", "--scale", "0.05"], env)
                seed_args = ["--inner", "seed", str(args.students), str(args.awards)]
                seeded = json.loads(run_script("bench.reconcile", seed_args, env))
                if vendor == "postgresql":
                    # What autovacuum does soon after 600,000 inserts (only the owner may): planner statistics.
                    db = f"{PG_OWNER}/{env['BENCH_DROP_DATABASE']}"
                    subprocess.run(["psql", db, "-qc", "ANALYZE"], check=True)
                ours = json.loads(run_script("bench.reconcile", ["--inner", "ours", str(book)], env))
                base_args = ["--inner", "baseline", str(book), str(args.baseline_rows)]
                base = json.loads(run_script("bench.reconcile", base_args, env))
            finally:
                drop_database(env)
            results.append((vendor, seeded, ours, base))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _print(args, made, results)


def _plain_env() -> dict[str, str]:
    import os

    from bench._setup import BENCH_ENV

    return {**os.environ, **BENCH_ENV, "DATABASE_URL": "sqlite:///:memory:"}


def _print(args: argparse.Namespace, made: dict, results: list) -> None:
    print(
        f"Registry: {made['rows']:,} rows ({made['mb']:.1f} MB xlsx; {made['students']:,} naming pupils, "
        f"{made['guardians']:,} guardians, {made['households']:,} a guardian as household head, "
        f"{made['invalid']:,} invalid)\n"
    )
    print(
        "| database | pupils / awards | registry import | reconciliation run | end to end | peak RSS "
        "| naive per-row ORM (measured) | naive, extrapolated | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for vendor, seeded, ours, base in results:
        naive = args.rows / base["row_rate"] + seeded["awards"] / base["award_rate"]
        total = ours["import"] + ours["run"]
        print(
            f"| {vendor} | {seeded['students']:,} / {seeded['awards']:,} | {ours['import']:.1f} s "
            f"({ours['kept']:,} kept, {ours['rejected']:,} rejected) | {ours['run']:.1f} s "
            f"({ours['findings']:,} findings) | **{total:.1f} s** (CPU {ours['cpu']:.1f} s) | {ours['rss_mb']:.0f} MB "
            f"| {base['rows']:,} rows in {base['row_seconds']:.1f} s ({base['row_rate']:,.0f}/s), "
            f"{base['awards']:,} awards in {base['award_seconds']:.1f} s ({base['award_rate']:,.0f}/s), "
            f"{base['queries']:,} queries | ≈ {naive / 60:,.0f} min | {naive / total:,.0f}× |"
        )
    print()
    phases = list(results[0][2]["phases"]) if results else []
    print("| database | " + " | ".join(phases) + " |")
    print("|---|" + "---|" * len(phases))
    for vendor, _seeded, ours, _base in results:
        print(f"| {vendor} | " + " | ".join(f"{ours['phases'][p]:.1f}" for p in phases) + " |")
    print()
    for vendor, _seeded, ours, _base in results:
        print(f"{vendor} findings: {json.dumps(ours['counts'], sort_keys=True)}")


# --- Inside a process (run as `python -m bench.reconcile --inner ...`) ---------------------------------


def inner(step: str, *args: str) -> None:
    import django

    django.setup()
    out = {"file": _file, "seed": _seed, "ours": _ours, "baseline": _baseline}[step](*args)
    print(json.dumps(out))


def _id(base: dt.date, i: int, region: str = REGION) -> str:
    """The i-th distinct valid ID number born from `base` on (499 a day)."""
    from students import idcard

    day, seq = divmod(i, 499)
    return idcard.compose(region, base + dt.timedelta(days=day), seq + 1, idcard.Sex.MALE)


def _other(i: int) -> str:
    """The i-th ID number of someone who is neither a pupil nor a guardian (other counties)."""
    county, rest = divmod(i, 499 * 20_000)
    return _id(OTHER_BASE, rest, region=f"4107{county + 1:02d}")


def _guardian_no(student: int, position: int, students: int) -> int:
    return student if position == 1 else students + student


def _file(path: str, rows: str, students: str) -> dict:
    """The registry workbook, deterministic: a pupil, a guardian or another person on every row."""
    import random

    from core.xlsx import ColumnFormat, XlsxWriter

    n, pupils = int(rows), int(students)
    rng = random.Random(5)
    counts = {"rows": n, "students": 0, "guardians": 0, "households": 0, "invalid": 0}
    widths = [ColumnFormat(10), ColumnFormat(22), ColumnFormat(12), ColumnFormat(22)]
    other = 0
    with XlsxWriter(path, compresslevel=1) as book, book.sheet("低保名单", widths) as sheet:
        sheet.row(["姓名", "身份证号", "类别", "户主身份证号"])
        for i in range(n):
            draw = rng.random()
            category, household = CATEGORIES[i % len(CATEGORIES)], ""
            if draw < 0.08 and counts["students"] < pupils:
                number = _id(STUDENT_BASE, rng.randrange(pupils))
                counts["students"] += 1
            elif draw < 0.14:
                s = rng.randrange(pupils)
                number = _id(GUARDIAN_BASE, _guardian_no(s, 1 if s % 10 >= 3 else rng.choice((1, 2)), pupils))
                counts["guardians"] += 1
            elif draw < 0.16:
                number, other = _other(other), other + 1
                household = _id(GUARDIAN_BASE, _guardian_no(rng.randrange(pupils), 1, pupils))
                counts["households"] += 1
            elif draw < 0.1603:
                number = _other(other)[:17] + "0"  # a wrong check digit (or, by chance, a duplicate)
                other += 1
                counts["invalid"] += 1
            else:
                number, other = _other(other), other + 1
            sheet.row([f"测试{i}", number, category, household])
    counts["mb"] = Path(path).stat().st_size / 2**20
    return counts


def _seed(students: str, awards: str) -> dict:
    """Pupils, guardians, identifications, one semester's approved awards and a paying batch of demo-a."""
    from decimal import Decimal

    from django.db import models
    from django.utils import timezone

    from core.audit import trail
    from core.tenancy.context import tenant_transaction
    from disbursements.models import Batch, BatchKind, BatchStatus, LineStatus, PaymentLine
    from funding.models import Award, AwardList, AwardListStatus, AwardStatus, FundingSource, Program
    from funding.services import semesters
    from schools.models import SchoolClass, Tenant, User
    from students.models import (
        ApplicationStatus,
        EnrollmentStatus,
        Gender,
        Guardian,
        GuardianRelation,
        HardshipApplication,
        Hukou,
        Student,
        Tier,
    )  # fmt: skip

    n, n_awards = int(students), int(awards)
    tenant = Tenant.objects.get(slug="demo-a")

    def raw(model: type, objs: list) -> None:
        # Seeding only: the plain QuerySet's bulk_create writes no audit rows (what is measured is the run).
        models.QuerySet(model=model).bulk_create(objs, batch_size=5000)

    with trail.acting_as(trail.Actor(user_id=None, label="bench", source="command")), tenant_transaction(tenant.pk):
        district = User.objects.get(username="a.district")
        teacher = User.objects.get(username="a.teacher")
        classes = list(SchoolClass.objects.order_by("pk").values_list("pk", "school_id", "grade_id"))
        pupils = []
        for i in range(n):
            klass, school, grade = classes[i % len(classes)]
            number = _id(STUDENT_BASE, i)
            status = EnrollmentStatus.TRANSFERRED_OUT if i % 50 == 7 else EnrollmentStatus.ATTENDING
            pupils.append(
                Student(
                    school_id=school, grade_id=grade, klass_id=klass, name=f"学生{i}", id_number=number,
                    student_no=None if i % 100 == 3 else f"G{number}", gender=Gender.MALE,
                    birth_date=STUDENT_BASE + dt.timedelta(days=i // 499), enrollment_status=status,
                    is_boarding=i % 4 == 0, hukou=Hukou.RURAL,
                    card_account=f"62170{i // 2 if i % 1000 == 1 else i:014d}" if i % 3 == 0 else None,
                )
            )  # fmt: skip
        raw(Student, pupils)
        guardians = [
            Guardian(
                student_id=pupil.pk, position=position, name=f"家长{i}-{position}",
                relation=GuardianRelation.FATHER if position == 1 else GuardianRelation.MOTHER,
                id_number=_id(GUARDIAN_BASE, _guardian_no(i, position, n)),
            )
            for i, pupil in enumerate(pupils)
            for position in ((1, 2) if i % 10 < 3 else (1,))
        ]  # fmt: skip
        raw(Guardian, guardians)
        apps = {}
        for i, pupil in enumerate(pupils):
            if i % 3 == 0:
                apps[i] = HardshipApplication(
                    student_id=pupil.pk, school_id=pupil.school_id, grade_id=pupil.grade_id, klass_id=pupil.klass_id,
                    academic_year=2026, status=ApplicationStatus.IDENTIFIED, nominated_by=teacher,
                    proposed_tier=Tier.DIFFICULT, tier=Tier.DIFFICULT if i % 2 else Tier.GENERAL,
                    categories=["DIBAO"] if i % 9 == 0 else [], family_situation="bench",
                    identified_on=dt.date(2026, 11, 1),
                )  # fmt: skip
        raw(HardshipApplication, list(apps.values()))
        semester = semesters.semester_create(
            actor=district, academic_year=2026, term="SPRING", starts_on=dt.date(2027, 3, 1),
            ends_on=dt.date(2027, 7, 15), deadline=dt.date(2027, 6, 1),
        )  # fmt: skip
        program = Program.objects.filter(is_active=True, is_emergency=False).order_by("sort_order", "code").first()
        lists = {}
        for _klass, school, _grade in classes:
            lists.setdefault(
                school, AwardList(program=program, semester=semester, school_id=school, status=AwardListStatus.APPROVED)
            )
        raw(AwardList, list(lists.values()))
        chosen = []
        for i in range(n_awards):
            pupil = pupils[i]
            chosen.append(
                Award(
                    award_list=lists[pupil.school_id], program=program, semester=semester, student_id=pupil.pk,
                    school_id=pupil.school_id, grade_id=pupil.grade_id, klass_id=pupil.klass_id,
                    application_id=apps[i].pk if i in apps else None, amount=Decimal("625.00"),
                    status=AwardStatus.APPROVED, reason="bench",
                )
            )  # fmt: skip
        raw(Award, chosen)
        batch = Batch.objects.create(
            semester=semester, number=1, kind=BatchKind.FIRST, status=BatchStatus.RELEASED, created_by=district,
            released_by=district, released_at=timezone.now(),
        )  # fmt: skip
        raw(
            PaymentLine,
            [
                PaymentLine(batch=batch, award=a, program=program, semester=semester, student_id=a.student_id,
                            school_id=a.school_id, grade_id=a.grade_id, klass_id=a.klass_id, amount=a.amount,
                            source=FundingSource.CENTRAL, bank="农村信用社", account=f"62210{i:014d}",
                            holder="家长", status=LineStatus.PAID if i % 2 else LineStatus.EXPORTED)
                for i, a in enumerate(chosen) if i % 3 == 1
            ],
        )  # fmt: skip
    return {"students": n, "guardians": len(guardians), "applications": len(apps), "awards": n_awards}


def _ours(path: str) -> dict:
    """registry_import + reconciliation_run, end to end, with the time of each phase (wrapped)."""
    import resource
    import time
    from collections import defaultdict

    from audits.reconciliation import engine
    from audits.reconciliation import services as runs
    from audits.registry import services as registry
    from audits.registry.services import entries, imports
    from core.audit import trail
    from core.tenancy.context import tenant_context, tenant_transaction
    from funding.models import Semester
    from schools.models import Tenant, User

    spent: dict[str, float] = defaultdict(float)

    def timed(owner: object, name: str, phase: str) -> None:
        fn = getattr(owner, name)

        def wrapper(*a: object, **kw: object) -> object:
            started = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[phase] += time.perf_counter() - started

        setattr(owner, name, wrapper)

    opened_fn = imports.open_registry

    def open_timed(*a: object, **kw: object) -> object:
        started = time.perf_counter()
        opened = opened_fn(*a, **kw)
        spent["scan, open"] += time.perf_counter() - started
        rows = opened._rows

        def rows_timed() -> object:
            it = rows()
            while True:
                started = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    spent["read (calamine)"] += time.perf_counter() - started
                    return
                spent["read (calamine)"] += time.perf_counter() - started
                yield item

        opened._rows = rows_timed
        return opened

    imports.open_registry = open_timed
    timed(imports, "load", "load")
    if hasattr(entries.EntryWriter, "_rows"):
        timed(entries.EntryWriter, "_rows", "encrypt, blind index")
    timed(entries.EntryWriter, "write", "write (incl. encrypt)")
    if hasattr(entries.EntryWriter, "close"):  # the last chunk's statements (written in a second thread)
        timed(entries.EntryWriter, "close", "write (incl. encrypt)")
    timed(imports, "_changes", "changes")
    timed(engine, "registry_matches", "match (join)")
    timed(runs, "reconcile", "reconcile")

    tenant = Tenant.objects.get(slug="demo-a")
    user = User.objects.get(username="a.district")
    with tenant_context(tenant.pk), trail.acting_as(trail.actor_for(user, source="command")):
        with tenant_transaction(tenant.pk):
            semester = Semester.objects.get(academic_year=2026, term="SPRING")
        wall, cpu = time.perf_counter(), time.process_time()
        with tenant_transaction(tenant.pk):
            result = registry.registry_import(actor=user, source="CIVIL", file=path)
        imported = time.perf_counter() - wall
        started = time.perf_counter()
        profile = _profiler()  # BENCH_PROFILE=FILE: cProfile statistics of the run, for finding hot spots
        with tenant_transaction(tenant.pk):
            run, created = runs.reconciliation_run(actor=user, semester=semester)
        ran = time.perf_counter() - started
        if profile is not None:
            profile.disable()
            profile.dump_stats(os.environ["BENCH_PROFILE"])
        cpu = time.process_time() - cpu
    if not (created and result.created):
        raise RuntimeError("the import or the run found an earlier one: nothing was measured")
    load = spent.pop("load")
    write = spent.pop("write (incl. encrypt)")
    encrypt = spent.get("encrypt, blind index", 0.0)
    read = spent["read (calamine)"]
    reconcile = spent.pop("reconcile")
    phases = {
        "scan, open": spent["scan, open"],
        "read (calamine)": read,
        "validate": load - read - write,
        "encrypt, blind index": encrypt,
        "write (COPY, INSERT)": write - encrypt,
        "changes, commit": imported - spent["scan, open"] - load,
        "match (join)": spent["match (join)"],
        "reads, rules": reconcile - spent["match (join)"],
        "write findings": ran - reconcile,
    }
    return {
        "import": imported,
        "run": ran,
        "cpu": cpu,
        "kept": result.snapshot.rows_valid,
        "rejected": result.snapshot.rows_rejected,
        "findings": sum(v for k, v in run.counts.items() if ":" not in k),
        "counts": run.counts,
        "phases": phases,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _profiler():
    import cProfile

    if not os.environ.get("BENCH_PROFILE"):
        return None
    profile = cProfile.Profile()
    profile.enable()
    return profile


def _baseline(path: str, rows: str) -> dict:
    """The obvious code: a row at a time, each person and fact fetched with its own query."""
    import time

    import openpyxl
    from django.db import connection

    from audits.models import RegistryEntry, RegistrySnapshot
    from core.audit import trail
    from core.crypto import blind_index
    from core.tenancy.context import tenant_context, tenant_transaction
    from disbursements.models import LineStatus, PaymentLine
    from funding.models import Award, AwardStatus, Semester
    from schools.models import Tenant, User
    from students import idcard
    from students.models import EnrollmentStatus, Guardian, HardshipApplication, Student

    n = int(rows)
    tenant = Tenant.objects.get(slug="demo-a")
    user = User.objects.get(username="a.district")
    codes = {"低保": "DIBAO", "特困供养": "TEKUN", "孤儿": "ORPHAN", "低保边缘": "DIBAO_EDGE",
             "事实无人抚养儿童": "DE_FACTO_ORPHAN"}  # fmt: skip
    queries = []

    def count(execute, sql, params, many, context):  # counts, without the debug cursor's cost
        queries.append(1)
        return execute(sql, params, many, context)

    found: list[tuple[str, object]] = []
    with tenant_context(tenant.pk), trail.acting_as(trail.actor_for(user, source="command")):
        with tenant_transaction(tenant.pk):
            semester = Semester.objects.get(academic_year=2026, term="SPRING")
        started = time.perf_counter()
        with tenant_transaction(tenant.pk), connection.execute_wrapper(count):
            snapshot = RegistrySnapshot.objects.create(
                source="CIVIL",
                file_name="naive.xlsx",
                fingerprint="naive",
                taken_on=dt.date(2027, 3, 1),
                imported_by=user,
            )
            book = openpyxl.load_workbook(path, read_only=True)
            done = 0
            for number, cells in enumerate(book.active.iter_rows(min_row=2, values_only=True), start=2):
                if done >= n:
                    break
                done += 1
                name, raw_id, category, household = (list(cells) + [None] * 4)[:4]
                try:
                    person = idcard.parse(str(raw_id or "")).number
                    household = idcard.parse(household).number if household else None
                except idcard.InvalidIdNumber:
                    continue
                entry = RegistryEntry.objects.create(
                    snapshot=snapshot, row_number=number, name=name, id_number=person,
                    household_id_number=household, category=codes.get(category, "DIBAO"),
                )  # fmt: skip
                pupil = Student.objects.filter(id_number_hash=blind_index(person, kind="id_number")).first()
                guardian = Guardian.objects.filter(id_number_hash=entry.id_number_hash).first()
                head = (
                    Guardian.objects.filter(id_number_hash=entry.household_id_number_hash).first()
                    if household
                    else None
                )
                for match in (pupil, guardian and guardian.student, head and head.student):
                    if match is None or match.enrollment_status != EnrollmentStatus.ATTENDING:
                        continue
                    application = HardshipApplication.objects.filter(student=match, academic_year=2026).first()
                    for award in Award.objects.filter(student=match, semester=semester):
                        PaymentLine.objects.filter(award=award, status=LineStatus.PAID).exists()
                    found.append((entry.category, application))
        row_seconds = time.perf_counter() - started
        row_queries = len(queries)
        awards = max(n // 10, 1)
        started = time.perf_counter()
        with tenant_transaction(tenant.pk), connection.execute_wrapper(count):
            for award in Award.objects.filter(semester=semester, status=AwardStatus.APPROVED).order_by("pk")[:awards]:
                pupil = award.student
                _left = pupil.enrollment_status != EnrollmentStatus.ATTENDING or not pupil.student_no
                _app = award.application
                _paid = list(PaymentLine.objects.filter(award=award, status=LineStatus.PAID))
                hashes = [pupil.id_number_hash, *pupil.guardians.exclude(id_number_hash=None).values_list(
                    "id_number_hash", flat=True)]  # fmt: skip
                _listed = RegistryEntry.objects.filter(snapshot=snapshot, id_number_hash__in=hashes).exists()
                _shared = (
                    Student.objects.filter(card_account_hash=pupil.card_account_hash).exclude(pk=pupil.pk).exists()
                    if pupil.card_account_hash
                    else False
                )
        award_seconds = time.perf_counter() - started
    return {
        "rows": done,
        "row_seconds": row_seconds,
        "row_rate": done / row_seconds,
        "awards": awards,
        "award_seconds": award_seconds,
        "award_rate": awards / award_seconds,
        "queries": len(queries),
        "row_queries": row_queries,
        "matched": len(found),
    }


if __name__ == "__main__":
    main()
