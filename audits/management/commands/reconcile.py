"""manage.py reconcile --tenant SLUG --semester 2026-AUTUMN [--as USERNAME]: the semester's
reconciliation against the departments' latest snapshots, for automation. Prints the counts per list
and reason; a run on unchanged inputs finds the earlier run and writes nothing."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from audits.reconciliation.services import reconciliation_run
from core.audit import trail
from core.tenancy.context import tenant_context, tenant_transaction
from funding.models import Semester
from schools.management import add_tenant_arguments, resolve_tenant


def find_semester(text: str) -> Semester:
    """A semester by its code (2026-AUTUMN, as Semester.code writes it) or its id."""
    for semester in Semester.objects.all():
        if text in (semester.code, str(semester.pk)):
            return semester
    codes = ", ".join(s.code for s in Semester.objects.order_by("-academic_year", "term")) or "none"
    raise CommandError(f"no semester {text!r} (this tenant has: {codes})")


class Command(BaseCommand):
    help = "Reconcile a semester's identifications, awards and payments against the registries."

    def add_arguments(self, parser):
        add_tenant_arguments(parser)
        parser.add_argument("--semester", required=True, help="e.g. 2026-AUTUMN (or the semester's id)")

    def handle(self, *args, **options):
        tenant, user, actor = resolve_tenant(options)
        try:
            with tenant_context(tenant.pk), trail.acting_as(actor), tenant_transaction(tenant.pk):
                semester = find_semester(options["semester"])
                run, created = reconciliation_run(
                    actor=user,
                    semester=semester,
                    progress=lambda done, total, message: self.stdout.write(f"[{done}/{total}] {message}"),
                )
        except PermissionDenied as exc:
            raise CommandError(f"{user} may not run reconciliations") from exc
        self.stdout.write(f"run {run.pk}{'' if created else ' (same inputs as before: nothing new written)'}")
        for key, count in sorted(run.counts.items()):
            self.stdout.write(f"  {key}: {count}")
