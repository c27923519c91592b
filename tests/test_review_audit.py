"""One audit rule for the office's steps on a 社情民意, a 提案 or a 履职登记
(docs/architecture.md): the same step leaves the same audit row whichever door it came through —
the chat, ``lvzhi … act``, the console — on each backend."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.cli import main
from bot.clock import FakeClock
from bot.delivery.sandbox import SandboxSender
from bot.runtime import Runtime
from storage.models import AuditEntry
from tests.conftest import make_config
from tests.console_support import (
    REPORT_TEXT,
    add_account,
    audit_rows,
    import_roster,
    log_in,
    say,
    session_csrf,
)
from tests.faults import deliveries

Client = TestClient[Any, Any]
COMMENT = "内容翔实，建议报送"
PROPOSAL = "提案：关于建设社区食堂的建议\n情况：老人吃饭难。\n建议：建食堂。"


@contextlib.asynccontextmanager
async def three_doors(db_url: str, clock: FakeClock) -> AsyncIterator[Client]:
    """A server on ``db_url`` (the chat's pipeline and the console), the example roster."""
    config = make_config(db_url, console={"secure_cookies": False}, scheduler={"enabled": False})
    app = create_app(config, clock=clock, sender=SandboxSender(clock))
    async with TestClient(TestServer(app)) as client:
        await import_roster(client.app[RUNTIME].db)
        yield client


async def cli(db_url: str, clock: FakeClock, tmp_path: Path, *argv: str) -> None:
    """``lvzhi ARGV`` on the same database (in a thread: it runs its own event loop)."""
    settings = tmp_path / "lvzhi.toml"
    settings.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    assert await asyncio.to_thread(main, ["--config", str(settings), *argv], clock=clock) == 0


async def console(client: Client, path: str, **form: str) -> None:
    await add_account(client.app[RUNTIME].db, "admin", role="admin")
    assert (await log_in(client, "admin")).status == 303
    data = {"csrf_token": await session_csrf(client), **form}
    response = await client.post(path, data=data, allow_redirects=False)
    assert response.status == 303


async def rows_of(runtime: Runtime, entity: str) -> list[AuditEntry]:
    return [row for row in await audit_rows(runtime.db) if row.entity == entity]


async def test_an_adoption_leaves_the_same_audit_row_through_each_door(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    async with three_doors(db_url, clock) as client:
        runtime: Runtime = client.app[RUNTIME]
        for _ in range(3):  # SQ-2025-0001 … 0003, one for each door
            await say(runtime, "zhangwei", REPORT_TEXT)
        # A member's own step (提交) is its history row only.
        assert await rows_of(runtime, "report") == []
        await say(runtime, "sunli", f"采用 SQ-2025-0001 {COMMENT}")
        await cli(
            db_url, clock, tmp_path, "reports", "act", "SQ-2025-0002", "采用", "--comment", COMMENT
        )
        await console(
            client, "/console/reports/act", number="SQ-2025-0003", action="adopt", comment=COMMENT
        )
        rows = await rows_of(runtime, "report")
    assert [(row.actor, row.action, row.entity_id) for row in rows] == [
        ("user:sunli", "report.adopt", "SQ-2025-0001"),
        ("cli", "report.adopt", "SQ-2025-0002"),
        ("console:admin", "report.adopt", "SQ-2025-0003"),
    ]
    same = {
        "from": "submitted",
        "to": "adopted",
        "comment": COMMENT,
        "level": "",
        "target": "",
        "notified": 1,  # 张伟, the submitter
    }
    assert [row.detail for row in rows] == [same, same, same]
    assert len({row.at for row in rows}) == 1  # each at the step's time (the same clock here)


async def test_a_proposals_assignment_leaves_the_same_audit_row_through_each_door(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    async with three_doors(db_url, clock) as client:
        runtime: Runtime = client.app[RUNTIME]
        for n in range(1, 4):  # TA-2025-0001 … 0003, each 立案 in chat first
            await say(runtime, "zhangwei", PROPOSAL)
            await say(runtime, "sunli", f"立案 TA-2025-000{n}")
        await say(runtime, "sunli", "交办 TA-2025-0001 市民政局")
        await cli(db_url, clock, tmp_path, "proposals", "act", "TA-2025-0002", "交办", "市民政局")
        await console(
            client,
            "/console/proposals/act",
            number="TA-2025-0003",
            action="assign",
            unit="市民政局",
        )
        rows = await rows_of(runtime, "proposal")
    assignments = [row for row in rows if row.action == "proposal.assign"]
    assert [(row.actor, row.entity_id) for row in assignments] == [
        ("user:sunli", "TA-2025-0001"),
        ("cli", "TA-2025-0002"),
        ("console:admin", "TA-2025-0003"),
    ]
    same = {
        "from": "accepted",
        "to": "assigned",
        "comment": "",
        "level": "",
        "target": "市民政局",
        "notified": 1,
    }
    assert [row.detail for row in assignments] == [same, same, same]
    # The 立案 before, in chat, is audited as well; the proposer's 提交 is not.
    assert [row.action for row in rows].count("proposal.accept") == 3
    assert "proposal.submit" not in [row.action for row in rows]


async def test_an_activity_returned_leaves_the_same_audit_row_through_each_door(
    db_url: str, clock: FakeClock
) -> None:
    """履职登记 have two doors (the chat and the console; the CLI only imports and lists)."""
    async with three_doors(db_url, clock) as client:
        runtime: Runtime = client.app[RUNTIME]
        # HD-1 and HD-2; the second message also ends HD-1's optional attachments and is
        # handled as the new registration it is
        await say(runtime, "zhangwei", "履职登记 11月20日 参加市政协乡村振兴专题调研")
        await say(runtime, "zhangwei", "履职登记 11月21日 参加县政协界别活动")
        assert await rows_of(runtime, "activity") == []  # a member's own registration
        await say(runtime, "sunli", "退回 HD-1 请补充活动照片")
        await console(
            client, "/console/activities/act", id="2", action="return", comment="请补充活动照片"
        )
        rows = await rows_of(runtime, "activity")
        told = [d.idempotency_key for d in await deliveries(db_url) if "被退回" in str(d.payload)]
    assert [(row.actor, row.action, row.entity_id) for row in rows] == [
        ("user:sunli", "activity.return", "HD-1"),
        ("console:admin", "activity.return", "HD-2"),
    ]
    same = {"member": "zhangwei", "comment": "请补充活动照片"}
    assert [row.detail for row in rows] == [same, same]
    assert told == ["activity:1:returned:zhangwei", "activity:2:returned:zhangwei"]
