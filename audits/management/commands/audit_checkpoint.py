"""manage.py audit_checkpoint [--tenant SLUG]: write a signed checkpoint of every tenant's audit chain
head (or one's) now, into AUDIT_CHECKPOINT_DIR, as the hourly task does."""

from django.core.management.base import BaseCommand

from audits.checkpoints import checkpoint_write
from schools.management import tenants_named


class Command(BaseCommand):
    help = "Write a signed checkpoint of the audit chain head of every tenant (or one), outside the database."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: all)")

    def handle(self, *args, **options):
        tenants = tenants_named(options["tenant"])
        for tenant in tenants:
            checkpoint = checkpoint_write(tenant_id=tenant.pk)
            self.stdout.write(f"{tenant.slug}: #{checkpoint.seq} {checkpoint.path}")
