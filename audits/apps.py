from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = _("Audits")

    def ready(self):
        from core import worklist
        from schools import jobs

        from .reconciliation.services import ACT_JOB_KIND
        from .reconciliation.services import JOB_KIND as RECONCILIATION_JOB_KIND
        from .reconciliation.tasks import reconciliation_act_task
        from .registry.jobs import JOB_KIND as REGISTRY_JOB_KIND
        from .tasks import VERIFY_JOB_KIND, reconciliation_task, registry_import_task, verify_chain
        from .worklist import audit_items

        worklist.register(audit_items)
        # The sweep sends a lost job's task again (schools.jobs.jobs_sweep).
        jobs.register_job_kind(RECONCILIATION_JOB_KIND, reconciliation_task)
        jobs.register_job_kind(REGISTRY_JOB_KIND, registry_import_task)
        jobs.register_job_kind(VERIFY_JOB_KIND, verify_chain)
        jobs.register_job_kind(ACT_JOB_KIND, reconciliation_act_task)

        from core import storage

        from .registry.jobs import UPLOAD_NAME

        storage.register_upload_folder("registry", names=[UPLOAD_NAME])
