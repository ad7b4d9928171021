"""The identified list's template (已认定学生名单导入模板): the header row (bold; required columns shaded),
the ID column formatted as Text ("@") so that Excel keeps every digit, date columns as dates, drop-down
lists for the stage and the tier; and a sheet of instructions."""

from __future__ import annotations

from core.xlsx_template import template_workbook

from .columns import COLUMNS, INSTRUCTIONS_SHEET, SHEET_NAME

GENERAL_NOTES = (
    "每名已认定的学生一行，表头（第1行）请勿修改；导入前请先导入学籍名册，学生按身份证号在名册中查找。",
    "身份证号所在列已设为“文本”格式。若存成数字，Excel 只保留15位有效数字，这样的行会被拒绝。",
    "认定档次填写 一般困难、困难 或 特别困难；困难类别填写系统中的类别名称或代码，多个用顿号分隔。",
    "日期写成 2025-10-20；申请、班级评议、学校审核日期可留空，认定日期必填，且须在所选学年内。",
    "导入在页面上选择的学年进行。该学年已有认定申请的学生不会重复导入，会在结果表中列出。",
    "只要有一行被拒绝，整个文件都不会导入：请按结果表修改后重新导入。同一文件重复导入不会产生变化。",
    "请不要使用公式；含公式的文件会被拒绝。",
)


def migration_template() -> bytes:
    """The template workbook, as bytes."""
    return template_workbook(
        sheet_name=SHEET_NAME,
        instructions_sheet=INSTRUCTIONS_SHEET,
        title="已认定学生名单导入说明",
        notes=GENERAL_NOTES,
        columns=COLUMNS,
    )
