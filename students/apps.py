from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = _("Students")

    def ready(self):
        from core import worklist
        from schools import jobs
        from schools import selectors as school_selectors
        from schools.signals import tenant_created

        from .identification.categories import seed_for_new_tenant

        tenant_created.connect(seed_for_new_tenant, dispatch_uid="students.categories")

        from .worklist import identification_items, register_items

        worklist.register(register_items)
        worklist.register(identification_items)

        from .selectors import student_counts

        school_selectors.register_student_counter(student_counts)

        from .roster.services import JOB_KIND as ROSTER_JOB_KIND
        from .roster.tasks import roster_import_task

        # The sweep sends a lost job's task again (schools.jobs.jobs_sweep).
        jobs.register_job_kind(ROSTER_JOB_KIND, roster_import_task)
        from .identification.migration.services import JOB_KIND as MIGRATION_JOB_KIND
        from .identification.migration.services import UPLOAD_FOLDER as MIGRATION_FOLDER
        from .identification.migration.services import UPLOAD_NAME as MIGRATION_UPLOAD
        from .identification.migration.tasks import identification_migration_task

        jobs.register_job_kind(MIGRATION_JOB_KIND, identification_migration_task)
        from core import storage

        from .roster.services import UPLOAD_NAME

        storage.register_upload_folder("roster", names=[UPLOAD_NAME])
        storage.register_upload_folder(MIGRATION_FOLDER, names=[MIGRATION_UPLOAD])
