"""The dashboard's and the reports' figures as xlsx: one sheet per chart, money as numbers to the fen."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import IO, Any

from core.xlsx import ColumnFormat, XlsxWriter

_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _cell(value: Any, money: bool) -> Any:
    return Decimal(value) if money and isinstance(value, str) and re.fullmatch(r"-?\d+\.\d{2}", value) else value


def charts_xlsx(charts: list[dict[str, Any]], target: IO[bytes]) -> None:
    """`charts` as dicts (Chart.as_json's items): one sheet each, headed by the chart's title."""
    with XlsxWriter(target) as book:
        for index, chart in enumerate(charts, start=1):
            # Sheet names: at most 31 characters, none of []:*?/\ ; the title goes in the first row.
            title = _FORBIDDEN.sub(" ", chart["title"])
            name = f"{index:02d} {title}"[:31]
            with book.sheet(
                name, [ColumnFormat(width=24)] + [ColumnFormat(width=16)] * (len(chart["headers"]) - 1)
            ) as sheet:
                sheet.row([chart["title"]], style=1)
                sheet.row(chart["headers"], style=1)
                for row in chart["rows"]:
                    sheet.row([row[0], *(_cell(v, chart.get("money", False)) for v in row[1:])])
