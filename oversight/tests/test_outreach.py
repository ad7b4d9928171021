"""宣传: a school records its outreach (evidence encrypted at rest, served to those who see the record);
the district sees which school did which kind this semester; the letter to families prints per class
with the class's pupils and never an ID number."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audits.models import AuditEvent
from core import clock
from oversight.outreach import selectors, services
from oversight.outreach.models import OutreachKind, OutreachRecord
from oversight.selectors import dashboard
from schools.permissions import Role

TODAY = dt.date(2026, 12, 7)


def test_a_school_records_outreach_with_evidence_encrypted_at_rest(world, tenant_of):
    w = world.a
    client = Client()
    client.force_login(w.users[Role.SCHOOL_OFFICER])
    photo = SimpleUploadedFile("家长会.jpg", b"\xff\xd8 meeting photo", content_type="image/jpeg")
    form = {
        "school": w.schools["s1"].pk, "klass": w.classes["c1"].pk, "kind": "PARENTS_MEETING",
        "held_on": "2026-11-20", "audience": "41", "note": "资助政策家长会", "evidence": photo,
    }  # fmt: skip
    with clock.frozen_at(TODAY):
        response = client.post(f"{reverse('oversight:outreach_record')}?semester={w.semester.pk}", form)
    assert response.status_code == 302
    with tenant_of(w.tenant):
        record = OutreachRecord.objects.get(kind=OutreachKind.PARENTS_MEETING)
        assert (record.audience, record.klass_id, record.evidence_name) == (41, w.classes["c1"].pk, "家长会.jpg")
        assert AuditEvent.objects.filter(action="outreach.record").exists()
    # On the disk the file is sealed (the default storage encrypts evidence); served, it is the photo.
    assert b"meeting photo" not in (settings.MEDIA_ROOT / record.evidence.name).read_bytes()
    served = client.get(reverse("oversight:outreach_evidence", kwargs={"pk": record.pk}))
    assert b"".join(served.streaming_content) == b"\xff\xd8 meeting photo"
    # A principal of the school sees it; a teacher does not; another school's officer gets "not found".
    for role, status in ((Role.PRINCIPAL, 200), (Role.CLASS_TEACHER, 404), (Role.DISTRICT_AUDITOR, 200)):
        other = Client()
        other.force_login(w.users[role])
        assert other.get(reverse("oversight:outreach_evidence", kwargs={"pk": record.pk})).status_code == status


def test_outreach_is_refused_for_the_future_another_school_and_other_roles(world, tenant_of):
    w = world.a
    officer = w.users[Role.SCHOOL_OFFICER]
    base = {"semester": w.semester, "kind": "POSTER", "audience": 10}
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        with pytest.raises(ValidationError):
            services.outreach_record(
                actor=officer, school=w.schools["s1"], held_on=TODAY + dt.timedelta(days=1), **base
            )
        with pytest.raises(ValidationError):
            services.outreach_record(
                actor=officer, school=w.schools["s1"], klass=w.classes["c4"], held_on=TODAY, **base
            )
        with pytest.raises(PermissionDenied):
            services.outreach_record(actor=officer, school=w.schools["s2"], held_on=TODAY, **base)
        with pytest.raises(PermissionDenied):
            services.outreach_record(actor=w.users[Role.PRINCIPAL], school=w.schools["s1"], held_on=TODAY, **base)
        assert not OutreachRecord.objects.filter(kind="POSTER").exists()
    client = Client()
    client.force_login(officer)
    bad = {"school": w.schools["s1"].pk, "kind": "POSTER", "held_on": "not a date", "audience": "-3"}
    response = client.post(reverse("oversight:outreach_record"), bad, follow=True)
    assert response.status_code == 200
    assert len(list(response.context["messages"])) >= 2


def test_the_district_sees_coverage_per_school_and_kind(world, tenant_of):
    w = world.a
    with tenant_of(w.tenant), clock.frozen_at(TODAY):
        services.outreach_record(
            actor=w.users[Role.SCHOOL_OFFICER], school=w.schools["s1"], semester=w.semester, kind="MEDIA",
            held_on=TODAY, audience=500,
        )  # fmt: skip
        rows = {
            row["school"].pk: row for row in selectors.coverage(user=w.users[Role.DISTRICT_STAFF], semester=w.semester)
        }
        kinds = list(OutreachKind.values)
        s1, s2 = rows[w.schools["s1"].pk], rows[w.schools["s2"].pk]
        assert s1["cells"][kinds.index("LETTER")] == {"n": 1, "audience": 30}
        assert s1["cells"][kinds.index("MEDIA")] == {"n": 1, "audience": 500}
        assert s2["cells"][kinds.index("MEDIA")] is None
        assert s2["cells"][kinds.index("LETTER")] == {
            "n": 1,
            "audience": 30,
        }
        # A school's officer sees only their school's row.
        assert [r["school"].pk for r in selectors.coverage(user=w.users[Role.SCHOOL_OFFICER], semester=w.semester)] == [
            w.schools["s1"].pk
        ]
        board = dashboard(user=w.users[Role.DISTRICT_STAFF], semester=w.semester)
        covered = {row[0]: row[1] for row in board.chart("outreach_coverage").rows}
        assert covered[str(OutreachKind.LETTER.label)] == 2
        assert covered[str(OutreachKind.MEDIA.label)] == 1
    client = Client()
    client.force_login(w.users[Role.DISTRICT_STAFF])
    page = client.get(reverse("oversight:outreach"), {"semester": w.semester.pk}).content.decode()
    assert page.count('data-testid="coverage-row"') == 2
    assert "✓ 1" in page


def test_the_letter_per_class_lists_its_pupils_without_id_numbers(world, tenant_of):
    w = world.a
    client = Client()
    client.force_login(w.users[Role.SCHOOL_OFFICER])
    response = client.get(reverse("oversight:outreach_letter", kwargs={"class_pk": w.classes["c1"].pk}))
    assert response.status_code == 200
    page = response.content.decode()
    pupils = w.students["c1"]
    assert page.count('data-testid="letter"') == len(pupils)
    assert page.count('data-testid="sign-off-row"') == len(pupils)
    for pupil in pupils:
        assert pupil.name in page
        number = pupil.id_number.reveal()
        assert number not in page
        assert pupil.id_number.masked not in page
        assert str(pupil.student_no.reveal()) not in page
    assert not any(p.name in page for p in w.students["c2"])  # another class's pupils
    assert "print.css" in page  # the A4 print style sheet
    # Another school's class: not found for this officer.
    assert client.get(reverse("oversight:outreach_letter", kwargs={"class_pk": w.classes["c4"].pk})).status_code == 404
