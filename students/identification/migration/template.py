"""The identified list's template (已认定学生名单导入模板): the header row (bold; required columns shaded),
the ID column formatted as Text ("@") so that Excel keeps every digit, date columns as dates, drop-down
lists for the stage and the tier; and a sheet of instructions."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .columns import COLUMNS, INSTRUCTIONS_SHEET, SHEET_NAME

#: Rows below the header prepared cell by cell (some programs ignore a column's format for new cells).
PREPARED_ROWS = 3000

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
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_NAME
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    last = PREPARED_ROWS + 1
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        sheet.column_dimensions[letter].width = column.width
        number_format = "@" if column.text else "yyyy-mm-dd" if column.date else None
        if number_format:
            sheet.column_dimensions[letter].number_format = number_format
            for row in range(2, last + 1):
                sheet.cell(row=row, column=index).number_format = number_format
        if column.choices:
            rule = DataValidation(type="list", formula1=f'"{",".join(column.choices)}"', allow_blank=True)
            rule.error = f"请从下拉列表中选择：{'、'.join(column.choices)}"
            rule.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"

    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    wrap = Alignment(wrap_text=True, vertical="top")
    notes.append(["已认定学生名单导入说明"])
    notes["A1"].font = Font(bold=True, size=14)
    for number, text in enumerate(GENERAL_NOTES, start=1):
        notes.append([f"{number}. {text}"])
        notes.merge_cells(start_row=notes.max_row, start_column=1, end_row=notes.max_row, end_column=5)
        notes.cell(row=notes.max_row, column=1).alignment = wrap
        notes.row_dimensions[notes.max_row].height = 32
    notes.append([])
    notes.append(["列名", "是否必填", "可填写的内容", "说明", "示例"])
    for cell in notes[notes.max_row]:
        cell.font = bold
    for column in COLUMNS:
        required = "必填" if column.required else "可选"
        notes.append([column.header, required, "、".join(column.choices), column.help, column.example])
        for cell in notes[notes.max_row]:
            cell.alignment = wrap
            cell.number_format = "@"
    for letter, width in zip("ABCDE", (16, 10, 26, 60, 22), strict=True):
        notes.column_dimensions[letter].width = width

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
