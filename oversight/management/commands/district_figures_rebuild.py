"""manage.py district_figures_rebuild [--tenant SLUG ...]: the region's aggregate table (oversight.region)
recomputed from the districts' money summaries, now, as the nightly task does. Run it after
`money_summary_rebuild` when the summaries were rebuilt by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from oversight.region.services import district_figures_rebuild
from schools.models import Tenant


class Command(BaseCommand):
    help = "Recompute the figures per district, semester and program that region accounts read."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", action="append", help="a district's slug (repeatable; default: every one)")

    def handle(self, *args, **options):
        ids = None
        if options["tenant"]:
            found = dict(Tenant.objects.filter(slug__in=options["tenant"]).values_list("slug", "pk"))
            missing = sorted(set(options["tenant"]) - set(found))
            if missing:
                raise CommandError(f"no tenant {', '.join(missing)}")
            ids = list(found.values())
        result = district_figures_rebuild(tenant_ids=ids)
        self.stdout.write(
            f"{result.districts} districts, {result.rows} rows, semesters {', '.join(result.semesters) or '-'}"
        )
