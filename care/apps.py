from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Dropout control (控辍保学): attendance and absence, dropout cases and persuasion to return (issue 16)."""

    name = "care"
    verbose_name = _("Dropout control")

    def ready(self):
        from core import worklist
        from students.selectors import register_file_section

        from .pairing.selectors import student_file_section
        from .worklist import care_items, pairing_items, weekly_items

        worklist.register(care_items)
        worklist.register(pairing_items)
        worklist.register(weekly_items)
        # 一生一档: the pupil's file shows the cases, visits, pairing and risk flags (students cannot import care).
        register_file_section("care/_student_file.html", student_file_section)
