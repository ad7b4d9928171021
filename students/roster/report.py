"""The row report (导入结果) a user downloads after an import: one line per roster row, saying what
happened to it and why, ID numbers masked; and a summary sheet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.crypto import mask
from core.xlsx import STYLE_BOLD, ColumnFormat, SheetWriter, XlsxWriter

from .apply import CREATED, REJECTED, UNCHANGED, UPDATED
from .validate import RowReport

OUTCOME_LABELS = {
    CREATED: pgettext_lazy("roster import result", "Created"),
    UPDATED: pgettext_lazy("roster import result", "Updated"),
    UNCHANGED: pgettext_lazy("roster import result", "Unchanged"),
    REJECTED: pgettext_lazy("roster import result", "Rejected"),
}

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
_COLUMNS = (ColumnFormat(7), ColumnFormat(12), ColumnFormat(21), ColumnFormat(8), ColumnFormat(28), ColumnFormat(90))


class RowReportWriter:
    """Streams the report as chunks are imported (constant memory), then adds the summary."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._book = XlsxWriter(path, compresslevel=1)
        self._sheet_context = self._book.sheet(str(ROWS_SHEET), _COLUMNS)
        self._sheet: SheetWriter = self._sheet_context.__enter__()
        self._sheet.row([str(h) for h in HEADERS], style=STYLE_BOLD)

    def write(self, reports: Iterable[RowReport]) -> None:
        outcome = {k: str(v) for k, v in OUTCOME_LABELS.items()}
        for r in reports:
            messages = [e.message for e in r.errors]
            if r.note:
                messages.append(r.note)
            self._sheet.row(
                [
                    r.row,
                    r.name,
                    mask(r.id_text, "id_number"),
                    outcome.get(r.outcome, r.outcome),
                    "; ".join(dict.fromkeys(e.code for e in r.errors)),
                    "；".join(messages),
                ]
            )

    def close(self, *, file_name: str, counts: Mapping[str, int], errors: Mapping[str, int]) -> None:
        self._sheet_context.__exit__(None, None, None)
        with self._book.sheet(str(SUMMARY_SHEET), (ColumnFormat(24), ColumnFormat(40))) as sheet:
            sheet.row([str(_("File")), file_name], style=STYLE_BOLD)
            for outcome, label in OUTCOME_LABELS.items():
                sheet.row([str(label), counts.get(outcome, 0)])
            if errors:
                sheet.row([])
                sheet.row([str(_("Error code")), str(_("Rows"))], style=STYLE_BOLD)
                for code, n in sorted(errors.items(), key=lambda item: (-item[1], item[0])):
                    sheet.row([code, n])
        self._book.close()

    def abort(self) -> None:
        """The import failed half-way: close and delete the partial report."""
        try:
            self._sheet_context.__exit__(None, None, None)
            self._book.close()
        finally:
            self._path.unlink(missing_ok=True)
