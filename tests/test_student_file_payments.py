"""一生一档: the pupil's file shows their payment history (every line with its batch and the bank's
answer, corrections, recoveries) to those who see the money; the emergency-aid page and the letters to
families are reachable from the menu."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from config import menu
from disbursements.models import LineStatus, PaymentLine
from schools.permissions import Role


def _file(world, role):
    client = Client()
    client.force_login(world.a.users[role])
    return client.get(reverse("students:detail", kwargs={"pk": world.a.students["c1"][0].pk})).content.decode()


def test_the_file_shows_every_payment_line_with_its_batch_bank_result_and_correction(world, tenant_of):
    w = world.a
    pupil = w.students["c1"][0]
    with tenant_of(w.tenant):
        # A second line of the pupil, failed at the bank with its code (the world's line is paid).
        PaymentLine.objects.filter(pk=w.line.pk).update(bank_code="E00", bank_message="ok")
        failed = PaymentLine.objects.create(
            batch=w.batch, award=w.award, program=w.award.program, semester=w.semester, student=pupil,
            school_id=pupil.school_id, grade_id=pupil.grade_id, klass_id=pupil.klass_id, amount=250,
            source=w.award.program.source, bank="农村信用社", account=pupil.card_account.reveal(),
            holder=pupil.card_holder, status=LineStatus.FAILED, bank_code="E17", bank_message="账户已销户",
        )  # fmt: skip
    page = _file(world, Role.SCHOOL_OFFICER)
    assert 'data-testid="payment-history"' in page
    assert page.count('data-testid="file-payment"') == 2
    assert "E17" in page
    assert "账户已销户" in page
    assert str(failed.get_status_display()) in page
    assert reverse("disbursements:batch", kwargs={"pk": w.batch.pk}) in page
    assert 'data-testid="file-corrections"' in page
    assert w.correction.reason in page
    assert 'data-testid="file-recoveries"' in page
    assert 'data-testid="emergency-link"' in page  # the officer proposes emergency aid from the file
    # The district and the auditor see it too; the principal without the emergency link.
    assert 'data-testid="payment-history"' in _file(world, Role.DISTRICT_AUDITOR)
    principal = _file(world, Role.PRINCIPAL)
    assert 'data-testid="payment-history"' in principal
    assert 'data-testid="emergency-link"' not in principal


def test_a_teacher_sees_no_payment_history(world):
    page = _file(world, Role.CLASS_TEACHER)
    assert 'data-testid="payment-history"' not in page
    assert "E00" not in page


def test_the_emergency_aid_page_and_the_letters_are_in_the_menu(world, tenant_of):
    names = {entry.url_name for group in menu.MENU for entry in group.entries}
    assert {"funding:emergency_index", "disbursements:letters", "oversight:checks", "oversight:outreach"} <= names
    w = world.a
    client = Client()
    client.force_login(w.users[Role.SCHOOL_OFFICER])
    home = client.get("/").content.decode()
    for key in ("funding-emergency-index", "disbursements-letters"):
        assert f'data-testid="menu-{key}"' in home
    pupil = w.students["c1"][0]
    found = client.get(reverse("funding:emergency_index"), {"q": pupil.name}).content.decode()
    assert reverse("funding:emergency", kwargs={"student_pk": pupil.pk}) in found
    # Not another school's pupil, even by name.
    other = w.students["c4"][0]
    found = client.get(reverse("funding:emergency_index"), {"q": other.name}).content.decode()
    assert reverse("funding:emergency", kwargs={"student_pk": other.pk}) not in found
    letters = client.get(reverse("disbursements:letters")).content.decode()
    assert reverse("disbursements:letter_class", kwargs={"class_pk": w.classes["c1"].pk}) in letters
    assert reverse("disbursements:letter_class", kwargs={"class_pk": w.classes["c4"].pk}) not in letters
    teacher = Client()
    teacher.force_login(w.users[Role.CLASS_TEACHER])
    assert teacher.get(reverse("funding:emergency_index")).status_code == 403
    assert teacher.get(reverse("disbursements:letters")).status_code == 403
