"""Inner part of bench/seed_demo.py: N pupils inserted in bulk, then N more one by one (JSON out)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

import django

django.setup()

from core.audit import trail  # noqa: E402
from core.tenancy.context import tenant_transaction  # noqa: E402
from schools.models import SchoolClass, Tenant  # noqa: E402
from students import idcard  # noqa: E402
from students.models import Gender, Hukou, Student  # noqa: E402


def pupils(klass: SchoolClass, n: int, offset: int) -> list[Student]:
    rows = []
    for i in range(n):
        birth = dt.date(2000 + (offset + i) // 300 % 20, 1 + (i % 12), 1 + (i % 28))
        number = idcard.compose("110105", birth, 1 + (offset + i) % 299, idcard.Sex.MALE)
        rows.append(
            Student(
                school_id=klass.school_id, grade_id=klass.grade_id, klass=klass, name=f"测试{offset + i}",
                id_number=number, student_no=f"G{number}", gender=Gender.MALE, birth_date=birth, hukou=Hukou.RURAL,
            )
        )  # fmt: skip
    return rows


def main(n: int) -> None:
    students = 0
    for other in Tenant.objects.all():
        with tenant_transaction(other.pk):
            students += Student.objects.count()
    tenant = Tenant.objects.get(slug="demo-b")
    actor = trail.Actor(user_id=None, label="bench", source="command")
    with trail.acting_as(actor), tenant_transaction(tenant.pk):
        klass = SchoolClass.objects.order_by("pk").first()
    batch_a, batch_b = pupils(klass, n, 0), pupils(klass, n, 100_000)
    started = time.perf_counter()
    with trail.acting_as(actor), tenant_transaction(tenant.pk):
        Student.objects.bulk_create(batch_a, batch_size=2000)
    bulk = time.perf_counter() - started
    started = time.perf_counter()
    with trail.acting_as(actor), tenant_transaction(tenant.pk):
        for student in batch_b:
            student.save()
    per_row = time.perf_counter() - started
    print(json.dumps({"students": students, "bulk_s": bulk, "per_row_s": per_row}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
