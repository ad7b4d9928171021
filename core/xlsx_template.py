"""An upload template workbook (导入模板) that people fill in Excel and upload: one sheet with the header
row (bold; required columns shaded), Text ("@") columns so that Excel keeps every digit of an ID or an
account (it keeps only 15 significant digits of a number), date columns as dates, drop-down lists for
the columns with fixed words; and a sheet of instructions, one line per column.

The roster and the identified list describe their columns with objects that have `header`, `required`,
`width`, `text`, `choices`, `help`, `example` and, optionally, `date`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

#: Rows below the header prepared cell by cell (some programs ignore a column's format for new cells).
PREPARED_ROWS = 3000


def template_workbook(
    *, sheet_name: str, instructions_sheet: str, title: str, notes: Sequence[str], columns: Sequence[Any]
) -> bytes:
    """The template workbook, as bytes."""
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    last = PREPARED_ROWS + 1
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        sheet.column_dimensions[letter].width = column.width
        number_format = "@" if column.text else "yyyy-mm-dd" if getattr(column, "date", False) else None
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

    instructions = book.create_sheet(instructions_sheet)
    wrap = Alignment(wrap_text=True, vertical="top")
    instructions.append([title])
    instructions["A1"].font = Font(bold=True, size=14)
    for number, text in enumerate(notes, start=1):
        instructions.append([f"{number}. {text}"])
        row = instructions.max_row
        instructions.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        instructions.cell(row=row, column=1).alignment = wrap
        instructions.row_dimensions[row].height = 32
    instructions.append([])
    instructions.append(["列名", "是否必填", "可填写的内容", "说明", "示例"])
    for cell in instructions[instructions.max_row]:
        cell.font = bold
    for column in columns:
        required = "必填" if column.required else "可选"
        instructions.append([column.header, required, "、".join(column.choices), column.help, column.example])
        for cell in instructions[instructions.max_row]:
            cell.alignment = wrap
            cell.number_format = "@"
    for letter, width in zip("ABCDE", (16, 10, 26, 60, 22), strict=True):
        instructions.column_dimensions[letter].width = width

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
