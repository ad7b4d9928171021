"""manage.py import_registry PATH --tenant SLUG --source SOURCE [--mapping NAME] [--as-of DATE]
[--report OUT.xlsx] [--as USERNAME]: a department's list imported as a dated snapshot, for automation.

Prints the counts and the changes since the source's previous snapshot; exits non-zero only when the
file cannot be used (rejected rows are the report's business, not a failure).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from audits.models import ColumnMapping, RegistrySource
from audits.registry.reader import RegistryFileError
from audits.registry.services import registry_import
from core.audit import trail
from core.tenancy.context import tenant_context, tenant_transaction
from schools.management import add_tenant_arguments, resolve_tenant


class Command(BaseCommand):
    help = "Import a department's registry (xlsx or CSV) as a dated snapshot."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the file (.xlsx, or .csv in UTF-8 or GB18030)")
        add_tenant_arguments(parser)
        parser.add_argument("--source", required=True, choices=RegistrySource.values)
        parser.add_argument("--mapping", help="name of a saved column mapping of the source (default: usual headers)")
        parser.add_argument("--as-of", dest="as_of", help="the list's date, YYYY-MM-DD (default: today)")
        parser.add_argument("--report", help="write the row report (.xlsx) here")

    def handle(self, *args, **options):
        tenant, user, actor = resolve_tenant(options)
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            taken_on = dt.date.fromisoformat(options["as_of"]) if options["as_of"] else None
        except ValueError:
            raise CommandError(f"--as-of must be a date (YYYY-MM-DD), not {options['as_of']!r}") from None
        try:
            with tenant_context(tenant.pk), trail.acting_as(actor), tenant_transaction(tenant.pk):
                mapping = None
                if options["mapping"]:
                    mapping = ColumnMapping.objects.filter(source=options["source"], name=options["mapping"]).first()
                    if mapping is None:
                        raise CommandError(f"no column mapping {options['mapping']!r} for {options['source']}")
                result = registry_import(
                    actor=user,
                    source=options["source"],
                    file=path,
                    file_name=path.name,
                    mapping=mapping,
                    taken_on=taken_on,
                    report_path=options["report"],
                )
        except RegistryFileError as exc:
            raise CommandError(f"{path.name}: {exc.message}", returncode=1) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise CommandError(f"{user} may not import registries") from exc
        snapshot = result.snapshot
        if not result.created:
            self.stdout.write(f"unchanged: this file was imported before (snapshot {snapshot.pk}, {snapshot.taken_on})")
            return
        counts = result.counts
        self.stdout.write(
            f"snapshot {snapshot.pk} ({snapshot.source}, {snapshot.taken_on}): "
            f"rows {counts['rows']}, kept {counts['kept']}, rejected {counts['rejected']}"
        )
        changes = snapshot.changes
        if changes.get("previous"):
            self.stdout.write(
                f"since {changes['previous_taken_on']}: added {changes['added']}, removed {changes['removed']}, "
                f"category changed {changes['changed']}"
            )
        if options["report"]:
            self.stdout.write(f"report: {options['report']}")
