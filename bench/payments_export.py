"""Benchmark: the payment roster (发放名册) of a batch of 100,000 lines, as xlsx and as CSV, and side by side
the obvious way: a plain openpyxl Workbook (not write-only) filled row by row from
`PaymentLine.objects.all()`, with a query per related object (student, school, grade, class, program).

    .venv/bin/python bench/payments_export.py [--vendors sqlite postgresql] [--lines 100000] [--baseline-lines 10000]

For each database: a fresh database seeded with `manage.py seed_demo` (district demo-a, about 9,700
pupils with encrypted ID numbers); --lines payment lines of one bank and funding source are added to
one released batch, set-based (bank-paid programs, approved lists and awards, the lines with their
encrypted account numbers; seeding is not what is measured and writes no audit rows). Then, each in its
own process: the product's export as xlsx and as CSV (with its school totals), end to end (query,
decryption, writing, the audit row), checked against the seeded sum to the fen; and the baseline on the
first --baseline-lines lines (it costs about six queries a line; lines per second are compared).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import PG_OWNER, drop_database, fresh_database, manage, run_script

BANK = "农村信用社"
RUNS = 3
AMOUNTS = ("250.00", "312.50", "500.00", "625.00", "1000.00", "333.33", "1250.00")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vendors", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--lines", type=int, default=100_000, help="lines of the batch exported by the product")
    parser.add_argument("--baseline-lines", type=int, default=10_000, help="lines written by the baseline")
    parser.add_argument("--inner", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(*args.inner)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-payments-"))
    results = []
    try:
        for vendor in args.vendors:
            env = fresh_database(vendor)
            try:
                manage(["seed_demo"], env)
                seeded = json.loads(run_script("bench.payments_export", ["--inner", "seed", str(args.lines)], env))
                if vendor == "postgresql":
                    # What autovacuum does soon after 100,000 inserts (only the owner may): planner statistics.
                    db = f"{PG_OWNER}/{env['BENCH_DROP_DATABASE']}"
                    subprocess.run(["psql", db, "-qc", "ANALYZE"], check=True)
                ours = json.loads(run_script("bench.payments_export", ["--inner", "ours", str(work)], env))
                base_args = ["--inner", "baseline", str(work), str(args.baseline_lines)]
                base = json.loads(run_script("bench.payments_export", base_args, env))
            finally:
                drop_database(env)
            if ours["amount"] != seeded["amount"] or ours["lines"] != seeded["lines"]:
                raise RuntimeError(f"the roster does not add up: {ours} against {seeded}")
            results.append((vendor, seeded, ours, base))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        "| database | lines (sum) | roster xlsx | roster CSV + totals CSV | of which query + decryption "
        "| openpyxl Workbook, per-row lookups | speed-up (lines/s, xlsx) | peak RSS (ours) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for vendor, seeded, ours, base in results:
        rate, base_rate = ours["lines"] / ours["xlsx"][0], base["lines"] / base["seconds"]
        print(
            f"| {vendor} | {seeded['lines']:,} (¥{seeded['amount']}) | {_took(ours['xlsx'])} "
            f"({ours['xlsx_mb']:.1f} MB) | {_took(ours['csv'])} ({ours['csv_mb']:.1f} MB) | {_took(ours['read'])} "
            f"| {base['lines']:,} in {base['seconds']:.1f} s ({base_rate:,.0f}/s; 100,000 ≈ "
            f"{100_000 / base_rate:.0f} s, {base['queries']:,} queries) | {rate / base_rate:.0f}× "
            f"| {ours['rss_mb']:.0f} MB |"
        )
    print()
    print(f"Best of {RUNS} runs each, wall clock (and the process's CPU time in that run).")


def _took(run: list[float]) -> str:
    wall, cpu = run
    return f"{wall:.2f} s (CPU {cpu:.2f} s)"


# --- Inside the benchmark's database (run as `python -m bench.payments_export --inner ...`) ------------


def inner(step: str, *args: str) -> None:
    import django

    django.setup()
    out = {"seed": _seed, "ours": _ours, "baseline": _baseline}[step](*args)
    print(json.dumps(out))


def _seed(lines: str) -> dict:
    """A released batch of `lines` EXPORTED lines of demo-a, one bank, one funding source."""
    import datetime as dt
    import math
    from decimal import Decimal

    from django.db import models
    from django.utils import timezone

    from core.audit import trail
    from core.tenancy.context import tenant_transaction
    from disbursements.models import Batch, BatchKind, BatchStatus, LineStatus, PaymentLine
    from funding.models import (
        Award,
        AwardList,
        AwardListStatus,
        AwardStatus,
        FundingSource,
        PaymentMethod,
        Program,
        Semester,
        Term,
    )  # fmt: skip
    from schools.models import School, Tenant, User
    from students.models import Student

    n = int(lines)
    tenant = Tenant.objects.get(slug="demo-a")

    def raw(model: type, objs: list) -> None:
        # Seeding only: the plain QuerySet's bulk_create writes no audit rows (what is measured is the export).
        models.QuerySet(model=model).bulk_create(objs, batch_size=2000)

    with trail.acting_as(trail.Actor(user_id=None, label="bench", source="command")), tenant_transaction(tenant.pk):
        district = User.objects.get(username="a.district")
        semester = Semester.objects.create(
            academic_year=2026, term=Term.SPRING, starts_on=dt.date(2027, 3, 1), ends_on=dt.date(2027, 7, 15),
            deadline=dt.date(2027, 6, 1),
        )  # fmt: skip
        pupils = list(
            Student.objects.order_by("school__code", "grade_id", "klass_id", "pk").values_list(
                "pk", "school_id", "grade_id", "klass_id", "name"
            )
        )
        programs = [
            Program(code=f"BENCH_{i:02d}", name=f"测试资助项目{i:02d}", source=FundingSource.CENTRAL,
                    payment_method=PaymentMethod.BANK, stages=[])
            for i in range(math.ceil(n / len(pupils)))
        ]  # fmt: skip
        raw(Program, programs)
        schools = list(School.objects.values_list("pk", flat=True))
        award_lists = {
            (p.pk, s): AwardList(program=p, semester=semester, school_id=s, status=AwardListStatus.APPROVED)
            for p in programs
            for s in schools
        }
        raw(AwardList, list(award_lists.values()))
        awards, total = [], Decimal("0.00")
        for i in range(n):
            program = programs[i // len(pupils)]
            pk, school, grade, klass, _name = pupils[i % len(pupils)]
            amount = Decimal(AMOUNTS[i % len(AMOUNTS)])
            total += amount
            awards.append(
                Award(award_list=award_lists[(program.pk, school)], program=program, semester=semester, student_id=pk,
                      school_id=school, grade_id=grade, klass_id=klass, amount=amount, status=AwardStatus.APPROVED,
                      reason="bench")
            )  # fmt: skip
        raw(Award, awards)
        batch = Batch.objects.create(
            semester=semester, number=1, kind=BatchKind.FIRST, status=BatchStatus.RELEASED, created_by=district,
            released_by=district, released_at=timezone.now(),
        )  # fmt: skip
        names = {pk: name for pk, _s, _g, _k, name in pupils}
        raw(
            PaymentLine,
            [
                PaymentLine(batch=batch, award=a, program=a.program, semester=semester, student_id=a.student_id,
                            school_id=a.school_id, grade_id=a.grade_id, klass_id=a.klass_id, amount=a.amount,
                            source=FundingSource.CENTRAL, bank=BANK, account=f"62210{i:014d}",
                            holder=f"{names[a.student_id]}家长", status=LineStatus.EXPORTED)
                for i, a in enumerate(awards)
            ],
        )  # fmt: skip
    return {"lines": n, "amount": str(total), "batch": str(batch.pk)}


def _ours(work: str) -> dict:
    import csv
    import io
    import resource
    import time

    import openpyxl
    from django.conf import settings
    from django.utils import translation

    from core.audit import trail
    from core.tenancy.context import tenant_context, tenant_transaction
    from disbursements.models import Batch
    from disbursements.services import exports
    from schools.models import Tenant, User

    tenant = Tenant.objects.get(slug="demo-a")
    user = User.objects.get(username="a.district")
    out = Path(work)
    with tenant_context(tenant.pk), trail.acting_as(trail.actor_for(user, source="command")):
        with tenant_transaction(tenant.pk):
            batch = Batch.objects.get(number=1, semester__academic_year=2026, semester__term="SPRING")

        def best(fn: Callable[[], Any]) -> tuple[list[float], Any]:
            runs = []
            for _ in range(RUNS):
                wall, cpu = time.perf_counter(), time.process_time()
                result = fn()
                runs.append(([time.perf_counter() - wall, time.process_time() - cpu], result))
            return min(runs, key=lambda r: r[0][0])

        def read() -> None:
            # The reading alone (query and decryption, nothing written), for the split.
            with tenant_transaction(tenant.pk), translation.override(settings.LANGUAGE_CODE):
                probe = exports.RosterExport(fmt="xlsx", bank=BANK, source=None, layout="")
                wanted = {f for _h, f in exports.DEFAULT_LAYOUT}
                for _record in exports._records(batch, BANK, None, wanted, probe):
                    pass

        read_run, _none = best(read)
        xlsx_run, xlsx = best(
            lambda: exports.payment_roster(actor=user, batch=batch, bank=BANK, fmt="xlsx", target=out / "roster.xlsx")
        )
        csv_run, csv_export = best(
            lambda: exports.payment_roster(
                actor=user,
                batch=batch,
                bank=BANK,
                fmt="csv",
                target=out / "roster.csv",
                totals_target=out / "totals.csv",
            )
        )
    # The totals, read back: the workbook's grand total and the CSV's equal the lines' sum to the fen.
    book = openpyxl.load_workbook(out / "roster.xlsx", read_only=True)
    grand = list(book["学校汇总"].iter_rows(values_only=True))[-1]
    totals = list(csv.reader(io.StringIO((out / "totals.csv").read_bytes().decode("gb18030"))))[-1]
    if (grand[0], grand[2], f"{grand[3]:.2f}") != ("合计", xlsx.lines, f"{xlsx.amount:.2f}"):
        raise RuntimeError(f"xlsx grand total {grand} is not {xlsx.lines} lines, {xlsx.amount}")
    if totals != ["合计", "", str(csv_export.lines), f"{csv_export.amount:.2f}"] or csv_export.amount != xlsx.amount:
        raise RuntimeError(f"CSV totals {totals} are not {csv_export.lines} lines, {csv_export.amount}")
    return {
        "lines": xlsx.lines,
        "amount": f"{xlsx.amount:.2f}",
        "read": read_run,
        "xlsx": xlsx_run,
        "csv": csv_run,
        "xlsx_mb": (out / "roster.xlsx").stat().st_size / 2**20,
        "csv_mb": (out / "roster.csv").stat().st_size / 2**20,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _baseline(work: str, lines: str) -> dict:
    """The obvious code: a plain Workbook, one row per line, each related object fetched when touched."""
    import time
    from decimal import Decimal

    import openpyxl
    from django.db import connection

    from core.tenancy.context import tenant_transaction
    from core.xlsx import neutralise
    from disbursements.models import PaymentLine
    from schools.models import Tenant

    tenant = Tenant.objects.get(slug="demo-a")
    queries = []

    def count(execute, sql, params, many, context):  # counts, without the debug cursor's cost
        queries.append(1)
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with tenant_transaction(tenant.pk), connection.execute_wrapper(count):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "发放名册"
        sheet.append([header for header, _field in DEFAULT_HEADERS])
        totals: dict[str, list] = {}
        count = 0
        for count, line in enumerate(PaymentLine.objects.all().order_by("created_at", "pk")[: int(lines)], start=1):
            student, school, program = line.student, line.school, line.program
            sheet.append(
                [
                    count, str(line.pk), neutralise(student.name), student.id_number.reveal(), line.account.reveal(),
                    neutralise(line.holder), float(line.amount), neutralise(school.name), str(line.grade),
                    str(line.klass), neutralise(program.name), line.get_source_display(), neutralise(line.bank),
                ]
            )  # fmt: skip
            total = totals.setdefault(school.name, [0, Decimal("0.00")])
            total[0] += 1
            total[1] += line.amount
        summary = book.create_sheet("学校汇总")
        summary.append(["学校", "笔数", "金额"])
        for name, (n, amount) in sorted(totals.items()):
            summary.append([name, n, float(amount)])
        book.save(Path(work) / "baseline.xlsx")
    return {"lines": count, "seconds": time.perf_counter() - started, "queries": len(queries)}


DEFAULT_HEADERS = (
    ("序号", "seq"), ("业务编号", "ref"), ("姓名", "name"), ("身份证号", "id_number"), ("账号", "account"),
    ("户名", "holder"), ("金额", "amount"), ("学校", "school"), ("年级", "grade"), ("班级", "class"),
    ("资助项目", "program"), ("资金来源", "source"), ("开户银行", "bank"),
)  # fmt: skip


if __name__ == "__main__":
    main()
