"""manage.py import_bank_return PATH --tenant SLUG --batch ID [--as USERNAME]: the bank's return
(回盘文件) of a released batch, for automation.

Exit status: 0 when the file was applied cleanly (or had been imported before: nothing changed);
1 when nothing was applied (unreadable file, no matching line, no permission); 2 when the file was
applied but some rows were not, or the batch does not reconcile: the problems are printed.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.audit import trail
from core.tenancy.context import tenant_context
from disbursements.management import add_common_arguments, resolve
from disbursements.services.returns import bank_return_import


class Command(BaseCommand):
    help = "Import a bank's return file (CSV or xlsx) for a released batch: lines paid or failed, reconciled."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the return file (.csv in UTF-8 or GB18030, or .xlsx)")
        add_common_arguments(parser)

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        tenant, user, batch, actor = resolve(options)
        try:
            with tenant_context(tenant.pk), trail.acting_as(actor):
                result = bank_return_import(actor=user, batch=batch, path_or_file=path, file_name=path.name)
        except PermissionDenied as exc:
            raise CommandError(f"{user} may not import bank returns") from exc
        except ValidationError as exc:
            raise CommandError(f"{path.name}: {'; '.join(exc.messages)}") from exc
        r = result.reconciliation
        if result.already_imported:
            earlier = result.bank_return
            self.stdout.write(
                f"{path.name}: this file was imported already ({earlier.file_name}, "
                f"{earlier.created_at:%Y-%m-%d %H:%M}); nothing changed."
            )
        else:
            self.stdout.write(
                f"{path.name}: {result.paid_count} paid ({result.paid_amount:.2f}), "
                f"{result.failed_count} failed ({result.failed_amount:.2f}), "
                f"{result.unchanged} answered before, {len(result.problems)} problems."
            )
        self.stdout.write(
            f"batch: sent {r.sent_count} ({r.sent_amount:.2f}) = paid {r.paid_count} ({r.paid_amount:.2f}) "
            f"+ failed {r.failed_count} ({r.failed_amount:.2f}) + waiting {r.waiting_count} "
            f"({r.waiting_amount:.2f}): {'reconciled' if r.balanced else 'DOES NOT RECONCILE'}"
            + ("; batch closed" if result.closed else "")
        )
        for problem in result.problems:
            where = f"row {problem['row']}" if problem["row"] else "batch"
            self.stderr.write(f"  {where}: [{problem['problem']}] {problem['message']}")
        for problem in r.problems if result.already_imported else []:
            self.stderr.write(f"  batch: {problem}")
        if result.problems or not r.balanced:
            raise CommandError(f"{path.name}: applied, with problems to look at (listed above)", returncode=2)
