"""The audit trail: every change recorded, nothing changeable, tampering found by verify_audit."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audits.models import AppendOnlyError, AuditEvent
from audits.verify import verify_tenant_chain
from core.audit import trail
from schools.models import School, Stage
from schools.services import school_create
from tests.tampering import tamper


def _events(obj):
    return list(AuditEvent.objects.filter(object_id=str(obj.pk)).order_by("seq"))


def test_create_update_delete_are_recorded_with_before_after_and_actor(world, tenant_of):
    user = world.a.users["TENANT_ADMIN"]
    with tenant_of(world.a.tenant), trail.acting_as(trail.actor_for(user, source="web")):
        school = school_create(code="9900000001", name="New school", stages=[Stage.PRIMARY], area="RURAL")
        school.name = "Renamed school"
        school.save(update_fields=["name", "updated_at"])
        school.save()  # nothing changed: no row
        pk = school.pk
        with trail.labelled("school.remove", reason="opened by mistake"):
            school.delete()
        events = list(AuditEvent.objects.filter(object_id=str(pk)).order_by("seq"))
    assert [e.action for e in events] == ["schools.school.create", "schools.school.update", "school.remove"]
    created, updated, deleted = events
    assert created.after["name"] == "New school"
    assert created.before is None
    assert updated.before == {"name": "New school"}
    assert updated.after == {"name": "Renamed school"}
    assert deleted.reason == "opened by mistake"
    assert {e.actor_id for e in events} == {user.pk}
    assert all(e.tenant_id == world.a.tenant.pk for e in events)


def test_bulk_writes_are_recorded_row_by_row(world, tenant_of):
    with tenant_of(world.a.tenant):
        schools = School.objects.bulk_create(
            [School(code=f"77000000{i:02d}", name=f"Bulk {i}", stages=[Stage.PRIMARY], area="URBAN") for i in range(3)]
        )
        with trail.labelled("school.close", reason="merged"):
            changed = School.objects.filter(pk__in=[s.pk for s in schools]).update(is_active=False)
        assert changed == 3
        for school in schools:
            actions = [e.action for e in _events(school)]
            assert actions == ["schools.school.create", "school.close"]
            closing = _events(school)[1]
            assert closing.before == {"is_active": True}
            assert closing.after == {"is_active": False}
            assert closing.reason == "merged"


def test_personal_numbers_enter_the_trail_masked(world, tenant_of):
    student = world.a.students["c1"][0]
    full = student.id_number.reveal()
    with tenant_of(world.a.tenant):
        created = _events(student)[0]
    assert created.after["id_number"] == student.id_number.masked
    assert full not in str(created.after)


def test_audit_rows_cannot_be_changed_or_deleted_through_the_app(world, tenant_of):
    with tenant_of(world.a.tenant):
        event = AuditEvent.objects.order_by("seq").first()
        event.reason = "rewritten"
        with pytest.raises(AppendOnlyError):
            event.save()
        with pytest.raises(AppendOnlyError):
            event.delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.parametrize("statement", ["UPDATE audits_auditevent SET reason = 'x'", "DELETE FROM audits_auditevent"])
def test_audit_rows_cannot_be_changed_or_deleted_in_sql_by_the_app(world, tenant_of, statement):
    with (
        tenant_of(world.a.tenant),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


def test_the_chain_of_a_fresh_world_verifies(world):
    assert verify_tenant_chain(world.a.tenant.pk) == []
    assert verify_tenant_chain(world.b.tenant.pk) == []
    call_command("verify_audit")


@pytest.mark.skip_audit_coverage
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("alter", "altered"),
        ("delete_middle", "deleted"),
        ("delete_last", "rows deleted"),
        ("reorder", "out of sequence"),
    ],
)
def test_verify_audit_finds_tampering_behind_the_apps_back(how, expected):
    from tests.factories import build_world

    world = build_world()
    tenant = world.a.tenant
    assert verify_tenant_chain(tenant.pk) == []
    statements = {
        "alter": ["UPDATE audits_auditevent SET reason = 'nothing happened' WHERE tenant_id = %(t)s AND seq = 3"],
        "delete_middle": ["DELETE FROM audits_auditevent WHERE tenant_id = %(t)s AND seq = 3"],
        "delete_last": [
            "DELETE FROM audits_auditevent WHERE tenant_id = %(t)s AND seq = "
            "(SELECT max(seq) FROM audits_auditevent WHERE tenant_id = %(t)s)"
        ],
        "reorder": [
            "UPDATE audits_auditevent SET seq = 999999 WHERE tenant_id = %(t)s AND seq = 2",
            "UPDATE audits_auditevent SET seq = 2 WHERE tenant_id = %(t)s AND seq = 3",
            "UPDATE audits_auditevent SET seq = 3 WHERE tenant_id = %(t)s AND seq = 999999",
        ],
    }[how]
    tamper(statements, tenant_id=tenant.pk)
    problems = verify_tenant_chain(tenant.pk)
    assert any(expected in p.message for p in problems), problems
    assert verify_tenant_chain(world.b.tenant.pk) == []  # the other tenant's chain is untouched
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_a_large_append_keeps_the_chain_in_order(world, tenant_of):
    """Above trail.COPY_FROM rows, PostgreSQL takes them by COPY through a staging table: the rows
    must still land in sequence order, sealed, and verify."""
    with tenant_of(world.a.tenant):
        before = AuditEvent.objects.count()
        trail.append(
            [
                trail.Pending(tenant_id=world.a.tenant.pk, action="test.bulk", object_type="t", object_id=str(i),
                              after={"n": i, "名字": "张*"})
                for i in range(trail.COPY_FROM + 50)
            ]
        )  # fmt: skip
        assert AuditEvent.objects.count() == before + trail.COPY_FROM + 50
        seqs = list(AuditEvent.objects.order_by("id").values_list("seq", flat=True))
        assert seqs == sorted(seqs)
        assert AuditEvent.objects.filter(action="test.bulk", object_id="7").get().after == {"n": 7, "名字": "张*"}
    assert verify_tenant_chain(world.a.tenant.pk) == []


def test_a_large_append_keeps_backslashes_tabs_and_line_ends_as_they_were(world, tenant_of):
    """The COPY text of a large append is written by hand (core.audit.append._copy_rows): every text
    field, and values given already encoded (as the roster import gives them), read back exactly, and seal."""
    hostile = 'a\\b\tc\nd\re "q" \\N \\. 张*'
    with tenant_of(world.a.tenant):
        trail.append(
            [
                trail.Pending(
                    tenant_id=world.a.tenant.pk, action=f"test.{i % 3}\t", object_type="t\\x", object_id=f"{i}\n",
                    before={"v": hostile} if i % 2 else None,
                    after_text=trail.encode({"v": hostile, "n": i}) if i % 2 else None,
                    after=None if i % 2 else {"v": hostile, "n": i}, reason=hostile,
                )
                for i in range(trail.COPY_FROM + 10)
            ]
        )  # fmt: skip
        odd, even = (AuditEvent.objects.get(object_id=f"{i}\n") for i in (7, 8))
    assert (odd.action, odd.object_type, odd.reason) == ("test.1\t", "t\\x", hostile)
    assert odd.before == {"v": hostile}
    assert odd.after == {"v": hostile, "n": 7}
    assert even.before is None
    assert even.after == {"v": hostile, "n": 8}
    assert verify_tenant_chain(world.a.tenant.pk) == []
