"""manage.py money_summary_rebuild [--tenant SLUG]: the money summary (disbursements.summary) recomputed
from the awards, lines and recoveries, for one tenant or every active one; one transaction per tenant.
After a deploy that adds the table, after bulk data written behind the services, or whenever in doubt."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.tenancy.context import tenant_transaction
from disbursements.summary import money_summary_rebuild
from schools.models import Tenant


class Command(BaseCommand):
    help = "Recompute the money summary the dashboards read (every semester of a tenant, or of every tenant)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="the tenant's slug (default: every active tenant)")

    def handle(self, *args, **options):
        tenants = Tenant.objects.filter(is_active=True).order_by("slug")
        if options["tenant"]:
            tenants = Tenant.objects.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant {options['tenant']!r}")
        for tenant in tenants:
            with tenant_transaction(tenant.pk):  # derived rows, no audit rows: nobody acts
                semesters = money_summary_rebuild()
            self.stdout.write(f"{tenant.slug}: {semesters} semesters")
