"""manage.py create_tenant SLUG NAME REGION_CODE ADMIN_USERNAME: a tenant and its first administrator
(the platform operator's job, for automation; the admin site does the same in the browser)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.audit import trail
from schools import services
from schools.door.validators import generated_password


class Command(BaseCommand):
    help = "Create a tenant (one district's funding authority) and its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("region_code", help="行政区划代码, six digits")
        parser.add_argument("admin_username")
        parser.add_argument("--password", help="the administrator's password (default: a random one, printed)")

    def handle(self, *args, **options):
        password = options["password"] or generated_password()
        try:
            with (
                transaction.atomic(),
                trail.acting_as(trail.Actor(user_id=None, label="create_tenant", source="command")),
            ):
                tenant = services.tenant_create(
                    slug=options["slug"], name=options["name"], region_code=options["region_code"]
                )
                admin = services.tenant_admin_create(
                    tenant=tenant, username=options["admin_username"], password=password
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.slug} ({tenant.name})."))
        self.stdout.write(f"Administrator: {admin.username}" + ("" if options["password"] else f" / {password}"))
