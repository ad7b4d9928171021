"""manage.py seed_demo: two demo districts (demo-a, demo-b) with schools, pupils and one account per role."""

import time

from django.core.management.base import BaseCommand

from core.audit import trail
from demo import seed as demo


class Command(BaseCommand):
    help = "Create (or complete) the demo tenants demo-a and demo-b. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="pupils per class, as a fraction of the usual size (tests)",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        with trail.acting_as(trail.Actor(user_id=None, label="seed_demo", source="command")):
            report = demo.seed(scale=options["scale"], say=self.stdout.write)
        created = ", ".join(f"{n} {what}" for what, n in report.created.items() if n) or "nothing (already seeded)"
        self.stdout.write(self.style.SUCCESS(f"Created {created} in {time.monotonic() - started:.1f} s."))
        self.stdout.write(f"Demo accounts (password: {demo.DEMO_PASSWORD}):")
        for username, slug, role in demo.demo_usernames():
            self.stdout.write(f"  {username:<14} {slug or '—':<8} {role}")
        self.stdout.write(
            "A list published in the demo stays public for five working days; to end its period now: "
            "make demo-advance (manage.py demo_advance)."
        )
