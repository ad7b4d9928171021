"""manage.py home_visits_backfill [--tenant SLUG]: give every nomination whose home visit was recorded
before home visits were records of their own (students.HomeVisit, issue 16 item 6) its visit record,
through the same service the identification uses (audited, as the tenant's system account). Safe to
run again: a nomination that has its record is left alone."""

from django.core.management.base import BaseCommand, CommandError

from core.audit import trail
from core.tenancy.context import tenant_transaction
from schools.models import Tenant
from schools.services import tenant_system_user
from students.models import HardshipApplication, HomeVisit
from students.services import home_visits_sync_from_applications

CHUNK = 1000


class Command(BaseCommand):
    help = "Create the home-visit records of nominations whose visit was recorded on the nomination only."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: every tenant)")

    def handle(self, *args, **options):
        tenants = Tenant.objects.order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant {options['tenant']!r}")
        for tenant in tenants:
            made = 0
            while True:
                with tenant_transaction(tenant.pk):
                    system = tenant_system_user(tenant)
                    with trail.acting_as(trail.actor_for(system, source="command")):
                        chunk = list(
                            HardshipApplication.objects.filter(visit_on__isnull=False)
                            .exclude(
                                pk__in=HomeVisit.objects.filter(application__isnull=False).values("application_id")
                            )
                            .order_by("pk")[:CHUNK]
                        )
                        home_visits_sync_from_applications(actor=system, applications=chunk)
                made += len(chunk)
                if len(chunk) < CHUNK:
                    break
            self.stdout.write(f"{tenant.slug}: {made} home visit record(s) made")
