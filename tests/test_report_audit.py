"""One audit rule for the office's steps on a 社情民意 (docs/architecture.md): the same step
leaves the same audit row whichever door it came through — the chat, ``lvzhi reports act``,
the console — on each backend."""

from __future__ import annotations

import asyncio
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

COMMENT = "内容翔实，建议报送"


async def report_rows(runtime: Runtime) -> list[AuditEntry]:
    return [row for row in await audit_rows(runtime.db) if row.entity == "report"]


async def test_an_adoption_leaves_the_same_audit_row_through_each_door(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    config = make_config(db_url, console={"secure_cookies": False}, scheduler={"enabled": False})
    app = create_app(config, clock=clock, sender=SandboxSender(clock))
    client: TestClient[Any, Any]
    async with TestClient(TestServer(app)) as client:
        runtime: Runtime = client.app[RUNTIME]
        await import_roster(runtime.db)
        for _ in range(3):  # SQ-2025-0001 … 0003, one for each door
            await say(runtime, "zhangwei", REPORT_TEXT)
        # A member's own step (提交) is its history row only.
        assert await report_rows(runtime) == []

        # The chat: the secretary's command.
        await say(runtime, "sunli", f"采用 SQ-2025-0001 {COMMENT}")
        # The command line, on the same database.
        settings = tmp_path / "lvzhi.toml"
        settings.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
        argv = ["--config", str(settings), "reports", "act", "SQ-2025-0002", "采用"]
        code = await asyncio.to_thread(main, [*argv, "--comment", COMMENT], clock=clock)
        assert code == 0
        # The console's review form.
        await add_account(runtime.db, "admin", role="admin")
        assert (await log_in(client, "admin")).status == 303
        token = await session_csrf(client)
        form = {"number": "SQ-2025-0003", "action": "adopt", "comment": COMMENT}
        response = await client.post(
            "/console/reports/act", data={"csrf_token": token, **form}, allow_redirects=False
        )
        assert response.status == 303

        rows = await report_rows(runtime)
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
