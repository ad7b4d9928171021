"""The demo's clock moves on: a publicity period (公示, five working days or more) ends without waiting
a week or opening a shell.

Only for the demo districts (TENANTS): every publication of the tenant still running, or not yet
started, has its period moved back so that it ended yesterday (the identification lists, the award
lists and their public notices), audited as `demo.advance`; then the lists whose period is over are
closed as the nightly task closes them (their applications go to the district's review), and the
award lists wait for the district's approval, which the district gives in the browser as usual. The
product's rules are not bent: only dates the demo itself wrote are moved, and everything after that
goes through the same services and checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from core import clock
from core.audit import trail
from core.tenancy.context import tenant_transaction
from funding.models import AwardList, AwardListStatus
from schools.models import Tenant
from schools.services import tenant_system_user
from students.identification import publicity
from students.models import Publicity, PublicityStatus, PublicNotice

from .seed import TENANTS

MSG_NOT_DEMO = "demo_advance only moves the demo districts' dates (%(slugs)s), never a real district's: %(slug)s"


@dataclass
class Advanced:
    publicities: int = 0
    award_lists: int = 0
    closed: int = 0


def _moved_back(item, *, yesterday: dt.date) -> None:
    """The item's period, as long as it was, ending yesterday; its public notice with it."""
    length = item.ends_on - item.starts_on
    item.starts_on, item.ends_on = yesterday - length, yesterday
    item.save(update_fields=["starts_on", "ends_on", "updated_at"])
    PublicNotice.objects.filter(token=item.notice_token).update(starts_on=item.starts_on, ends_on=item.ends_on)


def demo_advance(*, slug: str, today: dt.date | None = None) -> Advanced:
    """End every running publicity period of the demo tenant `slug` as of yesterday, and close the
    identification lists that are now due. Refuses any tenant that is not a demo district."""
    if slug not in {t.slug for t in TENANTS}:
        raise ValidationError(MSG_NOT_DEMO % {"slugs": ", ".join(t.slug for t in TENANTS), "slug": slug})
    tenant = Tenant.objects.get(slug=slug)
    today = today or clock.today()
    yesterday = today - dt.timedelta(days=1)
    done = Advanced()
    with tenant_transaction(tenant.pk), trail.labelled("demo.advance", "the demo's publicity periods end"):
        for item in Publicity.objects.filter(status=PublicityStatus.PUBLIC, ends_on__gte=today).order_by("pk"):
            _moved_back(item, yesterday=yesterday)
            done.publicities += 1
        for item in AwardList.objects.filter(status=AwardListStatus.PUBLICITY, ends_on__gte=today).order_by("pk"):
            _moved_back(item, yesterday=yesterday)
            done.award_lists += 1
        done.closed = publicity.publicities_close_due(actor=tenant_system_user(tenant), today=today)
    return done
