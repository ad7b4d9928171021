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
from funding.selectors import semester_by_code
from schools.management import add_tenant_arguments, resolve_tenant
from schools.models import Tenant


def find_semester(text: str, *, tenant: Tenant) -> Semester:
    """The tenant's semester by its code (2026-AUTUMN, as Semester.code writes it) or its id, as the
    API resolves one (funding.selectors.semester_by_code); CommandError listing the codes otherwise."""
    semester = semester_by_code(tenant=tenant, code=text)
    if semester is not None:
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
                semester = find_semester(options["semester"], tenant=tenant)
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
