"""What a roster file may cost: the declared ``<dimension>`` of an .xlsx is ignored (rows are
read as they come), and rows, columns and size are capped with a Chinese message. Through the
CLI (``lvzhi members import``, in a child process with its memory capped) and the console's
upload (HTTP)."""

from __future__ import annotations

import io
import re
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import openpyxl
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import FakeClock
from bot.delivery.sandbox import SandboxSender
from bot.roster.read import MAX_COLUMNS, MAX_ROWS
from tests.conftest import make_config
from tests.console_support import add_account, log_in, session_csrf

HEADER = ("姓名", "手机号", "企业微信账号", "界别")
PEOPLE = [(f"委员{n}", f"1380013{n:04d}", f"user{n}", "经济界") for n in range(1, 7)]
LVZHI = Path(sys.executable).parent / "lvzhi"
MEMORY_LIMIT = 1536 * 1024 * 1024  # the child's address space: far below what the claim costs


def xlsx(path: Path, *, dimension: str, extra_rows: str = "") -> Path:
    """A real workbook (header + PEOPLE) whose sheet declares ``dimension`` and ends with
    ``extra_rows`` (raw ``<row>`` XML)."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (HEADER, *PEOPLE):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                declared = f'<dimension ref="{dimension}"/>'
                text = re.sub(r'<dimension ref="[^"]*"\s*/>', declared, text)
                text = text.replace("</sheetData>", extra_rows + "</sheetData>")
                data = text.encode("utf-8")
            target.writestr(item, data)
    return path


def far_cell(path: Path) -> Path:
    """5 KB that declares every cell of a sheet and fills the very last row."""
    row = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return xlsx(path, dimension="A1:XFD1048576", extra_rows=row)


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def cli(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "lvzhi.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "lvzhi.db"}"\n', encoding="utf-8"
    )
    return subprocess.run(
        [str(LVZHI), "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit_memory,
        check=False,
    )


def test_a_far_declared_dimension_costs_nothing_and_is_refused_clearly(tmp_path: Path) -> None:
    path = far_cell(tmp_path / "名册.xlsx")
    assert path.stat().st_size < 10_000
    started = time.monotonic()
    result = cli(tmp_path, "members", "import", str(path))
    assert time.monotonic() - started < 60
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"名册超过 {MAX_ROWS} 行（第{MAX_ROWS + 1}行" not in result.stderr  # the far row
    assert f"名册超过 {MAX_ROWS} 行" in result.stderr or f"超过 {MAX_COLUMNS} 列" in result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr


def test_too_many_rows_or_columns_are_refused_by_name(tmp_path: Path) -> None:
    row = MAX_ROWS + 5
    far_row = f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>张三</t></is></c></row>'
    path = xlsx(tmp_path / "a.xlsx", dimension="A1:D7", extra_rows=far_row)
    result = cli(tmp_path, "members", "import", str(path))
    assert result.returncode == 1
    assert f"名册超过 {MAX_ROWS} 行（第{row}行仍有内容）" in result.stderr
    wide = (
        '<row r="9"><c r="A9" t="inlineStr"><is><t>张三</t></is></c>'
        '<c r="ZZ9" t="inlineStr"><is><t>y</t></is></c></row>'
    )
    path = xlsx(tmp_path / "b.xlsx", dimension="A1:D7", extra_rows=wide)
    result = cli(tmp_path, "members", "import", str(path))
    assert result.returncode == 1
    assert f"第9行超过 {MAX_COLUMNS} 列" in result.stderr
    # A zip that inflates past the limit is refused before it is read.
    bomb = tmp_path / "c.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"<" + b"a" * (60 * 1024 * 1024))
    result = cli(tmp_path, "members", "import", str(bomb))
    assert result.returncode == 1 and "解压后过大" in result.stderr


def test_a_too_small_declared_dimension_loses_no_rows(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "名册.xlsx", dimension="A1:B2")
    result = cli(tmp_path, "members", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "新增 6 人" in result.stdout
    listed = cli(tmp_path, "members", "list", "--json")
    assert all(f"user{n}" in listed.stdout for n in range(1, 7))


@pytest.fixture
async def client(sqlite_url: str, clock: FakeClock) -> AsyncIterator[TestClient[Any, Any]]:
    config = make_config(
        sqlite_url, console={"secure_cookies": False}, scheduler={"enabled": False}
    )
    app = create_app(config, clock=clock, sender=SandboxSender(clock))
    async with TestClient(TestServer(app)) as client:
        await add_account(client.app[RUNTIME].db, "admin", role="admin")
        assert (await log_in(client, "admin")).status == 303
        yield client


async def test_the_console_upload_is_bounded_the_same_way(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    # Past the row limit, but small enough that even reading every declared cell would not
    # hurt this process (the far-cell file is for the memory-capped child above).
    row = MAX_ROWS + 100
    past = f'<row r="{row}"><c r="ZZ{row}" t="inlineStr"><is><t>x</t></is></c></row>'
    for path, message in (
        (xlsx(tmp_path / "far.xlsx", dimension=f"A1:ZZ{row}", extra_rows=past), "超过"),
        (xlsx(tmp_path / "small.xlsx", dimension="A1:A1"), None),
    ):
        form = aiohttp.FormData()
        form.add_field("csrf_token", await session_csrf(client))
        form.add_field("file", path.read_bytes(), filename=path.name)
        response = await client.post("/console/members/import", data=form)
        text = await response.text()
        if message is None:
            assert response.status == 200 and "新增" in text
        else:
            assert response.status == 400 and message in text
    async with client.app[RUNTIME].db.read() as tx:
        assert await tx.members.count() == 6
