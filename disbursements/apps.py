from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementsConfig(AppConfig):
    """Disbursement batches, payment rosters and bank returns (issue: funding and disbursement)."""

    name = "disbursements"
    verbose_name = _("Disbursements")

    def ready(self):
        from core import worklist

        from .worklist import money_items

        worklist.register(money_items)

        from .summary import connect

        connect()  # funding's awards_changed keeps the money summary in step

        from students.selectors import register_file_section

        from .selectors import student_file_section

        # The pupil's payment history on their file (一生一档); students may not import disbursements.
        register_file_section("disbursements/_student_file.html", student_file_section)

        from schools import jobs

        from .services.batches import BUILD_JOB_KIND
        from .tasks import batch_build_task

        # The sweep sends a lost job's task again (schools.jobs.jobs_sweep).
        jobs.register_job_kind(BUILD_JOB_KIND, batch_build_task)
