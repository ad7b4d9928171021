"""manage.py export_payments --tenant SLUG --batch ID --format xlsx|csv --out PATH [--bank B] [--source S]
[--as USERNAME]: the payment roster (发放名册) of a released batch, for automation.

--out a file: one roster (of --bank and --source if given; several banks together use the default
layout). --out an existing directory: one file per bank and funding source. A CSV roster's totals per
school go to a second file beside it (NAME-totals.csv). Files appear only when complete.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.audit import trail
from core.tenancy.context import tenant_context, tenant_transaction
from disbursements.management import add_common_arguments, resolve
from disbursements.services.exports import RosterFormat, payment_roster, payment_roster_groups
from funding.models import FundingSource

_UNSAFE = re.compile(r"[^\w.-]+")


class Command(BaseCommand):
    help = "Export the payment roster (发放名册) of a released batch in the bank's layout (xlsx or CSV)."

    def add_arguments(self, parser):
        add_common_arguments(parser)
        parser.add_argument("--format", dest="fmt", required=True, choices=[f.value for f in RosterFormat])
        parser.add_argument("--out", required=True, help="a file, or an existing directory for one file per bank")
        parser.add_argument("--bank", help="only the lines paid through this bank")
        parser.add_argument("--source", choices=FundingSource.values, help="only the lines of this funding source")

    def handle(self, *args, **options):
        tenant, user, batch, actor = resolve(options)
        out, fmt = Path(options["out"]), options["fmt"]
        try:
            with tenant_context(tenant.pk), trail.acting_as(actor):
                if out.is_dir():
                    with tenant_transaction(tenant.pk):
                        groups = [
                            (g.bank, g.source)
                            for g in payment_roster_groups(batch=batch)
                            if options["bank"] in (None, g.bank) and options["source"] in (None, g.source)
                        ]
                    if not groups:
                        raise CommandError("no line of this batch was sent for that bank and funding source")
                    for bank, source in groups:
                        name = _UNSAFE.sub("_", f"payments_{batch.semester.code}_{batch.number}_{bank}_{source}")
                        self._export(user, batch, bank, source, fmt, out / f"{name}.{fmt}")
                else:
                    self._export(user, batch, options["bank"], options["source"], fmt, out)
        except PermissionDenied as exc:
            raise CommandError(f"{user} may not export payment rosters") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    def _export(self, user, batch, bank, source, fmt, path: Path) -> None:
        totals = path.with_name(f"{path.stem}-totals.csv") if fmt == RosterFormat.CSV else None
        parts = [path.with_name(f".{path.name}.part")] + ([totals.with_name(f".{totals.name}.part")] if totals else [])
        try:
            export = payment_roster(
                actor=user,
                batch=batch,
                bank=bank,
                source=source,
                fmt=fmt,
                target=parts[0],
                totals_target=parts[1] if totals else None,
            )
            os.replace(parts[0], path)
            if totals:
                os.replace(parts[1], totals)
        finally:
            for part in parts:
                part.unlink(missing_ok=True)
        self.stdout.write(f"{path}: {export.lines} lines, {export.amount:.2f} yuan, {len(export.schools)} schools")
        if totals:
            self.stdout.write(f"{totals}: totals per school")
