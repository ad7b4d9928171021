"""The hardship categories a new tenant starts with (the national list); tenants edit their own."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import HardshipCategory


@dataclass(frozen=True)
class DefaultCategory:
    code: str
    name: str
    source: str
    is_special: bool


#: The 13 categories the national system matches since 2021, and the other priority groups of the
#: seeds. Special categories need no proof documents and suggest the highest tier.
DEFAULTS = (
    DefaultCategory("DIBAO", "低保", "民政", True),
    DefaultCategory("TEKUN", "特困供养", "民政", True),
    DefaultCategory("DIBAO_EDGE", "低保边缘", "民政", False),
    DefaultCategory("RIGID_EXPENDITURE", "刚性支出困难", "民政", False),
    DefaultCategory("OTHER_LOW_INCOME", "其他低收入", "民政", False),
    DefaultCategory("ORPHAN", "孤儿", "民政", True),
    DefaultCategory("DE_FACTO_ORPHAN", "事实无人抚养儿童", "民政", True),
    DefaultCategory("LIFTED", "脱贫户（建档立卡）", "乡村振兴", True),
    DefaultCategory("LIFTED_UNSTABLE", "脱贫不稳定户", "乡村振兴", True),
    DefaultCategory("EDGE_POVERTY", "边缘易致贫户", "乡村振兴", True),
    DefaultCategory("SUDDEN_HARDSHIP", "突发严重困难户", "乡村振兴", False),
    DefaultCategory("DISABLED_STUDENT", "残疾学生", "残联", True),
    DefaultCategory("DISABLED_PARENT", "残疾人子女", "残联", True),
    DefaultCategory("MARTYR_CHILD", "烈士子女", "退役军人事务", True),
    DefaultCategory("PRISONER_CHILD", "服刑人员子女", "司法", False),
    DefaultCategory("LEFT_BEHIND", "留守儿童", "民政", False),
)


def categories_ensure_defaults() -> int:
    """Add the national categories the current tenant does not have yet; returns how many were added."""
    existing = set(HardshipCategory.objects.values_list("code", flat=True))
    missing = [
        HardshipCategory(code=d.code, name=d.name, source=d.source, is_special=d.is_special, sort_order=i)
        for i, d in enumerate(DEFAULTS)
        if d.code not in existing
    ]
    HardshipCategory.objects.bulk_create(missing)
    return len(missing)


def seed_for_new_tenant(sender: object, tenant: object, **kwargs: object) -> None:
    """A new tenant starts with the national categories (runs in its transaction)."""
    categories_ensure_defaults()
