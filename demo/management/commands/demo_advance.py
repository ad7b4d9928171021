"""manage.py demo_advance [--tenant demo-a]: end the demo districts' running publicity periods now."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.audit import trail
from demo.advance import demo_advance
from demo.seed import TENANTS


class Command(BaseCommand):
    help = (
        "Demo districts only: every publicity period still running (identification lists, award lists) "
        "ends as of yesterday, and the lists now due are closed, as the nightly task would. The district "
        "then approves the award lists in the browser."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tenant",
            action="append",
            dest="tenants",
            help="a demo district's code (default: every demo district)",
        )

    def handle(self, *args, **options):
        slugs = options["tenants"] or [t.slug for t in TENANTS]
        with trail.acting_as(trail.Actor(user_id=None, label="demo_advance", source="command")):
            for slug in slugs:
                try:
                    done = demo_advance(slug=slug)
                except ValidationError as error:
                    raise CommandError(error.messages[0]) from None
                self.stdout.write(
                    f"{slug}: {done.publicities} identification list(s) and {done.award_lists} award list(s) "
                    f"ended yesterday; {done.closed} list(s) closed and sent to the district."
                )
