"""Choice labels of tenant rows (core.tenancy.models.choice_label): the same text as Django's own
get_<field>_display, in the active language, from a table built once per field and language."""

from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.encoding import force_str

from students.models import EnrollmentStatus, Gender, Student


def _django_label(instance: models.Model, name: str) -> str:
    """What Django's Model._get_FIELD_display returns (the method TenantModel replaces)."""
    field = instance._meta.get_field(name)
    return models.Model._get_FIELD_display(instance, field)


def test_every_choice_has_django_s_label_in_each_language():
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for status in EnrollmentStatus:
                pupil = Student(enrollment_status=status, gender=Gender.FEMALE)
                assert pupil.get_enrollment_status_display() == _django_label(pupil, "enrollment_status")
                assert pupil.get_gender_display() == _django_label(pupil, "gender")


def test_the_label_follows_the_active_language_after_the_table_is_built():
    pupil = Student(enrollment_status=EnrollmentStatus.DROPPED_OUT)
    for language in ("en", "zh-hans", "en", "zh-hans"):
        with translation.override(language):
            assert pupil.get_enrollment_status_display() == force_str(EnrollmentStatus.DROPPED_OUT.label)
    with translation.override("en"):
        english = pupil.get_enrollment_status_display()
    with translation.override("zh-hans"):
        assert pupil.get_enrollment_status_display() != english


def test_a_value_outside_the_choices_is_shown_as_it_is():
    pupil = Student(enrollment_status="NOT_A_STATUS")
    assert pupil.get_enrollment_status_display() == "NOT_A_STATUS"
    assert pupil.get_enrollment_status_display() == _django_label(pupil, "enrollment_status")
