"""manage.py create_region CODE NAME [--province] [--parent CODE] [--district SLUG …] [--account USERNAME]:
a city or province above districts (市/省), the districts placed in it, and its oversight account (the
platform operator's job). Run again with more --district to place more; an existing region is reused."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.audit import trail
from schools import services
from schools.door.validators import generated_password
from schools.models import Region, RegionLevel, Tenant, User


class Command(BaseCommand):
    help = "Create a city or province, place districts in it, and give it an oversight account."

    def add_arguments(self, parser):
        parser.add_argument("code", help="行政区划代码, six digits")
        parser.add_argument("name")
        parser.add_argument("--province", action="store_true", help="a province (default: a city)")
        parser.add_argument("--parent", help="the code of the province a city belongs to")
        parser.add_argument("--district", action="append", default=[], help="a district's slug (repeatable)")
        parser.add_argument("--account", help="the username of the region's oversight account")
        parser.add_argument("--password", help="the account's password (default: a random one, printed)")

    def handle(self, *args, **options):
        password = options["password"] or generated_password()
        districts = list(Tenant.objects.filter(slug__in=options["district"]).order_by("slug"))
        missing = sorted(set(options["district"]) - {t.slug for t in districts})
        if missing:
            raise CommandError(f"no tenant {', '.join(missing)}")
        if options["account"] and User.objects.filter(username=options["account"]).exists():
            raise CommandError(f"the username {options['account']!r} is taken")
        try:
            with (
                transaction.atomic(),
                trail.acting_as(trail.Actor(user_id=None, label="create_region", source="command")),
            ):
                region = Region.objects.filter(code=options["code"]).first()
                if region is None:
                    parent = Region.objects.filter(code=options["parent"]).first() if options["parent"] else None
                    if options["parent"] and parent is None:
                        raise CommandError(f"no region {options['parent']}")
                    level = RegionLevel.PROVINCE if options["province"] else RegionLevel.CITY
                    region = services.region_create(
                        code=options["code"], name=options["name"], level=level, parent=parent
                    )
                for tenant in districts:
                    services.tenant_region_set(tenant=tenant, region=region)
                account = None
                if options["account"]:
                    account = services.region_account_create(
                        region=region, username=options["account"], password=password, validate=True
                    )
                    account.must_change_password = True  # the operator chose it: the account changes it first
                    account.save(update_fields=["must_change_password"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        placed = ", ".join(t.slug for t in districts) or "none"
        self.stdout.write(self.style.SUCCESS(f"Region {region.code} {region.name}; districts placed: {placed}."))
        if account is not None:
            self.stdout.write(f"Account: {account.username}" + ("" if options["password"] else f" / {password}"))
