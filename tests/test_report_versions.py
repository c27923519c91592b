"""重新提交 after 退回 keeps every version: a preview first, nothing changed until 确认提交, and
every version shown by 查询 (chat), ``lvzhi reports show`` and ``lvzhi export reports`` (CLI)
and the console's report page (HTTP)."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.cli import main
from bot.clock import FakeClock
from bot.delivery.sandbox import SandboxSender
from bot.messages import Incoming
from bot.runtime import Runtime
from tests.conftest import make_config
from tests.console_support import add_account, import_roster, log_in

NUMBER = "SQ-2025-0001"
TITLE = "关于加强农村饮水工程管护的建议"
FIRST = "基本情况：水管老化。\n存在问题：无人管护。\n建议：设立专岗。"
SECOND = "全县1200处，其中300处失修，需专项资金。"
THIRD = "全县1200处，其中300处失修；建议县财政每年安排500万元。"


async def chat(runtime: Runtime, userid: str, text: str) -> list[str]:
    handled = await runtime.pipeline.handle(
        Incoming(
            channel="sandbox",
            sender=userid,
            text=text,
            sent_at=runtime.clock.now(),
            dedup_key=f"test:{uuid.uuid4().hex}",
        )
    )
    return [reply.text for reply in handled.replies]


async def content(runtime: Runtime) -> tuple[str, str]:
    async with runtime.db.read() as tx:
        report = await tx.reports.by_number(NUMBER)
    assert report is not None
    return report.state, report.content


async def test_a_resubmission_is_previewed_and_kept_as_a_new_version(
    tmp_path: Path, sqlite_url: str, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(
        sqlite_url, console={"secure_cookies": False}, scheduler={"enabled": False}
    )
    app = create_app(config, clock=clock, sender=SandboxSender(clock))
    async with TestClient(TestServer(app)) as client:
        runtime: Runtime = client.app[RUNTIME]
        await import_roster(runtime.db)
        await chat(runtime, "zhangwei", f"社情民意：{TITLE}\n{FIRST}")
        await chat(runtime, "sunli", f"退回 {NUMBER} 请补充具体数据")

        [preview] = await chat(runtime, "zhangwei", f"重新提交 {NUMBER}\n{SECOND}")
        assert "第2版" in preview and SECOND in preview and "确认提交" in preview
        assert await content(runtime) == ("returned", FIRST)  # nothing changed yet
        await chat(runtime, "zhangwei", "取消")
        assert await content(runtime) == ("returned", FIRST)

        await chat(runtime, "zhangwei", f"重新提交 {NUMBER}\n{SECOND}")
        [done] = await chat(runtime, "zhangwei", "确认提交")
        assert "第2版" in done
        assert await content(runtime) == ("submitted", SECOND)
        await chat(runtime, "sunli", f"退回 {NUMBER} 请写明资金来源")
        [preview] = await chat(runtime, "zhangwei", f"重新提交 {NUMBER}")
        assert "第3版" in preview and "内容（未修改）" in preview
        [preview] = await chat(runtime, "zhangwei", THIRD)  # a new text replaces the content
        assert THIRD in preview
        await chat(runtime, "zhangwei", "确认提交")
        assert await content(runtime) == ("submitted", THIRD)

        # 查询: the submitter sees every version.
        [answer] = await chat(runtime, "zhangwei", f"查询 {NUMBER}")
        for text in (FIRST, SECOND, THIRD):
            assert text in answer
        assert "第1版" in answer and "第2版" in answer and "第3版" in answer

        # The console's report page.
        await add_account(runtime.db, "admin", role="admin")
        assert (await log_in(client, "admin")).status == 303
        page = await (await client.get(f"/console/reports/view?number={NUMBER}")).text()
        for text in ("水管老化", SECOND, THIRD):
            assert text in page
        assert "第1版" in page and "第2版" in page

    config_file = tmp_path / "lvzhi.toml"
    config_file.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")

    def cli(*args: str) -> int:
        return main(["--config", str(config_file), *args])

    capsys.readouterr()
    assert await asyncio.to_thread(cli, "reports", "show", NUMBER) == 0
    shown = capsys.readouterr().out
    for n, text in enumerate((FIRST, SECOND, THIRD), start=1):
        assert f"第{n}版" in shown and text in shown
    out = tmp_path / "reports.xlsx"
    assert await asyncio.to_thread(cli, "export", "reports", "--year", "2025", "-o", str(out)) == 0
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    rows: list[Any] = list(book["各版本内容"].iter_rows(values_only=True))
    assert rows[0][:2] == ("编号", "版本")
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == [
        (NUMBER, 1, FIRST),
        (NUMBER, 2, SECOND),
        (NUMBER, 3, THIRD),
    ]
