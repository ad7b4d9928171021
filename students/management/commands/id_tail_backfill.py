"""manage.py id_tail_backfill [--tenant SLUG]: fill the last-digits index of the ID number
(`Student.id_tail_hash`) of pupils written before it existed. Chunks of 2,000 pupils: their numbers are
decrypted in memory and written back in one UPDATE per chunk (bulk_update), never a statement per pupil.
Safe to run again: only pupils without the index are read.

Not audited: the index is derived from a value already recorded (like the whole number's blind index,
recomputed on every write); no one's data changes."""

from django.core.management.base import BaseCommand, CommandError

from core.crypto import tail_index
from core.tenancy.context import tenant_transaction
from schools.models import Tenant
from students.models import Student

CHUNK = 2000


def backfill(tenant_id) -> int:
    """Fill one tenant's missing tail indexes; returns how many pupils were filled."""
    filled = 0
    while True:
        with tenant_transaction(tenant_id):
            chunk = list(
                Student.objects.filter(id_tail_hash__isnull=True).order_by("pk").only("pk", "id_number")[:CHUNK]
            )
            for pupil in chunk:
                pupil.id_tail_hash = tail_index(pupil.id_number.reveal(), kind="id_number")
            Student.objects.bulk_update(chunk, ["id_tail_hash"], batch_size=CHUNK)
        filled += len(chunk)
        if len(chunk) < CHUNK:
            return filled


class Command(BaseCommand):
    help = "Fill the last-digits index of pupils' ID numbers written before the index existed."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: every tenant)")

    def handle(self, *args, **options):
        tenants = Tenant.objects.order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant {options['tenant']!r}")
        for tenant in tenants:
            self.stdout.write(f"{tenant.slug}: {backfill(tenant.pk)} pupil(s) indexed")
