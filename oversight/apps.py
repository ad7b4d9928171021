from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    """Oversight (统计报表): dashboards with charts, and the periodic reports as snapshots (issue 17)."""

    name = "oversight"
    verbose_name = _("Oversight")

    def ready(self):
        from core import worklist
        from schools.jobs import register_job_kind

        from .checks.worklist import check_items
        from .services import REPORT_JOB_KIND
        from .tasks import report_generate_task

        register_job_kind(REPORT_JOB_KIND, report_generate_task)
        worklist.register(check_items)
