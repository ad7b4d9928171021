"""The run's lists as a workbook (比对结果): one row per finding, names and ID numbers masked, because
the file leaves the system (it is mailed to schools and departments)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.xlsx import STYLE_BOLD, ColumnFormat, XlsxWriter

from ..models import Finding
from .selectors import evidence_summary, masked_name

SHEET = "比对结果"
COLUMNS = [
    ColumnFormat(14), ColumnFormat(26), ColumnFormat(10), ColumnFormat(22, text=True), ColumnFormat(24),
    ColumnFormat(20), ColumnFormat(18), ColumnFormat(12), ColumnFormat(60), ColumnFormat(10),
]  # fmt: skip


def findings_export(*, findings: Iterable[Finding], categories: dict[str, str], target: IO[bytes]) -> None:
    """Write the findings (already filtered and ordered by the selector) to `target`, row by row."""
    headers = [
        _("List"), _("Reason"), pgettext("a person's name", "Name"), _("ID number"), _("School"), _("Class"),
        _("Program"), _("Amount"), _("Evidence"), _("Status"),
    ]  # fmt: skip
    with XlsxWriter(target) as book, book.sheet(SHEET, COLUMNS) as sheet:
        sheet.row([str(h) for h in headers], style=STYLE_BOLD)
        for f in findings:
            sheet.row(
                [
                    str(f.get_kind_display()), str(f.get_reason_display()), masked_name(f),
                    f.student.id_number.masked, f.school.name, str(f.klass),
                    f.program.name if f.program_id else "", f.amount, evidence_summary(f, categories),
                    str(f.get_status_display()),
                ]
            )  # fmt: skip
