"""The roster template (学籍名册导入模板) a user downloads, fills in and uploads.

Sheet 学籍名册: the header row (bold; required columns shaded), ID, registration, phone and account
columns formatted as Text ("@") so that Excel keeps every digit (it keeps only 15 significant digits of
a number), drop-down lists for the columns with fixed words. Sheet 填写说明: what goes in each column.
"""

from __future__ import annotations

from core.xlsx_template import template_workbook

from .columns import COLUMNS, INSTRUCTIONS_SHEET, SHEET_NAME

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
    return template_workbook(
        sheet_name=SHEET_NAME,
        instructions_sheet=INSTRUCTIONS_SHEET,
        title="学籍名册导入说明",
        notes=GENERAL_NOTES,
        columns=COLUMNS,
    )
