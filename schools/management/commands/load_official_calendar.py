"""manage.py load_official_calendar: a year of the national calendar (法定节假日安排), from the State
Council's schedule written as a CSV file, or from the installed chinesecalendar package.

    load_official_calendar --year 2027 --file 2027.csv     # the schedule published in Nov/Dec
    load_official_calendar --from-library                  # every year the package knows and nobody loaded
    load_official_calendar --from-library 2026             # that year from the package, replacing it
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.audit import trail
from schools.official_calendar.services import official_calendar_load, official_calendar_load_library


class Command(BaseCommand):
    help = "Load a year of the official calendar from a CSV file (date,kind,name) or from chinesecalendar."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", help="CSV: date,kind,name (kind holiday|workday, or 休|班)")
        source.add_argument(
            "--from-library", nargs="*", type=int, metavar="YEAR",
            help="years from the installed chinesecalendar (none named: every year it knows not loaded yet)",
        )  # fmt: skip
        parser.add_argument("--year", type=int, help="the year the file is the schedule of (with --file)")

    def handle(self, *args, **options):
        if options["file"] and not options["year"]:
            raise CommandError("--file needs --year: the year the file is the schedule of.")
        actor = trail.Actor(user_id=None, label="load_official_calendar", source="command")
        try:
            with trail.acting_as(actor):
                if options["file"]:
                    with open(options["file"], "rb") as handle:
                        data = handle.read()
                    loads = [official_calendar_load(year=options["year"], data=data, source=options["file"])]
                else:
                    loads = official_calendar_load_library(years=options["from_library"] or None)
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        if not loads:
            self.stdout.write("Nothing to load: every year the package knows is loaded.")
        for load in loads:
            what = "loaded" if load.changed else "unchanged (the same days are loaded)"
            self.stdout.write(
                f"{load.year}: {load.holidays} holidays, {load.workdays} adjusted working days {what}; "
                f"sha256 {load.sha256}"
            )
