"""manage.py import_roster PATH --tenant SLUG [--report OUT.xlsx] [--as USERNAME]: the roster import for
automation. Prints the counts; exits non-zero only when the file itself cannot be read (rejected rows
are the report's business, not a failure)."""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from core.audit import trail
from core.tenancy.context import tenant_context
from schools.models import Tenant, User
from students.roster.problems import RosterFileError
from students.roster.services import roster_import


class Command(BaseCommand):
    help = "Import a roster workbook (学籍名册, .xlsx) into a tenant's register."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the workbook (.xlsx)")
        parser.add_argument("--tenant", required=True, help="slug of the tenant (district)")
        parser.add_argument("--report", help="write the row report (.xlsx) here")
        parser.add_argument(
            "--as",
            dest="username",
            help="import as this user, within their permissions (default: for every school of the tenant)",
        )

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"no tenant {options['tenant']!r}")
        user = None
        if options["username"]:
            user = User.objects.filter(username=options["username"], tenant=tenant, is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {options['username']!r} in tenant {tenant.slug}")
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = (
            trail.actor_for(user, source="command")
            if user
            else trail.Actor(user_id=None, label="import_roster", source="command")
        )
        try:
            with tenant_context(tenant.pk), trail.acting_as(actor):
                outcome = roster_import(path=path, file_name=path.name, actor=user, report_path=options["report"])
        except RosterFileError as exc:
            raise CommandError(f"{path.name}: {exc.message}", returncode=1) from exc
        except PermissionDenied as exc:
            raise CommandError(f"{user} may not import rosters") from exc
        self.stdout.write(outcome.summary())
        if options["report"]:
            self.stdout.write(f"report: {options['report']}")
