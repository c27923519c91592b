"""The office's spreadsheets (xlsx): one look for every export.

Every table an office gets from Lüzhi is written by :func:`add_table`: Chinese headers in bold on
a grey band, the header row (and optionally the name columns) frozen, an auto-filter, widths
that fit the content, numbers as numbers, dates and times as real Excel dates in the office's
zone (openpyxl refuses aware datetimes, and Excel has no zones: local wall time is what people
read), and a bold 合计 row where the table has one.

Every value goes through :func:`_safe`, the one place that keeps stored text inert: members
write names, titles, reflections, and openpyxl would store a string starting with ``=`` as a
live formula (``=HYPERLINK(…)``, DDE). A text starting with any of ``= + - @``, tab or CR (the
OWASP CSV-injection list) is written as an explicit string cell with Excel's quote prefix (what
typing ``'=…`` in Excel stores), so it shows as typed and stays text when edited; characters
XML cannot hold (control characters) are dropped rather than failing the whole export.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
PERCENT = "0%"
DECIMAL = "0.0"

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
TOTAL_FONT = Font(bold=True)
TOTAL_BORDER = Border(top=Side(style="thin"))
MAX_WIDTH = 60
WIDTH_SAMPLE = 300  # rows looked at to fit a column's width (3,000 members: a tenth)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a cell must not start with


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its Chinese header, a width in characters (None: fit the content) and a
    number format (:data:`DATE`, :data:`DATETIME`, :data:`PERCENT`, :data:`DECIMAL` …)."""

    header: str
    width: float | None = None
    format: str | None = None


def new_workbook() -> Workbook:
    """An empty write-only workbook: rows stream to disk as they are added, which is what
    keeps 3,000 members' records fast (and small in memory). :func:`add_table` adds sheets."""
    return Workbook(write_only=True)


def add_table(
    book: Workbook,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    freeze_columns: int = 0,
    totals: Sequence[Sequence[Any]] = (),
) -> None:
    """A sheet holding one table: header, ``rows``, then bold ``totals`` rows (合计, 平均 …)
    below a rule; the auto-filter covers the header and ``rows`` only."""
    sheet = book.create_sheet(sheet_title(title, book.sheetnames))
    body = rows if isinstance(rows, list) else list(rows)
    # A write-only sheet writes its column widths and frozen panes before the first row.
    for i, width in enumerate(_widths(columns, [*body[:WIDTH_SAMPLE], *totals]), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = f"{get_column_letter(freeze_columns + 1)}2"
    sheet.append([_cell(sheet, c.header, font=HEADER_FONT, header=True) for c in columns])
    formats = [c.format for c in columns]
    for row in body:
        sheet.append(_formatted(sheet, row, formats))
    for n, total in enumerate(totals):
        sheet.append(
            [
                _cell(sheet, value, font=TOTAL_FONT, rule=n == 0, number_format=fmt)
                for value, fmt in zip(total, [*formats, *[None] * len(total)], strict=False)
            ]
        )
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(body) + 1}"


def _widths(columns: Sequence[Column], sample: Sequence[Sequence[Any]]) -> list[float]:
    found = [_text_width(c.header) for c in columns]
    for row in sample:
        for i, value in enumerate(row[: len(found)]):
            found[i] = max(found[i], _text_width(value))
    return [c.width or min(MAX_WIDTH, w + 2) for c, w in zip(columns, found, strict=True)]


def _formatted(sheet: Any, row: Sequence[Any], formats: Sequence[str | None]) -> list[Any]:
    """The row's values made safe, the ones in formatted columns (dates, percentages) as
    cells."""
    values = [_safe(sheet, value) for value in row]
    for i, fmt in enumerate(formats[: len(values)]):
        if fmt is not None and values[i] is not None and not isinstance(values[i], Cell):
            values[i] = _cell(sheet, values[i], number_format=fmt)
    return values


def _safe(sheet: Any, value: Any) -> Any:
    """``value`` as it may be written: text that could start a formula becomes a string cell
    (see the module docstring); other values are returned as they are."""
    if not isinstance(value, str):
        return value
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith(FORMULA_TRIGGERS):
        return value  # openpyxl stores any other str as a string cell
    return _cell(sheet, value)


def _cell(
    sheet: Any,
    value: Any,
    *,
    font: Font | None = None,
    header: bool = False,
    rule: bool = False,
    number_format: str | None = None,
) -> WriteOnlyCell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        cell.data_type = "s"  # never "f": stored text is not a formula
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    if header:
        cell.fill, cell.alignment = HEADER_FILL, HEADER_ALIGN
    if rule:
        cell.border = TOTAL_BORDER
    if number_format is not None and value is not None:
        cell.number_format = number_format
    return cell


def _text_width(value: Any) -> float:
    """Roughly how many character cells ``value`` takes: a CJK character is two."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, float):
        return len(f"{value:.1f}")  # shown as 0.0, 0% …, not every digit of the float
    text = value if isinstance(value, str) else str(value)
    line = max(text.split("\n"), key=len) if text else ""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in line)


_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str, taken: Sequence[str] = ()) -> str:
    """A valid, unused sheet name: Excel allows 31 characters and none of ``[]:*?/\\``."""
    base = _BAD_TITLE.sub("_", name).strip("'") or "Sheet"
    title, n = base[:31], 2
    while title in taken:
        suffix = f"({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    return title


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """An aware instant as the naive wall time Excel shows (to the second)."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
