"""manage.py crossdistrict_match [--semester 2026-AUTUMN ...]: the platform operator's pass of the matching
of pupils across districts, now, as the nightly task does (by default, the semesters in progress today)."""

import re

from django.core.management.base import BaseCommand, CommandError

from audits.crossdistrict.services import PLATFORM_ACTOR, crossdistrict_match
from core.audit import trail

SEMESTER_CODE = re.compile(r"^\d{4}-(SPRING|AUTUMN)$")


class Command(BaseCommand):
    help = "Match pupils across districts by the platform's keyed hash of their ID numbers, now."

    def add_arguments(self, parser):
        parser.add_argument(
            "--semester", action="append", help="a semester code such as 2026-AUTUMN (repeatable; default: current)"
        )

    def handle(self, *args, **options):
        codes = options["semester"]
        for code in codes or []:
            if not SEMESTER_CODE.match(code):
                raise CommandError(f"{code!r} is not a semester code such as 2026-AUTUMN")
        with trail.acting_as(PLATFORM_ACTOR):
            result = crossdistrict_match(semesters=codes, progress=lambda message: None)
        self.stdout.write(
            f"semesters {', '.join(result.semesters) or '-'}: {result.districts} districts, {result.pupils} pupils, "
            f"{result.facts} facts, {result.matches} matches, {result.told} districts told; seconds {result.seconds}"
        )
