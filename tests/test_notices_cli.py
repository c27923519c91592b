"""``lvzhi notices send`` and ``lvzhi notices list`` against a temporary SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from storage import Database
from storage.migrate import upgrade
from storage.models import Member


async def seed(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        now = datetime.now(UTC)
        async with db.transaction() as tx:
            group, _ = await tx.groups.get_or_create("第3学习小组", "study_group", now)
            for n in (1, 2):
                member = await tx.members.add(
                    Member(userid=f"m{n}", name=f"委员{n}", created_at=now, updated_at=now)
                )
                await tx.groups.add_member(group.id, member.id)
    finally:
        await db.dispose()


def test_send_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lvzhi.db"
    config = tmp_path / "lvzhi.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{path}"\n', encoding="utf-8")
    asyncio.run(seed(f"sqlite+aiosqlite:///{path}"))

    def lvzhi(*args: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), "notices", *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = lvzhi("send", "--to", "第三学习小组", "今晚8点线上学习，请准时参加。")
    assert (code, err) == (0, "")
    assert out == "通知 TZ-1 已排队发送至第3学习小组（共 1 条消息）。\n"
    code, out, err = lvzhi("send", "--to", "第9学习小组", "x")
    assert (code, out, err) == (1, "", "lvzhi: 没有找到「第9学习小组」，请检查群名或姓名。\n")
    code, out, _ = lvzhi("list")
    assert code == 0
    [line] = out.splitlines()
    assert line.startswith("TZ-1\t") and "\t已确认 0/2\t今晚8点线上学习" in line
    code, _, err = lvzhi("send", "--to", "第3学习小组", "--at", "改天吧", "x")
    assert (code, err) == (1, "lvzhi: 看不懂时间「改天吧」，例如 明天上午9点、下周一8:30。\n")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT idempotency_key, channel, target FROM deliveries").fetchall()
    assert rows == [("notice:1:group:1", "group", "1")]
