"""Benchmark: the roster import (学籍名册导入) of a 100,000-row workbook, and side by side the plain way,
a django-import-export ModelResource for Student, on the same workbook.

    .venv/bin/python bench/roster_import.py [--vendors sqlite postgresql] [--rows 100000] [--baseline-rows 2000]

For each database: a fresh database seeded with `manage.py seed_demo --scale 0.05` (its schools and
classes); a roster of --rows new pupils of district demo-a is generated (valid ID numbers whose birth
dates fit the grades, a guardian for every pupil and a second one for some, phones, funding cards);
the import runs as the district's funding officer (a.district), with the row report, then runs again
(every row unchanged). The ModelResource runs in a second fresh database on the first --baseline-rows
rows of the same workbook (it takes about 100 times longer per row; rows per second are compared).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import drop_database, fresh_database, manage, run_script

SEED_SCALE = "0.05"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vendors", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the roster imported by the product")
    parser.add_argument("--baseline-rows", type=int, default=2000, help="rows imported by the ModelResource")
    parser.add_argument("--inner", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(*args.inner)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-roster-"))
    results = []
    try:
        for vendor in args.vendors:
            env = fresh_database(vendor)
            try:
                manage(["seed_demo", "--scale", SEED_SCALE], env)
                ours_args = ["--inner", "ours", str(work), str(args.rows)]
                ours = json.loads(run_script("bench.roster_import", ours_args, env))
            finally:
                drop_database(env)
            env = fresh_database(vendor)
            try:
                manage(["seed_demo", "--scale", SEED_SCALE], env)
                baseline_args = ["--inner", "baseline", str(work), str(args.baseline_rows)]
                base = json.loads(run_script("bench.roster_import", baseline_args, env))
            finally:
                drop_database(env)
            results.append((vendor, ours, base))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        "| database | roster import: new pupils | re-import (all unchanged) "
        "| django-import-export ModelResource | speed-up (rows/s) |"
    )
    print("|---|---|---|---|---|")
    for vendor, ours, base in results:
        rate, base_rate = ours["rows"] / ours["seconds"], base["rows"] / base["seconds"]
        print(
            f"| {vendor} | {ours['rows']:,} rows in {ours['seconds']:.1f} s ({rate:,.0f}/s) "
            f"| {ours['again_seconds']:.1f} s | {base['rows']:,} rows in {base['seconds']:.1f} s ({base_rate:,.0f}/s) "
            f"| {rate / base_rate:.0f}× |"
        )
    print()
    print("Where the product's time goes (seconds):")
    print()
    print(
        "| database | checks | open, prescan | validate, prepare | waits for readers "
        "| write (crypto, SQL) | audit rows | report | audit events | RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for vendor, ours, _base in results:
        t = ours["timings"]
        print(
            f"| {vendor} | {t.get('inspect', 0):.1f} | {t.get('open', 0) + t.get('prescan', 0):.1f} "
            f"| {t.get('validate', 0):.1f} | {t.get('wait', 0):.1f} ({t.get('first', 0):.1f} for the first chunk) "
            f"| {t.get('write', 0) - t.get('audit', 0):.1f} "
            f"| {t.get('audit', 0):.1f} | {t.get('report', 0):.1f} | {ours['events']:,} | {ours['rss_mb']:.0f} MB |"
        )
    print()
    print("Read beside the import (PostgreSQL), open and prescan are the first reader's (it forks the others),")
    print("validate is the readers' (summed over them), at the same time as the importer's write; RSS is the")
    print("importer's.")
    print()
    print("CPU of the import (seconds, user + system):")
    print()
    print("| database | importer | readers | database server | in all | wall | cores busy |")
    print("|---|---|---|---|---|---|---|")
    for vendor, ours, _base in results:
        cpu = ours["cpu"]
        parts = [cpu["importer"], cpu["readers"], cpu["database"] or 0.0]
        total = sum(parts)
        server = f"{cpu['database']:.1f}" if cpu["database"] is not None else "(in the importer)"
        print(
            f"| {vendor} | {cpu['importer']:.1f} | {cpu['readers']:.1f} | {server} | {total:.1f} "
            f"| {ours['seconds']:.1f} | {total / ours['seconds']:.1f} |"
        )


# --- Inside the benchmark's database (run as `python -m bench.roster_import --inner ...`) -------------


def inner(step: str, work: str, rows: str) -> None:
    import django

    django.setup()
    out = {"ours": _ours, "baseline": _baseline}[step](Path(work), int(rows))
    print(json.dumps(out))


def _roster(path: Path, n: int) -> None:
    """n new pupils of demo-a, deterministic: the same n first rows whatever n is."""
    import datetime as dt
    import random

    from core.tenancy.context import tenant_transaction
    from core.xlsx import STYLE_BOLD, ColumnFormat, XlsxWriter
    from demo.seed import GIVEN, SURNAMES
    from schools.models import STAGE_ENTRY_AGE, SchoolClass, Stage, Tenant
    from students import idcard
    from students.roster.columns import COLUMNS, HEADERS, STAGE_WORDS

    tenant = Tenant.objects.get(slug="demo-a")
    with tenant_transaction(tenant.pk):
        classes = list(
            SchoolClass.objects.select_related("school", "grade").order_by(
                "school__code", "grade__stage", "grade__entry_year", "number"
            )
        )
    rng = random.Random(20260901)
    used: set[tuple] = set()
    towns = ("城关镇", "北阳镇", "西岗镇", "庙口镇", "高村镇", "黄洞乡")

    def person_id(birth: dt.date, sex: idcard.Sex, region: str) -> str:
        # Sequences from 200 up: seed_demo's pupils use the low ones.
        seq = rng.randrange(200, 499)
        while (region, birth, seq, sex) in used:
            seq = seq + 1 if seq < 498 else 200
        used.add((region, birth, seq, sex))
        return idcard.compose(region, birth, seq, sex)

    def name() -> str:
        return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")

    with XlsxWriter(path) as book, book.sheet("学籍名册", [ColumnFormat(c.width, c.text) for c in COLUMNS]) as sheet:
        sheet.row(HEADERS, style=STYLE_BOLD)
        for i in range(n):
            klass = classes[i % len(classes)]
            stage = Stage(klass.grade.stage)
            birth = dt.date(klass.grade.entry_year - STAGE_ENTRY_AGE[stage] - 1, 9, 1) + dt.timedelta(
                days=rng.randrange(365)
            )
            sex = idcard.Sex.MALE if rng.random() < 0.52 else idcard.Sex.FEMALE
            region = "410622" if rng.random() < 0.9 else rng.choice(("410602", "410603", "410621"))
            number = person_id(birth, sex, region)
            rural = rng.random() < 0.7
            father = name()
            mother_birth = birth - dt.timedelta(days=rng.randrange(24 * 365, 38 * 365))
            g2 = rng.random() < 0.4
            sheet.row(
                [
                    klass.school.code, STAGE_WORDS[stage], klass.grade.entry_year, klass.number, name(), number,
                    f"G{number}", "男" if sex is idcard.Sex.MALE else "女", birth.isoformat(),
                    "在校" if rng.random() > 0.01 else "休学", "是" if rng.random() < 0.3 else "否",
                    "农村" if rural else "城镇", rng.choice(towns), f"{rng.choice('东西南北前后')}村" if rural else "",
                    f"13{rng.randrange(10**9):09d}",
                    father, "父亲", person_id(mother_birth - dt.timedelta(days=700), idcard.Sex.MALE, region),
                    f"15{rng.randrange(10**9):09d}",
                    name() if g2 else "", "母亲" if g2 else "",
                    person_id(mother_birth, idcard.Sex.FEMALE, region) if g2 else "",
                    f"18{rng.randrange(10**9):09d}" if g2 else "",
                    "农村信用社", f"62210{rng.randrange(10**14):014d}", father,
                ]
            )  # fmt: skip


def _ours(work: Path, rows: int) -> dict:
    import resource
    import time

    from audits.models import AuditEvent
    from core.audit import trail
    from core.tenancy.context import tenant_context, tenant_transaction
    from schools.models import Tenant, User
    from students.roster.services import roster_import

    full = work / "roster.xlsx"
    _roster(full, rows)
    tenant = Tenant.objects.get(slug="demo-a")
    user = User.objects.get(username="a.district")
    with tenant_transaction(tenant.pk):
        events_before = AuditEvent.objects.count()
    runs = []
    for attempt in ("first", "again"):
        cpu_before = _cpu()
        started = time.perf_counter()
        with tenant_context(tenant.pk), trail.acting_as(trail.actor_for(user, source="command")):
            outcome = roster_import(path=full, file_name=full.name, actor=user, report_path=work / f"{attempt}.xlsx")
        runs.append((time.perf_counter() - started, outcome))
        if attempt == "first":
            cpu = {k: (v - cpu_before[k] if v is not None else None) for k, v in _cpu().items()}
    (seconds, first), (again_seconds, again) = runs
    if first.created != rows or again.unchanged != rows:
        raise RuntimeError(f"unexpected outcome: {first.summary()}; again: {again.summary()}")
    with tenant_transaction(tenant.pk):
        events = AuditEvent.objects.count() - events_before
    return {
        "rows": rows,
        "seconds": seconds,
        "again_seconds": again_seconds,
        "timings": first.timings,
        "events": events,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu": cpu,
    }


def _cpu() -> dict[str, float | None]:
    """CPU seconds so far (user + system) of this process, of its finished children (the readers),
    and of PostgreSQL when the server runs on this machine (else None): this connection's backend,
    plus the backends that have ended (the readers' own connections), which the server's main
    process counts as its reaped children.
    On a shared virtual machine whose speed drifts by a quarter within minutes, where the CPU goes
    says more than the wall time."""
    import os
    import resource

    from django.db import connection

    def used(who: int) -> float:
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def stat(pid: int) -> list[str]:
        # /proc/<pid>/stat after the command name: state, ppid, …, utime, stime, cutime, cstime (fields 3-17)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            own = stat(pid)
            # The readers' backends have ended by the time this is read: the server's main process has
            # reaped them, and counts their CPU time as its children's.
            server = stat(int(own[1]))
            ticks = int(own[11]) + int(own[12]) + int(server[13]) + int(server[14])
            backend = ticks / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            backend = None  # a server elsewhere (or another user's process): not measured
    return {"importer": used(resource.RUSAGE_SELF), "readers": used(resource.RUSAGE_CHILDREN), "database": backend}


def _baseline(work: Path, rows: int) -> dict:
    """The plain way: a ModelResource for Student, the roster's columns mapped in before_import_row."""
    import time

    from import_export import resources
    from import_export.formats.base_formats import XLSX

    from core.audit import trail
    from core.crypto import blind_index
    from core.tenancy.context import tenant_context, tenant_transaction
    from schools.models import SchoolClass, Tenant, User
    from students.models import Student
    from students.roster.columns import GENDERS, HUKOU, STAGES, STATUSES, YES_NO

    class StudentResource(resources.ModelResource):
        class Meta:
            model = Student
            fields = (
                "school", "grade", "klass", "name", "id_number", "student_no", "gender",
                "birth_date", "enrollment_status", "is_boarding", "hukou", "township", "village", "phone",
                "card_bank", "card_account", "card_holder",
            )  # fmt: skip
            skip_unchanged = True

        def __init__(self, classes: dict) -> None:
            super().__init__()
            self.classes = classes

        def get_instance(self, instance_loader: object, row: dict) -> Student | None:
            # Upsert by ID number: found by its blind index (the number itself is stored encrypted).
            return Student.objects.filter(id_number_hash=blind_index(row["身份证号"], kind="id_number")).first()

        def before_import_row(self, row: dict, **kwargs: object) -> None:
            klass = self.classes[(row["学校标识码"], STAGES[row["学段"]], int(row["入学年份"]), int(row["班号"]))]
            row.update(
                school=klass.school_id, grade=klass.grade_id, klass=klass.pk, name=row["姓名"],
                id_number=row["身份证号"], student_no=row["学籍号"], gender=GENDERS[row["性别"]],
                birth_date=row["出生日期"],
                enrollment_status=STATUSES[row["学籍状态"]], is_boarding=YES_NO[row["是否寄宿"]],
                hukou=HUKOU[row["户籍性质"]], township=row["乡镇"] or "", village=row["村（社区）"] or "",
                phone=row["联系电话"], card_bank=row["开户银行"], card_account=row["银行账号"],
                card_holder=row["账户持有人"],
            )  # fmt: skip

    part = work / "baseline.xlsx"
    _roster(part, rows)
    tenant = Tenant.objects.get(slug="demo-a")
    user = User.objects.get(username="a.district")
    started = time.perf_counter()
    dataset = XLSX().create_dataset(part.read_bytes())
    with tenant_context(tenant.pk), trail.acting_as(trail.actor_for(user, source="command")):
        with tenant_transaction(tenant.pk):
            classes = {
                (k.school.code, k.grade.stage, k.grade.entry_year, k.number): k
                for k in SchoolClass.objects.select_related("school", "grade")
            }
        with tenant_transaction(tenant.pk):
            result = StudentResource(classes).import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    if result.totals["new"] != rows:
        raise RuntimeError(f"unexpected outcome: {result.totals}")
    return {"rows": rows, "seconds": seconds}


if __name__ == "__main__":
    main()
