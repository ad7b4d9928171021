"""Benchmark: the platform's matching of pupils across districts (跨区县重复资助), 50 districts × 20,000
pupils on PostgreSQL, and side by side the obvious alternatives on the same data.

    .venv/bin/python bench/crossdistrict.py        # --districts 50 --pupils 20000 --sample 200

A fresh database (migrated as the owner, used as the app role). Seeded set-based and without audit rows
(seeding is not what is measured): --districts districts (tenant_create: their programs and
categories), each with one school, grade and class, --pupils pupils with encrypted, blind-indexed ID
numbers, the 2026 autumn semester with its standards, and an approved living-subsidy award for every
other pupil. Pairs of districts (0 and 1, 2 and 3, …) share pupils: in an even district the pupils
i ≡ 0 and i ≡ 1 (mod 100) carry the ID number of the odd neighbour's pupil i; the first are funded in
both (funded twice), the second in the even district only, while at school in both (at school here,
funded there). So each pair has 200 + 200 pupils in two districts, and 800 matches to tell.

Measured, each in its own process on the same data:
- ours: `crossdistrict_match` (read and decrypt each district's pupils, hash with the platform key,
  pick the hashes of two districts in memory, write their facts to the platform table with one COPY,
  one self-join over it, tell every district), with its phases;
- per pupil: for a sample of one district's funded pupils, ask every other district (its transaction)
  for a pupil with the same blind index and that pupil's awards: queries per pupil, extrapolated to
  every funded pupil of every district (what a loop over the ORM does; it needs a blind-index key
  shared by the districts, which the platform hash exists to avoid);
- in Python: every district's ID numbers decrypted and compared in one dict in the worker's memory,
  with no platform table (as fast as it gets; keeps nothing to audit or to re-run on).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import drop_database, fresh_database, run_script

REGION = "410627"
BASE = dt.date(2010, 1, 1)
SEMESTER = "2026-AUTUMN"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--districts", type=int, default=50)
    parser.add_argument("--pupils", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=200, help="funded pupils of the per-pupil baseline")
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--database", help="an existing bench database to use (and keep) instead of a fresh one")
    parser.add_argument("--inner", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        import django

        django.setup()
        step, *rest = args.inner
        out = {"seed": _seed, "ours": _ours, "per_pupil": _per_pupil, "python": _python}[step](*rest)
        print(json.dumps(out))
        return
    if args.database:
        import os

        from bench._setup import BENCH_ENV, PG_APP_ROLE, PG_OWNER

        env = {
            **os.environ,
            **BENCH_ENV,
            "DATABASE_URL": f"postgres://{PG_APP_ROLE}@{PG_OWNER.split('@', 1)[1]}/{args.database}",
        }
        env.pop("REDIS_URL", None)
        args.keep = True
    else:
        env = fresh_database("postgresql")
    try:
        results = {}
        for step, extra in (
            ("seed", [str(args.districts), str(args.pupils)]),
            ("ours", []),
            ("ours", []),  # again, nothing changed: the districts are not told again
            ("python", []),
            ("per_pupil", [str(args.sample)]),
        ):
            started = time.perf_counter()
            try:
                text = run_script("bench.crossdistrict", ["--inner", step, *extra], env)
            except subprocess.CalledProcessError as exc:
                print(exc.stderr[-4000:], file=sys.stderr)
                raise
            out = json.loads(text.strip().splitlines()[-1])
            out["wall"] = round(time.perf_counter() - started, 1)
            key = step if step not in results else f"{step}_again"
            results[key] = out
            print(key, json.dumps(out), flush=True)
        _print(args, results)
    finally:
        if args.keep:
            print("kept", env["DATABASE_URL"])
        else:
            drop_database(env)


def _print(args: argparse.Namespace, r: dict) -> None:
    ours, again, py, per = r["ours"], r["ours_again"], r["python"], r["per_pupil"]
    print()
    print(f"{args.districts} districts × {args.pupils:,} pupils ({r['seed']['awards']:,} approved awards), PostgreSQL")
    print("| way | seconds | matches | notes |")
    print("|---|---:|---:|---|")
    print(f"| ours: crossdistrict_match | {ours['seconds']['total']} | {ours['matches']:,} | phases {ours['seconds']}, "
          f"peak RSS {ours['rss_mb']} MB |")  # fmt: skip
    print(f"| ours, again (nothing changed) | {again['seconds']['total']} | {again['matches']:,} | "
          f"{again['told']} districts told |")  # fmt: skip
    print(f"| in Python: decrypt all, one dict | {py['seconds']} | {py['pupils_in_two']:,} pupils in two | "
          f"peak RSS {py['rss_mb']} MB |")  # fmt: skip
    print(f"| per pupil: blind index asked in every other district | {per['extrapolated']:.0f} (extrapolated) | — | "
          f"{per['sample']} pupils × {per['districts'] - 1} districts in {per['seconds']} s, "
          f"{per['queries']} queries |")  # fmt: skip


def _id(i: int) -> str:
    from students import idcard

    day, seq = divmod(i, 499)
    return idcard.compose(REGION, BASE + dt.timedelta(days=day), seq + 1, idcard.Sex.FEMALE)


def _shared(d: int, i: int) -> bool:
    return d % 2 == 0 and i % 100 in (0, 1)


def _funded(d: int, i: int) -> bool:
    return i % 2 == 0 or (i % 100 == 1 and d % 2 == 0)


def _seed(districts: str, pupils: str) -> dict:
    """Set-based, as the app role: each district's pupils are prepared in Python (AES-GCM and blind
    index, the only per-row work) and written with COPY into a TEMP table and one INSERT … SELECT; its
    awards are one INSERT … SELECT over its pupils. Resumable: districts already seeded are kept."""
    from django.db import connection

    from core.audit import trail
    from core.crypto import blind_index, encrypter
    from core.pgcopy import copy_line
    from core.tenancy.context import tenant_transaction
    from funding.models import AwardList, AwardListStatus, AwardStatus, Program, Semester
    from funding.services.catalogue import standards_for_new_semester
    from schools import services
    from schools.models import Area, Stage, Tenant
    from students.models import EnrollmentStatus, Gender, Hukou

    n_districts, n = int(districts), int(pupils)
    encrypt = encrypter()
    with trail.acting_as(trail.Actor(user_id=None, label="bench", source="command")):
        for d in range(n_districts):
            tenant = Tenant.objects.filter(slug=f"bench-{d:02d}").first() or services.tenant_create(
                slug=f"bench-{d:02d}", name=f"基准{d:02d}区", region_code=REGION
            )
            with tenant_transaction(tenant.pk), connection.cursor() as cursor:
                if Semester.objects.exists():
                    continue  # seeded by an earlier run
                school = services.school_create(
                    code=f"B{d:02d}", name=f"基准{d:02d}小学", stages=[Stage.PRIMARY], area=Area.RURAL
                )
                grade = services.grade_create(school=school, stage=Stage.PRIMARY, entry_year=2021)
                klass = services.class_create(grade=grade, number=1)
                semester = Semester.objects.create(
                    academic_year=2026, term="AUTUMN", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 1, 20),
                    deadline=dt.date(2026, 12, 10),
                )  # fmt: skip
                standards_for_new_semester(semester)
                program = Program.objects.get(code="LIVING_SUBSIDY")
                award_list = AwardList.objects.create(
                    program=program, semester=semester, school=school, status=AwardListStatus.APPROVED
                )
                cursor.execute(
                    "CREATE TEMP TABLE pupil_stage (i int, name text, id_number text, id_number_hash text) "
                    "ON COMMIT DROP"
                )
                with cursor.cursor.copy("COPY pupil_stage FROM STDIN") as copy:
                    buffer = []
                    for i in range(n):
                        number = _id((d + 1) * n + i if _shared(d, i) else d * n + i)
                        buffer.append(
                            copy_line((i, f"学生{d}-{i}", encrypt(number, "id_number"),
                                       blind_index(number, kind="id_number")))
                        )  # fmt: skip
                    copy.write("".join(buffer))
                cursor.execute(
                    "INSERT INTO students_student (id, created_at, updated_at, name, id_number, id_number_hash, "
                    "gender, birth_date, enrollment_status, is_boarding, hukou, township, village, grade_id, klass_id, "
                    "school_id, tenant_id, card_bank, card_holder, roster_fingerprint) "
                    "SELECT gen_random_uuid(), now(), now(), name, id_number, id_number_hash, %s, %s, %s, false, %s, "
                    "'', '', %s, %s, %s, %s, '', '', '' FROM pupil_stage",
                    [Gender.FEMALE, BASE, EnrollmentStatus.ATTENDING, Hukou.RURAL, grade.pk, klass.pk, school.pk,
                     tenant.pk],
                )  # fmt: skip
                # Funded: every other pupil, and in an even district also i ≡ 1 (mod 100) (_funded).
                cursor.execute(
                    "INSERT INTO funding_award (id, created_at, updated_at, tier, amount, status, reason, "
                    "status_reason, added_late, grade_id, klass_id, school_id, student_id, tenant_id, award_list_id, "
                    "program_id, semester_id) SELECT gen_random_uuid(), now(), now(), '', 625.00, %s, 'bench', '', "
                    "false, s.grade_id, s.klass_id, s.school_id, s.id, s.tenant_id, %s, %s, %s FROM students_student s "
                    "JOIN pupil_stage p ON p.id_number_hash = s.id_number_hash "
                    "WHERE s.tenant_id = %s AND (p.i %% 2 = 0 OR (p.i %% 100 = 1 AND %s))",
                    [AwardStatus.APPROVED, award_list.pk, program.pk, semester.pk, tenant.pk, d % 2 == 0],
                )  # fmt: skip
            print(f"seeded district {d}", file=sys.stderr, flush=True)
    from django.db import connections

    connections.close_all()
    totals = {"pupils": n_districts * n, "awards": sum(
        sum(1 for i in range(n) if _funded(d, i)) for d in range(n_districts))}  # fmt: skip
    return totals


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _ours() -> dict:
    from dataclasses import asdict

    from audits.crossdistrict.services import PLATFORM_ACTOR, crossdistrict_match
    from core.audit import trail

    with trail.acting_as(PLATFORM_ACTOR):
        result = crossdistrict_match(semesters=[SEMESTER])
    return {**asdict(result), "rss_mb": _rss()}


def _python() -> dict:
    """Every district's pupils decrypted into one dict in memory, and funded pupils found there."""
    from audits.crossdistrict.services import _district_rows
    from core.crypto import decrypt
    from core.tenancy.context import tenant_transaction
    from schools.models import Tenant

    started = time.perf_counter()
    seen: dict[str, set] = {}
    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        with tenant_transaction(tenant_id):
            pupils, _awards = _district_rows(tenant_id, [SEMESTER])
        for token, _attending in pupils.values():
            seen.setdefault(decrypt(token, context="id_number"), set()).add(tenant_id)
    in_two = sum(1 for districts in seen.values() if len(districts) > 1)
    return {"seconds": round(time.perf_counter() - started, 2), "pupils_in_two": in_two, "rss_mb": _rss()}


def _per_pupil(sample: str) -> dict:
    """For `sample` funded pupils of the first district: in every other district's transaction, the pupil
    with the same blind index and its awards (two queries), as an ORM loop would; extrapolated."""
    from django.db import connection

    from core.tenancy.context import tenant_transaction
    from funding.models import Award, AwardStatus
    from schools.models import Tenant
    from students.models import Student

    tenants = list(Tenant.objects.filter(is_active=True).order_by("slug").values_list("pk", flat=True))
    with tenant_transaction(tenants[0]):
        funded = Award.objects.filter(status=AwardStatus.APPROVED).count()
        hashes = list(
            Student.objects.filter(pk__in=Award.objects.filter(status=AwardStatus.APPROVED).values("student_id"))
            .order_by("pk")
            .values_list("id_number_hash", flat=True)[: int(sample)]
        )
    queries = 0
    found = 0
    started = time.perf_counter()
    for id_hash in hashes:
        for other in tenants[1:]:
            with tenant_transaction(other):
                pupil = Student.objects.filter(id_number_hash=id_hash).first()
                queries += 1
                if pupil is not None:
                    found += Award.objects.filter(student=pupil, status=AwardStatus.APPROVED).count()
                    queries += 1
    seconds = time.perf_counter() - started
    total_funded = funded * len(tenants)
    del connection
    return {
        "sample": len(hashes), "districts": len(tenants), "queries": queries, "found": found,
        "seconds": round(seconds, 2), "extrapolated": seconds / max(len(hashes), 1) * total_funded,
    }  # fmt: skip


if __name__ == "__main__":
    main()
