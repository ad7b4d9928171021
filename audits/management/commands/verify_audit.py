"""manage.py verify_audit [--tenant SLUG]: check every tenant's audit chain; exit 1 on any problem."""

from django.core.management.base import BaseCommand, CommandError

from audits.verify import verify_tenant_chain
from schools.models import Tenant


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail of every tenant (or one)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")

    def handle(self, *args, **options):
        tenants = Tenant.objects.order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant {options['tenant']!r}")
        problems = []
        for tenant in tenants:
            found = verify_tenant_chain(tenant.pk)
            problems.extend(found)
            state = self.style.SUCCESS("intact") if not found else self.style.ERROR(f"{len(found)} problem(s)")
            self.stdout.write(f"{tenant.slug}: {state}")
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"audit trail verification failed: {len(problems)} problem(s)", returncode=1)
