"""Helpers shared by the roster import tests: workbooks built cell by cell (no tests in this module)."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook

from core.audit import trail
from core.tenancy.context import tenant_context
from students import idcard
from students.roster.columns import HEADERS, SHEET_NAME
from students.roster.services import ImportOutcome, roster_import

_seq = itertools.count(1)


class AsText(str):
    """A cell written as text even if it starts with "=" (openpyxl would make it a formula)."""


def new_id(*, birth: dt.date = dt.date(2017, 3, 9), sex: idcard.Sex = idcard.Sex.MALE, region: str = "410622") -> str:
    """A valid ID number nobody in the test world has (the factories use other birth dates)."""
    return idcard.compose(region, birth, 400 + next(_seq) % 99, sex)


def pupil(world_tenant, klass: str = "c1", **cells: Any) -> dict[str, Any]:
    """A valid roster row for a class of a TenantWorld (headers → values); override cells by header."""
    k = world_tenant.classes[klass]
    school = next(s for s in world_tenant.schools.values() if s.pk == k.school_id)  # (no query: RLS on PG)
    stage = {"PRIMARY": "小学", "JUNIOR": "初中"}[k.grade.stage]
    number = cells.pop("身份证号", None) or new_id()
    parsed = idcard.parse(number) if isinstance(number, str) and idcard.is_valid(number) else None
    row = {
        "学校标识码": school.code,
        "学段": stage,
        "入学年份": k.grade.entry_year,
        "班号": k.number,
        "姓名": "新同学",
        "身份证号": number,
        "学籍号": f"G{number}" if parsed else "",
        "性别": ("男" if parsed.sex is idcard.Sex.MALE else "女") if parsed else "",
        "出生日期": parsed.birth_date.isoformat() if parsed else "",
        "学籍状态": "在校",
        "是否寄宿": "否",
        "户籍性质": "农村",
        "乡镇": "北阳镇",
        "村（社区）": "东村",
        "联系电话": "13800001111",
        "监护人1姓名": "新家长",
        "监护人1关系": "母亲",
        "监护人1身份证号": idcard.compose("410622", dt.date(1988, 5, 6), 200 + next(_seq) % 99, idcard.Sex.FEMALE),
        "监护人1电话": "13900001111",
        "开户银行": "农村信用社",
        "银行账号": "6221000011112222333",
        "账户持有人": "新家长",
    }
    row.update(cells)
    return row


def write_roster(
    path: Path,
    rows: list[dict[str, Any] | None],
    *,
    headers: tuple[str, ...] = HEADERS,
    sheet: str = SHEET_NAME,
    text_columns: bool = True,
) -> Path:
    """A workbook like a teacher's: header row, one row per dict (None: a blank row). Strings are
    written as text cells, numbers as numbers, "=…" strings as formulas (openpyxl's rule)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(list(headers))
    for row in rows:
        values = [] if row is None else [row.get(h, "") for h in headers]
        ws.append(values)
        for column, value in enumerate(values, start=1):
            if isinstance(value, AsText):
                ws.cell(row=ws.max_row, column=column).data_type = "s"
    book.save(path)
    return path


def read_report(path: Path) -> list[list[Any]]:
    """The report's first sheet as lists (header first)."""
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(book.sheet_names[0]).to_python()


def run_import(tenant, path: Path, *, actor=None, report: Path | None = None, **kwargs: Any) -> ImportOutcome:
    """The import as a task or the command runs it: the tenant set, no transaction open."""
    who = trail.actor_for(actor, source="test") if actor else trail.Actor(user_id=None, label="test", source="test")
    with tenant_context(tenant.pk), trail.acting_as(who):
        return roster_import(path=path, file_name=path.name, actor=actor, report_path=report, **kwargs)


def reader_processes() -> dict[int, tuple[int, str]]:
    """The roster readers running on this machine: pid → (parent pid, state)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid = int(stat.parent.name)
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if b"students.roster.pipeline" in (stat.parent / "cmdline").read_bytes():
                found[pid] = (int(fields[1]), fields[0])
        except (OSError, ValueError):
            continue  # ended meanwhile
    return found
