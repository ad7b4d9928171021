"""manage.py verify_audit [--tenant SLUG]: check every tenant's audit chain, and its end against the
signed checkpoints outside the database (AUDIT_CHECKPOINT_DIR); exit 1 on any problem."""

from django.core.management.base import BaseCommand, CommandError

from audits.checkpoints import checkpoint_verify
from audits.verify import verify_tenant_chain
from schools.management import tenants_named


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail of every tenant (or one)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")

    def handle(self, *args, **options):
        tenants = tenants_named(options["tenant"])
        problems = []
        for tenant in tenants:
            verdict = checkpoint_verify(tenant_id=tenant.pk)
            found = verify_tenant_chain(tenant.pk) + verdict.problems
            problems.extend((tenant.slug, problem) for problem in found)
            state = self.style.SUCCESS("intact") if not found else self.style.ERROR(f"{len(found)} problem(s)")
            self.stdout.write(f"{tenant.slug}: {state} ({verdict.note})")
        for slug, problem in problems:
            self.stderr.write(f"{slug}: {problem}")
        if problems:
            raise CommandError(f"audit trail verification failed: {len(problems)} problem(s)", returncode=1)
