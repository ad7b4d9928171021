"""What a registry row holds, how departments head their columns, and how their category words map to
the district's hardship categories."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ..models import RegistrySource


@dataclass(frozen=True)
class RowField:
    key: str
    label: str
    required: bool
    # Header words departments use for it (normalised: no spaces, brackets or asterisks).
    aliases: tuple[str, ...]


FIELDS = (
    RowField("name", _("Name"), True, ("姓名", "人员姓名", "成员姓名", "学生姓名", "儿童姓名", "残疾人姓名")),
    RowField(
        "id_number",
        _("ID number"),
        True,
        ("身份证号", "身份证号码", "证件号码", "公民身份号码", "成员身份证号", "学生身份证号", "残疾人证号"),
    ),
    RowField("household_id_number", _("Household head's ID number"), False, ("户主身份证号", "户主身份证号码")),
    RowField("category", _("Category"), False, ("类别", "人员类别", "救助类别", "户类型", "困难类型", "保障类别")),
    RowField("township", _("Township"), False, ("乡镇", "乡镇（街道）", "乡镇街道", "所属乡镇")),
    RowField("village", _("Village or community"), False, ("村", "村（社区）", "行政村", "村社区", "所属村")),
)
FIELD_KEYS = tuple(f.key for f in FIELDS)

#: The category a source's rows have when its file has no category column (or a blank cell).
SOURCE_DEFAULT_CATEGORY = {
    RegistrySource.RURAL: "LIFTED",
    RegistrySource.CIVIL: "DIBAO",
    RegistrySource.DISABLED: "DISABLED_STUDENT",
    RegistrySource.VETERANS: "MARTYR_CHILD",
}

#: HardshipCategory.source (the department's name) of each registry source: a run judges "the registry
#: no longer lists the family" only for categories of a department whose list it has.
SOURCE_DEPARTMENT = {
    RegistrySource.RURAL: "乡村振兴",
    RegistrySource.CIVIL: "民政",
    RegistrySource.DISABLED: "残联",
    RegistrySource.VETERANS: "退役军人事务",
}

#: Words departments write in their category column, beyond the categories' own names and codes.
CATEGORY_ALIASES = {
    "脱贫户": "LIFTED",
    "建档立卡": "LIFTED",
    "建档立卡户": "LIFTED",
    "脱贫不稳定户": "LIFTED_UNSTABLE",
    "边缘易致贫户": "EDGE_POVERTY",
    "监测户": "LIFTED_UNSTABLE",
    "防返贫监测户": "LIFTED_UNSTABLE",
    "突发严重困难户": "SUDDEN_HARDSHIP",
    "低保": "DIBAO",
    "低保户": "DIBAO",
    "城市低保": "DIBAO",
    "农村低保": "DIBAO",
    "特困": "TEKUN",
    "特困供养": "TEKUN",
    "特困人员": "TEKUN",
    "孤儿": "ORPHAN",
    "事实无人抚养儿童": "DE_FACTO_ORPHAN",
    "残疾": "DISABLED_STUDENT",
    "残疾人": "DISABLED_STUDENT",
    "残疾学生": "DISABLED_STUDENT",
    "残疾人子女": "DISABLED_PARENT",
    "烈士子女": "MARTYR_CHILD",
}

_NOISE = re.compile(r"[\s*＊:：]+")


def normalise_header(text: object) -> str:
    return _NOISE.sub("", str(text or "")).replace("(", "（").replace(")", "）")


def suggest_columns(headers: list[str]) -> dict[str, str]:
    """A first guess at the mapping from a file's header row: each field to the header that names it."""
    by_norm = {normalise_header(h): h for h in headers if str(h or "").strip()}
    guess: dict[str, str] = {}
    for f in FIELDS:
        for alias in f.aliases:
            if normalise_header(alias) in by_norm:
                guess[f.key] = by_norm[normalise_header(alias)]
                break
    return guess
