"""``serve``'s daily upkeep under an injected clock: one backup a day at ``[backup] time``,
the newest ``keep`` archives kept, retention after it; a failed backup, and two days without
a successful one, told to the admin in chat (【系统提醒】), once each."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.config import Config
from bot.maintenance.archive import archives_in, keep_newest, verify
from bot.maintenance.backup import BackupDone
from bot.maintenance.daily import DailyUpkeep
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai


def upkeep_config(sqlite_url: str, tmp_path: Path, **backup: object) -> Config:
    return make_config(
        sqlite_url,
        backup={"dir": str(tmp_path / "backups"), "keep": 2, "time": "03:00", **backup},
        reports={"media_dir": str(tmp_path / "media")},
    )


async def staff(bot: Bot) -> None:
    await bot.add_member("machao", "马超", role="admin")
    await bot.add_member("sunli", "孙丽", role="secretary")
    await bot.add_member("zhangwei", "张伟", group="第1学习小组")


async def test_one_backup_a_day_at_its_time_keeping_the_newest(
    sqlite_url: str, tmp_path: Path
) -> None:
    config = upkeep_config(sqlite_url, tmp_path)
    clock = FakeClock(shanghai(2025, 11, 25, 2, 50))
    async with running_bot(config, clock) as bot:
        await staff(bot)
        upkeep = DailyUpkeep(config, bot.db, clock)
        assert await upkeep.run() == {}  # before 03:00
        runs = []
        for day in range(4):
            clock.set(shanghai(2025, 11, 25 + day, 3, 5))
            await bot.say("zhangwei", f"打卡 第{day + 1}天 读书30分钟")
            runs.append(await upkeep.run())
            assert await upkeep.run() == {}  # once a day
        messages = await bot.tick()

    assert all(isinstance(run["backup"], BackupDone) for run in runs)
    assert all(set(run["retention"]) >= {"inbound", "deliveries"} for run in runs)  # type: ignore[arg-type]
    kept = archives_in(tmp_path / "backups")
    assert [p.name for p in kept] == [
        "lvzhi-backup-20251127-030500.tar.gz",
        "lvzhi-backup-20251128-030500.tar.gz",
    ]
    assert verify(kept[-1]).tables["checkins"] == 4
    assert not [m for m in messages if "备份" in m.text]  # nothing to tell


async def test_a_failed_backup_and_two_days_without_one_are_told_to_the_admin(
    sqlite_url: str, tmp_path: Path
) -> None:
    (tmp_path / "backups").write_text("a file where the folder should be")
    config = upkeep_config(sqlite_url, tmp_path)
    clock = FakeClock(shanghai(2025, 11, 25, 3, 5))
    async with running_bot(config, clock) as bot:
        await staff(bot)
        upkeep = DailyUpkeep(config, bot.db, clock)
        failed = await upkeep.run()
        assert isinstance(failed["backup"], Exception)
        assert await bot.tick() == []  # an office alert waits for the end of quiet hours
        clock.set(shanghai(2025, 11, 25, 7, 30))
        [told] = await bot.tick()
        assert await bot.tick() == []  # once

        later = []
        for day in (1, 2):
            clock.set(shanghai(2025, 11, 25 + day, 3, 5))
            await upkeep.run()
            clock.set(shanghai(2025, 11, 25 + day, 9, 0))
            later.append([m.text for m in await bot.tick()])

        # Fixed: the next day's backup succeeds, and the warnings stop.
        (tmp_path / "backups").unlink()
        clock.set(shanghai(2025, 11, 28, 3, 5))
        fixed = await upkeep.run()
        clock.set(shanghai(2025, 11, 28, 9, 0))
        after_fix = await bot.tick()

    assert told.address.value == "machao"
    assert told.text.startswith("【系统提醒】今天的自动备份没有成功：无法写入备份文件")
    assert "备份目录的位置被一个文件占用" in told.text
    assert told.text.endswith(
        f"请检查备份目录（{tmp_path / 'backups'}）的磁盘空间和权限，处理后在服务器上运行"
        "「lvzhi backup」确认能够备份。"
    )
    # Day 2: its own failure only; day 3 (two days since the first try): failure and overdue.
    failure, overdue = (
        "【系统提醒】今天的自动备份没有成功：",
        "【系统提醒】已经两天没有成功的备份了",
    )
    assert [t[: len(failure)] for t in later[0]] == [failure]
    assert sorted(t[: len(failure)] for t in later[1]) == [failure, overdue[: len(failure)]]
    assert f"{overdue}（还没有成功过）。" in later[1][0] + later[1][1]
    assert isinstance(fixed["backup"], BackupDone)
    assert after_fix == []


async def test_no_backup_when_turned_off(sqlite_url: str, tmp_path: Path) -> None:
    config = upkeep_config(sqlite_url, tmp_path, enabled=False)
    clock = FakeClock(shanghai(2025, 11, 25, 3, 5))
    async with running_bot(config, clock) as bot:
        done = await DailyUpkeep(config, bot.db, clock).run()
        clock.advance(timedelta(days=5))
        assert await bot.tick() == []
    assert "backup" not in done and "retention" in done
    assert not (tmp_path / "backups").exists()


def test_keep_newest_also_clears_what_a_killed_backup_left(tmp_path: Path) -> None:
    import os

    names = [f"lvzhi-backup-2025112{d}-030000.tar.gz" for d in range(5)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    stale_part = tmp_path / "lvzhi-backup-20251120-030000.tar.gz.part"
    fresh_part = tmp_path / "lvzhi-backup-20251125-030000.tar.gz.part"
    stale_work = tmp_path / ".lvzhi-backup-abc"
    for path in (stale_part, fresh_part):
        path.write_bytes(b"half")
    stale_work.mkdir()
    (stale_work / "lvzhi.db").write_bytes(b"copy")
    now = 1_800_000_000.0
    for path in (stale_part, stale_work):
        os.utime(path, (now - 2 * 86400, now - 2 * 86400))
    os.utime(fresh_part, (now - 60, now - 60))

    gone = keep_newest(tmp_path, 2, now=now)

    assert [p.name for p in gone] == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[3:], fresh_part.name])
