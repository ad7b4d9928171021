"""The national programs a new tenant starts with, and the standards a new semester starts with.

Reference figures per semester, each checked against seed 001's spring-2020 report (one county's
published figures); every one is tenant data, edited (or deleted) by the district in the admin:

- 普通高中国家助学金: 1,200 / 1,000 / 800 by tier (特别困难 / 困难 / 一般困难): 858 pupils for ¥858,000,
  the 83 registered-poor among them (the highest tier) for ¥99,600 = 83 × 1,200.
- 中职国家助学金: 1,000 whatever the tier: 535 pupils for ¥535,000, 56 registered-poor for ¥56,000.
- 营养改善计划: 400 per identified rural compulsory pupil: the county funded 1,087 pupils (843
  registered-poor + 244 disabled) for ¥434,800, not every rural pupil; so the program asks for an
  identification, and a district that runs the plan for every pupil of its rural schools unticks it.
- 社会爱心助学金 (a donor's grant) and its 500 are only an example: it starts inactive, because built
  for every program it would add 500 for every 特别困难 pupil. The district turns it on with the donor's
  rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from schools.models import Stage
from students.models import Tier

from ..models import Boarding, FundingSource, PaymentMethod, Program, Semester, Standard

P, J = Stage.PRIMARY, Stage.JUNIOR
G, D, S = Tier.GENERAL, Tier.DIFFICULT, Tier.SPECIAL


@dataclass(frozen=True)
class DefaultProgram:
    code: str
    name: str
    stages: tuple[str, ...]
    source: str
    method: str
    requires_identification: bool = True
    rural_schools_only: bool = False
    is_emergency: bool = False
    is_active: bool = True
    eligible_tiers: tuple[str, ...] = ()
    exclusive_group: str = ""
    # (stage, tier, boarding, amount): "" means any
    standards: tuple[tuple[str, str, str, str], ...] = field(default_factory=tuple)


DEFAULTS = (
    DefaultProgram(
        "PRESCHOOL_AID", "学前教育幼儿资助", (Stage.PRESCHOOL,), FundingSource.COUNTY, PaymentMethod.BANK,
        exclusive_group="LIVING",
        standards=(("", G, "", "300"), ("", D, "", "400"), ("", S, "", "500")),
    ),
    DefaultProgram(
        "LIVING_SUBSIDY", "义务教育家庭经济困难学生生活补助", (P, J), FundingSource.CENTRAL, PaymentMethod.BANK,
        exclusive_group="LIVING",
        standards=(
            (P, "", Boarding.BOARDING, "500"), (P, "", Boarding.DAY, "250"),
            (J, "", Boarding.BOARDING, "625"), (J, "", Boarding.DAY, "312.50"),
        ),
    ),
    DefaultProgram(
        "NUTRITION", "农村义务教育学生营养改善计划", (P, J), FundingSource.CENTRAL, PaymentMethod.IN_KIND,
        rural_schools_only=True, standards=(("", "", "", "400"),),
    ),
    DefaultProgram(
        "SENIOR_GRANT", "普通高中国家助学金", (Stage.SENIOR,), FundingSource.CENTRAL, PaymentMethod.BANK,
        exclusive_group="GRANT",
        standards=(("", G, "", "800"), ("", D, "", "1000"), ("", S, "", "1200")),
    ),
    DefaultProgram(
        "SENIOR_WAIVER", "普通高中免学杂费", (Stage.SENIOR,), FundingSource.PROVINCIAL, PaymentMethod.WAIVER,
        standards=(("", "", "", "450"),),
    ),
    DefaultProgram(
        "VOCATIONAL_GRANT", "中等职业教育国家助学金", (Stage.VOCATIONAL,), FundingSource.CENTRAL, PaymentMethod.BANK,
        exclusive_group="GRANT", standards=(("", "", "", "1000"),),
    ),
    DefaultProgram(
        "VOCATIONAL_WAIVER", "中等职业教育免学费", (Stage.VOCATIONAL,), FundingSource.CENTRAL, PaymentMethod.WAIVER,
        requires_identification=False, standards=(("", "", "", "1000"),),
    ),
    DefaultProgram(
        "SOCIAL_GRANT", "社会爱心助学金", tuple(Stage), FundingSource.SOCIAL, PaymentMethod.BANK,
        eligible_tiers=(S,), is_active=False, standards=(("", S, "", "500"),),
    ),
    DefaultProgram(
        "EMERGENCY_AID", "临时困难救助", tuple(Stage), FundingSource.COUNTY, PaymentMethod.BANK,
        is_emergency=True, standards=(("", "", "", "500"),),
    ),
)  # fmt: skip


def programs_ensure_defaults() -> int:
    """Add the national programs the current tenant does not have yet."""
    existing = set(Program.objects.values_list("code", flat=True))
    missing = [
        Program(
            code=d.code,
            name=d.name,
            stages=list(d.stages),
            source=d.source,
            payment_method=d.method,
            requires_identification=d.requires_identification,
            rural_schools_only=d.rural_schools_only,
            is_emergency=d.is_emergency,
            is_active=d.is_active,
            eligible_tiers=list(d.eligible_tiers),
            exclusive_group=d.exclusive_group,
            sort_order=i,
        )
        for i, d in enumerate(DEFAULTS)
        if d.code not in existing
    ]
    Program.objects.bulk_create(missing)
    return len(missing)


def standards_for_new_semester(semester: Semester) -> int:
    """A new semester copies the previous semester's standards, or starts from the reference figures."""
    if Standard.objects.filter(semester=semester).exists():
        return 0
    previous = Semester.objects.filter(starts_on__lt=semester.starts_on).order_by("-starts_on").first()
    if previous is not None and Standard.objects.filter(semester=previous).exists():
        rows = [
            Standard(
                program_id=s.program_id,
                semester=semester,
                stage=s.stage,
                tier=s.tier,
                boarding=s.boarding,
                amount=s.amount,
            )
            for s in Standard.objects.filter(semester=previous)
        ]
    else:
        programs = {p.code: p for p in Program.objects.all()}
        rows = [
            Standard(
                program=programs[d.code],
                semester=semester,
                stage=stage,
                tier=tier,
                boarding=boarding,
                amount=Decimal(amount),
            )
            for d in DEFAULTS
            if d.code in programs
            for stage, tier, boarding, amount in d.standards
        ]
    Standard.objects.bulk_create(rows)
    return len(rows)


def seed_for_new_tenant(sender: object, tenant: object, **kwargs: object) -> None:
    """A new tenant starts with the national programs (runs in its transaction)."""
    programs_ensure_defaults()
