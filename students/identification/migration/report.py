"""The row report (导入结果) of an identified-list import: one line per row, saying what happened and
why, ID numbers masked; and a summary sheet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.crypto import mask
from core.xlsx import STYLE_BOLD, ColumnFormat, XlsxWriter

from .validate import EXISTING, IMPORTABLE, REJECTED, UNCHANGED, Row

OUTCOME_LABELS = {
    IMPORTABLE: pgettext_lazy("identification import result", "Imported"),
    UNCHANGED: pgettext_lazy("identification import result", "Already imported"),
    EXISTING: pgettext_lazy("identification import result", "Has an application"),
    REJECTED: pgettext_lazy("identification import result", "Rejected"),
}
#: When any row is rejected nothing is imported: the rows that would have been are labelled so.
NOT_IMPORTED = pgettext_lazy("identification import result", "Not imported (the file has rejected rows)")
ROWS_SHEET = _("Import result")
SUMMARY_SHEET = _("Summary")
HEADERS = (
    _("Row"),
    pgettext_lazy("a person's name", "Name"),
    _("ID number (masked)"),
    _("Result"),
    _("Error codes"),
    _("Details"),
)
_COLUMNS = (ColumnFormat(7), ColumnFormat(12), ColumnFormat(21), ColumnFormat(16), ColumnFormat(28), ColumnFormat(90))


def write_report(
    path: str | Path, *, rows: Iterable[Row], applied: bool, file_name: str, counts: Mapping[str, int]
) -> None:
    """The whole report, written once the outcome of every row is known."""
    labels = {k: str(v) for k, v in OUTCOME_LABELS.items()}
    if not applied:
        labels[IMPORTABLE] = str(NOT_IMPORTED)
    with XlsxWriter(path, compresslevel=1) as book:
        with book.sheet(str(ROWS_SHEET), _COLUMNS) as sheet:
            sheet.row([str(h) for h in HEADERS], style=STYLE_BOLD)
            for r in rows:
                messages = [e.message for e in r.errors] + ([r.note] if r.note else [])
                sheet.row(
                    [
                        r.row,
                        r.name,
                        mask(r.id_text, "id_number"),
                        labels.get(r.outcome, r.outcome),
                        "; ".join(dict.fromkeys(e.code for e in r.errors)),
                        "；".join(messages),
                    ]
                )
        with book.sheet(str(SUMMARY_SHEET), (ColumnFormat(30), ColumnFormat(40))) as sheet:
            sheet.row([str(_("File")), file_name], style=STYLE_BOLD)
            for outcome, label in labels.items():
                sheet.row([label, counts.get(outcome, 0)])
