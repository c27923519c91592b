"""Reading a roster (名册) spreadsheet: pure reading and validation, no database.

Offices send the roster as ``.xlsx`` or ``.csv`` (UTF-8 with or without BOM, or GBK as Excel on
Chinese Windows saves it). The header may follow title rows ("XX县政协委员名册", a blank row);
the columns are recognised by the names in :mod:`bot.roster.columns`, unknown ones are ignored.

Every data row becomes either a :class:`RosterRow` or a :class:`Rejection` that names the
spreadsheet row (as Excel numbers it) and the reason in Chinese, so the office can fix the file.
A problem with the file as a whole (unreadable, no header, too big) raises :class:`RosterError`.

What reading a file may cost is bounded whatever the file claims: at most ``MAX_FILE_BYTES`` on
disk and ``MAX_UNZIPPED_BYTES`` inflated (an .xlsx is a zip: a small one can inflate to
gigabytes), ``MAX_ROWS`` rows and ``MAX_COLUMNS`` columns. A worksheet's declared
``<dimension>`` is ignored: rows are read as they come, so a file declaring A1:XFD1048576 does
not make the reader allocate every declared cell, and one declaring too small a range loses no
rows. Content beyond the limits is refused with a Chinese message, never silently cut.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserFacingError
from bot.roster.columns import (
    FIELD_LABELS,
    HEADER_VARIANTS,
    MAX_TEXT_LENGTH,
    clean_text,
    match_header,
    normalise_header,
    normalise_mobile,
    normalise_role,
    normalise_userid,
)

HEADER_SCAN_ROWS = 10  # the header must be within the first rows (after any title rows)
MAX_ROWS = 20_000  # spreadsheet rows: a province system's roster is a few thousand
MAX_COLUMNS = 64  # a roster has a dozen columns or so
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # every member of an .xlsx, inflated
MAX_ZIP_MEMBERS = 1_000
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_NAME_HEADERS = frozenset(HEADER_VARIANTS["name"])


class RosterError(UserFacingError):
    """The file as a whole cannot be read as a roster; the message says why, in Chinese."""


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One usable row. ``None`` means the file does not give that value (no column, or an
    empty cell): importing keeps what the database has instead of erasing it."""

    row_number: int
    name: str
    mobile: str | None
    userid: str | None
    sector: str | None
    committee: str | None
    study_group: str | None
    role: str | None  # member|secretary|admin


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that cannot be used (被拒绝的行), with its spreadsheet row number."""

    row_number: int
    reason: str


@dataclass(frozen=True, slots=True)
class RosterFile:
    source: str
    header_row: int
    columns: tuple[tuple[str, str], ...]  # (field, the header as written), in field order
    ignored_columns: tuple[str, ...]
    rows: tuple[RosterRow, ...]
    rejections: tuple[Rejection, ...]

    @property
    def data_rows(self) -> int:
        return len(self.rows) + len(self.rejections)


def read_roster(path: str | Path) -> RosterFile:
    """Read and validate a roster file (.xlsx, .xlsm or .csv)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise RosterError(
            f"不支持旧版 .xls 文件（{path.name}）：请在 Excel 中另存为 .xlsx 或 .csv 后再导入"
        )
    if suffix not in (*EXCEL_SUFFIXES, ".csv"):
        raise RosterError(f"只能导入 .xlsx 或 .csv 文件：{path.name}")
    if not path.is_file():
        raise RosterError(f"找不到文件：{path}")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RosterError(
                f"文件过大（{path.name} 超过 {MAX_FILE_BYTES // (1024 * 1024)} MB）："
                "名册通常只有几百 KB，请检查文件是否正确。"
            )
        if suffix == ".csv":
            return parse_table(read_csv_rows(path.read_bytes()), source=path.name)
        return _read_workbook(path)
    except OSError as exc:
        raise RosterError(f"无法读取文件 {path.name}：{exc.strerror or exc}") from None


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), then GB18030 (a superset of GBK, what Excel on Chinese
    Windows writes as "CSV"); UTF-16 with a BOM ("Unicode text") is accepted too."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV")


def read_csv_rows(data: bytes) -> list[Sequence[object]]:
    text = decode_csv(data)
    sample = text.splitlines()[:HEADER_SCAN_ROWS]
    # Excel writes commas; "Unicode text" uses tabs; some European locales use semicolons.
    delimiter = max(",\t;", key=lambda d: sum(line.count(d) for line in sample))
    try:
        return bounded_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RosterError(f"CSV 格式有误：{exc}") from None


def bounded_rows(rows: Iterable[Sequence[object]]) -> list[Sequence[object]]:
    """The rows up to the last one with content, refusing content past ``MAX_ROWS`` rows or
    ``MAX_COLUMNS`` columns; what is kept is at most that big, however long ``rows`` goes on.
    Blank rows are kept as ``()`` so that row numbers stay those of the spreadsheet."""
    table: list[Sequence[object]] = []
    last = 0
    for number, row in enumerate(rows, start=1):
        # any() first: a gap of a million empty rows must cost next to nothing.
        filled = [i for i, value in enumerate(row) if clean_text(value)] if any(row) else []
        if not filled:
            if number <= MAX_ROWS:
                table.append(())
            continue
        if number > MAX_ROWS:
            raise RosterError(
                f"名册超过 {MAX_ROWS} 行（第{number}行仍有内容）："
                "请删去多余的行，或分成几个文件导入。"
            )
        if filled[-1] >= MAX_COLUMNS:
            raise RosterError(
                f"第{number}行超过 {MAX_COLUMNS} 列（第{filled[-1] + 1}列仍有内容）："
                "名册只需姓名、手机号、企业微信账号等十几列，请删去多余的列。"
            )
        table.append(tuple(row[: filled[-1] + 1]))
        last = number
    return table[:last]


def _read_workbook(path: Path) -> RosterFile:
    import openpyxl  # imported here: reading a CSV should not pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    _check_archive(path)
    # openpyxl warns about features it ignores (data validation, unknown styles); they do not
    # matter for reading values and must not reach the office as noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise RosterError(f"无法打开 Excel 文件 {path.name}：文件损坏或不是 .xlsx") from None
        try:
            # The roster is on the first sheet that has a header (a cover sheet may come first).
            for sheet in workbook.worksheets:
                if hasattr(sheet, "reset_dimensions"):  # a chart sheet has no cells
                    # The declared <dimension> is the file's claim: ignore it (see the module
                    # docstring). Without it openpyxl yields each row as wide as its own last
                    # cell, and one shared empty row for each gap, which bounded_rows passes
                    # over cheaply.
                    sheet.reset_dimensions()
                table = bounded_rows(sheet.iter_rows(values_only=True))
                if find_header(table) is not None:
                    return parse_table(table, source=f"{path.name}「{sheet.title}」")
        finally:
            workbook.close()
    raise _no_header()


def _check_archive(path: Path) -> None:
    """Refuse an .xlsx whose members would inflate past ``MAX_UNZIPPED_BYTES`` (a zip bomb)
    before openpyxl reads any of them (it loads the shared strings whole)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise RosterError(f"无法打开 Excel 文件 {path.name}：文件损坏或不是 .xlsx") from None
    inflated = sum(member.file_size for member in members)
    if len(members) > MAX_ZIP_MEMBERS or inflated > MAX_UNZIPPED_BYTES:
        raise RosterError(
            f"Excel 文件 {path.name} 解压后过大（超过 {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB）："
            "请另存为新的 .xlsx 或 .csv 后再导入。"
        )


def find_header(table: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]] | None:
    """The index of the header row and its field → column map: the first row within the first
    ``HEADER_SCAN_ROWS`` that has a 姓名-like column and at least one more known column."""
    for index, cells in enumerate(table[:HEADER_SCAN_ROWS]):
        columns = match_header(cells)
        if "name" in columns and len(columns) >= 2:
            return index, columns
    return None


def _no_header() -> RosterError:
    return RosterError(
        f"前{HEADER_SCAN_ROWS}行中找不到表头：需要「姓名」列，以及手机号、企业微信账号、界别等其他列"
    )


def parse_table(table: Sequence[Sequence[object]], *, source: str = "") -> RosterFile:
    """Validate a grid of cells (rows of values, as a sheet or a CSV gives them)."""
    found = find_header(table)
    if found is None:
        raise _no_header()
    header_index, columns = found
    header = table[header_index]
    if "mobile" not in columns and "userid" not in columns:
        raise RosterError("表头缺少「手机号」和「企业微信账号」列：至少需要其中一列才能识别委员")
    used = set(columns.values())
    ignored = tuple(
        text
        for column, cell in enumerate(header)
        if column not in used and (text := clean_text(cell))
    )
    rows, rejections = _validate(_records(table, header_index, columns))
    return RosterFile(
        source=source,
        header_row=header_index + 1,
        columns=tuple(
            (field, clean_text(header[columns[field]]))
            for field in FIELD_LABELS
            if field in columns
        ),
        ignored_columns=ignored,
        rows=tuple(rows),
        rejections=tuple(rejections),
    )


def _records(
    table: Sequence[Sequence[object]], header_index: int, columns: dict[str, int]
) -> Iterable[tuple[int, dict[str, object]]]:
    """(row number, raw values by field) for each non-blank data row after the header."""
    for index in range(header_index + 1, len(table)):
        cells = table[index]
        raw = {
            field: cells[column] if column < len(cells) else None
            for field, column in columns.items()
        }
        if not any(clean_text(value) for value in raw.values()):
            continue  # blank row
        if normalise_header(raw.get("name")) in _NAME_HEADERS:
            continue  # the header repeated (printed rosters repeat it on every page)
        yield index + 1, raw


def _validate(
    records: Iterable[tuple[int, dict[str, object]]],
) -> tuple[list[RosterRow], list[Rejection]]:
    rows: list[RosterRow] = []
    rejections: list[Rejection] = []
    # The first row that carried a userid / mobile; a later row repeating it is rejected.
    first_userid: dict[str, int] = {}
    first_mobile: dict[str, int] = {}
    for row_number, raw in records:
        texts = {field: clean_text(value) for field, value in raw.items()}
        mobile = normalise_mobile(raw["mobile"]) if texts.get("mobile") else None
        userid = normalise_userid(raw["userid"]) if texts.get("userid") else None
        role = normalise_role(raw["role"]) if texts.get("role") else None
        reason = _problem(texts, mobile, userid, role)
        if reason is None and userid is not None and userid in first_userid:
            reason = f"企业微信账号 {userid} 与第{first_userid[userid]}行重复"
        if reason is None and mobile is not None and mobile in first_mobile:
            reason = f"手机号 {mobile} 与第{first_mobile[mobile]}行重复"
        if userid is not None:
            first_userid.setdefault(userid, row_number)
        if mobile is not None:
            first_mobile.setdefault(mobile, row_number)
        if reason is not None:
            rejections.append(Rejection(row_number, reason))
            continue
        rows.append(
            RosterRow(
                row_number=row_number,
                name=texts["name"],
                mobile=mobile,
                userid=userid,
                sector=texts.get("sector") or None,
                committee=texts.get("committee") or None,
                study_group=texts.get("study_group") or None,
                role=role,
            )
        )
    return rows, rejections


def _problem(
    texts: dict[str, str], mobile: str | None, userid: str | None, role: str | None
) -> str | None:
    """Why a row cannot be used (the first problem found), or None."""
    if not texts.get("name"):
        return "缺少姓名"
    if texts.get("mobile") and mobile is None:
        return f"手机号格式不正确：{texts['mobile']}（应为11位手机号）"
    if texts.get("userid") and userid is None:
        return f"企业微信账号格式不正确：{texts['userid']}（只能包含字母、数字和 _-@.）"
    if mobile is None and userid is None:
        return "缺少企业微信账号和手机号（至少填一项）"
    if texts.get("role") and role is None:
        return f"角色无法识别：{texts['role']}（应为 委员、秘书 或 管理员）"
    for field in ("name", "sector", "committee", "study_group"):
        if len(texts.get(field, "")) > MAX_TEXT_LENGTH:
            return f"{FIELD_LABELS[field]}过长（最多{MAX_TEXT_LENGTH}个字）"
    return None


def read_table(path: str | Path) -> list[Sequence[object]]:
    """The cells of a spreadsheet's first sheet (or a CSV) under the same limits as a roster
    (size, rows, columns, the archive's inflated size): for other imports (履职登记)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*EXCEL_SUFFIXES, ".csv"):
        raise RosterError(f"只能导入 .xlsx 或 .csv 文件：{path.name}")
    if not path.is_file():
        raise RosterError(f"找不到文件：{path}")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RosterError(f"文件过大（{path.name} 超过 {MAX_FILE_BYTES // (1024 * 1024)} MB）")
        if suffix == ".csv":
            return read_csv_rows(path.read_bytes())
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        _check_archive(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
            except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
                raise RosterError(
                    f"无法打开 Excel 文件 {path.name}：文件损坏或不是 .xlsx"
                ) from None
            try:
                sheet = workbook.worksheets[0]
                if hasattr(sheet, "reset_dimensions"):
                    sheet.reset_dimensions()
                return bounded_rows(sheet.iter_rows(values_only=True))
            finally:
                workbook.close()
    except OSError as exc:
        raise RosterError(f"无法读取文件 {path.name}：{exc.strerror or exc}") from None
