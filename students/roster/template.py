"""The roster template (学籍名册导入模板) a user downloads, fills in and uploads.

Sheet 学籍名册: the header row (bold; required columns shaded), ID, registration, phone and account
columns formatted as Text ("@") so that Excel keeps every digit (it keeps only 15 significant digits of
a number), drop-down lists for the columns with fixed words. Sheet 填写说明: what goes in each column.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .columns import COLUMNS, INSTRUCTIONS_SHEET, SHEET_NAME

#: Rows below the header that get the drop-down lists and the Text format cell by cell (some programs
#: ignore a column's format for cells they create).
PREPARED_ROWS = 3000

GENERAL_NOTES = (
    "每名学生一行，表头（第1行）请勿修改、删除或调换顺序；不需要的可选列可以留空。",
    "身份证号、学籍号、电话和银行账号所在列已设为“文本”格式，请直接输入或“选择性粘贴→数值”。"
    "若存成数字，Excel 只保留15位有效数字，末尾会变成0，这样的行会被拒绝。",
    "请不要使用公式；含公式的文件会被拒绝，请先复制后“选择性粘贴→数值”。",
    "学校、年级和班级须已在系统中建好：按学校标识码、学段、入学年份和班号查找班级。",
    "可选列留空表示“保留系统中已有的信息”，不会清除已登记的电话、银行账号等。",
    "同一身份证号已在本区县另一所学校“在校”或“休学”的（在籍不在校 / 在校不在籍），该行会被拒绝，请先办理转学。",
    "同一文件可以重复导入：未变化的学生不会被改动。导入后可以下载结果表，查看每一行的处理结果和原因。",
)


def roster_template() -> bytes:
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
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, last + 1):
                sheet.cell(row=row, column=index).number_format = "@"
        if column.choices:
            rule = DataValidation(type="list", formula1=f'"{",".join(column.choices)}"', allow_blank=True)
            rule.error = f"请从下拉列表中选择：{'、'.join(column.choices)}"
            rule.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"

    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    wrap = Alignment(wrap_text=True, vertical="top")
    notes.append(["学籍名册导入说明"])
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
