"""Backups and restores: consistent under load, refused when damaged, never over a running
server, and an old database upgraded with every record kept.

The server is a real ``lvzhi serve`` process (:class:`tests.procs.ServeProcess`) receiving
really encrypted callbacks; the backup is taken by another process's connection (this test's)
while the callbacks keep coming, as ``lvzhi backup`` would be.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import shutil
import sqlite3
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.clock import FakeClock
from bot.maintenance.archive import SQLITE_FILE, ArchiveError, verify
from bot.maintenance.backup import make_backup, restore
from storage import Database
from storage.backup import pg_dump_available, sqlite_counts, table_counts
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import CheckIn, InboundMessage, Member
from storage.serving import DatabaseInUse, serving
from tests.conftest import make_config
from tests.faults import (
    WeComCaller,
    dedup_key,
    fake_wecom,
    member_ids,
    seed,
    server_settings,
    text_callback,
    wait_until,
)
from tests.harness import running_bot
from tests.procs import ServeProcess, toml_text

NOW = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)


def write_media(root: Path) -> dict[str, bytes]:
    files = {"SQ-2025-0001/1-photo.jpg": b"\xff\xd8jpeg" * 100, "SQ-2025-0002/2-note.pdf": b"%PDF"}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


async def checked_in(db_url: str) -> tuple[set[str], set[str]]:
    """(userids with a check-in, userids whose check-in message was stored)."""
    db = Database(db_url)
    try:
        async with db.read() as tx:
            members = set(
                await tx.session.scalars(
                    select(Member.userid).join(CheckIn, CheckIn.member_id == Member.id)
                )
            )
            senders = set(await tx.session.scalars(select(InboundMessage.sender)))
        return members, senders
    finally:
        await db.dispose()


async def test_backup_during_a_burst_of_callbacks_restores_what_the_manifest_says(
    tmp_path: Path,
) -> None:
    """300 members check in through encrypted callbacks, 12 at a time; a backup is taken
    mid-burst. The archive verifies; restored elsewhere, its database has exactly the
    manifest's rows per table, every check-in answered 200 before the backup began, and no
    stored message without its check-in (one committed state, not a torn copy)."""
    live = tmp_path / "live"
    live.mkdir()
    url = f"sqlite+aiosqlite:///{live / 'lvzhi.db'}"
    media = write_media(live / "media")
    senders = member_ids(300)
    await seed(url, members=senders)
    calls = [(dedup_key(s, 1), text_callback(s, 1, "打卡 读《乡土中国》30分钟")) for s in senders]
    async with fake_wecom() as fake:
        settings = server_settings(url, fake, reports={"media_dir": str(live / "media")})
        config = make_config(url, reports={"media_dir": str(live / "media")})
        async with ServeProcess(tmp_path, settings) as server, aiohttp.ClientSession() as http:
            caller = WeComCaller(http, server.base_url)
            burst = asyncio.create_task(caller.burst(calls, concurrency=12))
            await wait_until(lambda: len(caller.accepted) >= 60, "60 check-ins accepted")
            before_backup = set(caller.accepted)
            db = Database(url)
            try:
                done = await make_backup(config, db, NOW, tmp_path / "during.tar.gz")
            finally:
                await db.dispose()
            during = len(caller.accepted)
            await burst
        assert len(caller.accepted) == len(senders)
    assert during < len(senders), "the backup should have run while callbacks were coming"

    manifest = verify(done.path)
    assert manifest.tables == done.manifest.tables
    assert 60 <= manifest.tables["checkins"] < len(senders) or during == len(senders)

    target = tmp_path / "restored"
    target.mkdir()
    restored_url = f"sqlite+aiosqlite:///{target / 'lvzhi.db'}"
    restored_config = make_config(restored_url, reports={"media_dir": str(target / "media")})
    result = await restore(restored_config, done.path, NOW)

    counts = sqlite_counts(target / "lvzhi.db")
    assert counts == manifest.tables == result.counts
    members, messages = await checked_in(restored_url)
    accepted_first = {key.split(":")[2] for key in before_backup}
    assert accepted_first <= members
    assert members == messages  # each stored message has its check-in, and the reverse
    assert {
        p.relative_to(target / "media").as_posix(): p.read_bytes()
        for p in (target / "media").rglob("*")
        if p.is_file()
    } == media

    all_members, _ = await checked_in(url)
    assert all_members == set(senders)  # the live database kept everything, of course


# -- damaged archives --------------------------------------------------------------------------


@pytest.fixture
def small_backup(tmp_path: Path) -> tuple[Path, Path]:
    """A config file and an archive of a small database with one check-in."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'lvzhi.db'}"
    config_path = tmp_path / "lvzhi.toml"
    config_path.write_text(
        toml_text(
            {
                "database": {"url": url},
                "reports": {"media_dir": str(tmp_path / "media")},
                "backup": {"dir": str(tmp_path / "backups")},
            }
        ),
        encoding="utf-8",
    )
    write_media(tmp_path / "media")
    assert main(["--config", str(config_path), "members", "import", "examples/roster.csv"]) == 0
    archive = tmp_path / "good.tar.gz"
    assert main(["--config", str(config_path), "backup", "-o", str(archive)]) == 0
    return config_path, archive


def test_verify_and_restore_say_what_they_found(
    small_backup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, archive = small_backup
    capsys.readouterr()
    assert main(["--config", str(config_path), "backup", "--verify", str(archive)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"备份文件完好：{archive}\n")
    assert "委员名册 12" in out and "附件 2 个" in out
    assert main(["--config", str(config_path), "restore", str(archive)]) == 0
    out = capsys.readouterr().out
    assert f"已从 {archive} 恢复。" in out
    assert "委员名册 12" in out and "附件 2 个" in out and "原来的数据库已保存为" in out


def flip_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def rewritten(archive: Path, change: dict[str, bytes]) -> bytes:
    """The archive re-packed (valid gzip and tar) with some members' content replaced."""
    out = io.BytesIO()
    with tarfile.open(archive, "r:gz") as source, tarfile.open(fileobj=out, mode="w:gz") as tar:
        for member in source:
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            data = change.get(member.name, data)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return out.getvalue()


def damaged(archive: Path, kind: str) -> bytes:
    data = archive.read_bytes()
    if kind == "flipped":
        return flip_byte(data, len(data) // 2)
    if kind == "truncated":
        return data[: len(data) * 2 // 3]
    if kind == "not-gzip":
        return b"PK\x03\x04 this is a zip file, or anything else"
    if kind == "tampered-database":
        with tarfile.open(archive, "r:gz") as tar:
            db = tar.extractfile(SQLITE_FILE).read()  # type: ignore[union-attr]
        return rewritten(archive, {SQLITE_FILE: flip_byte(db, 4096 + 100)})
    if kind == "no-manifest":
        out = io.BytesIO()
        with (
            tarfile.open(archive, "r:gz") as source,
            tarfile.open(fileobj=out, mode="w:gz") as tar,
        ):
            for member in source:
                if member.name != "manifest.json":
                    tar.addfile(member, source.extractfile(member))
        return out.getvalue()
    if kind == "counts-lie":
        with tarfile.open(archive, "r:gz") as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        manifest["database"]["tables"]["checkins"] += 1
        return rewritten(archive, {"manifest.json": json.dumps(manifest).encode()})
    raise AssertionError(kind)


EXPECTED = {
    "flipped": "备份文件已损坏",
    "truncated": "备份文件已损坏或不完整",
    "not-gzip": "备份文件已损坏或不完整",
    "tampered-database": "备份文件已损坏：database/lvzhi.db 的校验和与清单不符",
    "no-manifest": "里面没有清单（manifest.json）",
    "counts-lie": "与清单记录的行数或版本不符",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_a_damaged_archive_is_refused_with_a_clear_message_and_nothing_restored(
    kind: str,
    small_backup: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_path, archive = small_backup
    bad = tmp_path / f"{kind}.tar.gz"
    bad.write_bytes(damaged(archive, kind))
    before = (tmp_path / "lvzhi.db").read_bytes()
    capsys.readouterr()

    assert main(["--config", str(config_path), "backup", "--verify", str(bad)]) == 1
    verify_err = capsys.readouterr().err
    assert main(["--config", str(config_path), "restore", str(bad)]) == 1
    restore_err = capsys.readouterr().err

    assert verify_err.startswith("lvzhi: 备份文件不可用：") and EXPECTED[kind] in verify_err
    assert restore_err.startswith("lvzhi: 备份文件不可用，没有恢复任何内容：")
    assert EXPECTED[kind] in restore_err
    assert "Traceback" not in verify_err + restore_err
    assert (tmp_path / "lvzhi.db").read_bytes() == before
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_an_archive_with_paths_outside_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/x")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ArchiveError, match="不该有的内容"):
        verify(evil)
    assert gzip.decompress(evil.read_bytes())  # a valid archive, refused for its content


# -- restore while serving -------------------------------------------------------------------


async def test_restore_refuses_while_serve_runs_on_that_database(
    small_backup: tuple[Path, Path], tmp_path: Path
) -> None:
    config_path, archive = small_backup
    url = f"sqlite+aiosqlite:///{tmp_path / 'lvzhi.db'}"
    settings = {"database": {"url": url}, "console": {"enabled": False}}
    before = (tmp_path / "lvzhi.db").stat().st_size
    async with ServeProcess(tmp_path, settings):
        refused = await run_cli(config_path, "restore", str(archive))
    assert refused[0] == 1
    assert "lvzhi serve 正在使用这个数据库，不能恢复" in refused[2]
    assert not saved_aside(tmp_path)
    assert (tmp_path / "lvzhi.db").stat().st_size >= before

    # A server killed without any cleanup leaves nothing that blocks a restore.
    server = ServeProcess(tmp_path, settings, name="killed")
    await server.start()
    await server.kill()
    done = await run_cli(config_path, "restore", str(archive))
    assert done[0] == 0, done
    assert "已从" in done[1]


async def test_serve_does_not_start_while_a_restore_holds_the_database(tmp_path: Path) -> None:
    from storage.serving import exclusive

    url = f"sqlite+aiosqlite:///{tmp_path / 'lvzhi.db'}"
    db = Database(url)
    try:
        async with exclusive(db):
            server = ServeProcess(
                tmp_path, {"database": {"url": url}, "console": {"enabled": False}}
            )
            with pytest.raises(AssertionError, match="正在恢复备份"):
                await server.start()
    finally:
        await db.dispose()


def saved_aside(folder: Path) -> list[Path]:
    return list(folder.glob("lvzhi.db.before-restore-*"))


async def run_cli(config_path: Path, *args: str) -> tuple[int, str, str]:
    """``lvzhi`` in a child process (the test's loop keeps running meanwhile)."""
    import sys

    from tests.procs import REPO, child_environment

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config_path),
        *args,
        cwd=REPO,
        env=child_environment(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return int(process.returncode or 0), out.decode(), err.decode()


# -- upgrades --------------------------------------------------------------------------------


OLDEST_ROWS = {
    "members": (
        "INSERT INTO members (id, userid, name, role, mobile, sector, committee, active, "
        "created_at, updated_at) VALUES (1, 'zhangwei', '张伟', 'member', '13800000001', "
        "'经济界', '经济委', 1, '2024-01-02 03:04:05.000000', '2024-01-02 03:04:05.000000')"
    ),
    "groups": (
        "INSERT INTO groups (id, name, kind, created_at) "
        "VALUES (1, '第1学习小组', 'study_group', '2024-01-02 03:04:05.000000')"
    ),
    "group_members": "INSERT INTO group_members (group_id, member_id) VALUES (1, 1)",
    "audit_log": (
        "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, detail) VALUES "
        "(1, '2024-01-02 03:04:05.000000', 'cli', 'import', 'members', '1', '{}')"
    ),
    "inbound_messages": (
        "INSERT INTO inbound_messages (id, dedup_key, channel, sender, chat_id, msg_type, "
        "content, raw, sent_at, received_at) VALUES (1, 'app:1:zhangwei:1', 'wecom', "
        "'zhangwei', NULL, 'text', '帮助', '', '2024-01-02 03:04:05.000000', "
        "'2024-01-02 03:04:05.000000')"
    ),
}


def table_rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        names = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        old = [n for n in names if n in OLD_COLUMNS.get(table, names)]
        return sorted(db.execute(f"SELECT {', '.join(old)} FROM {table}").fetchall())


OLD_COLUMNS: dict[str, list[str]] = {}


async def test_db_upgrade_from_the_oldest_migration_backs_up_first_and_keeps_every_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "lvzhi.db"
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    try:
        await upgrade(db, "0001")
    finally:
        await db.dispose()
    with sqlite3.connect(path) as raw:
        for table, statement in OLDEST_ROWS.items():
            OLD_COLUMNS[table] = [row[1] for row in raw.execute(f"PRAGMA table_info({table})")]
            raw.execute(statement)
    before = {table: table_rows(path, table) for table in OLDEST_ROWS}
    config_path = tmp_path / "lvzhi.toml"
    config_path.write_text(
        toml_text({"database": {"url": url}, "backup": {"dir": str(tmp_path / "backups")}}),
        encoding="utf-8",
    )

    # A backup by hand keeps the schema it finds (it does not migrate first).
    code, _, err = await run_cli(config_path, "backup", "-o", str(tmp_path / "manual.tar.gz"))
    assert code == 0, err
    assert verify(tmp_path / "manual.tar.gz").revision == "0001"

    code, out, err = await run_cli(config_path, "db", "upgrade")

    assert code == 0, err
    [archive] = list((tmp_path / "backups").glob("lvzhi-backup-*.tar.gz"))
    assert f"升级前已备份到 {archive}" in out
    assert f"数据库已升级到版本 {head_revision()}（原为 0001）" in out
    assert {table: table_rows(path, table) for table in OLDEST_ROWS} == before
    assert verify(archive).revision == "0001"

    # The pre-upgrade archive restores, and is migrated forward on the way.
    code, out, err = await run_cli(config_path, "restore", str(archive))
    assert code == 0, err
    assert f"数据库结构已从版本 0001 升级到 {head_revision()}" in out
    assert {table: table_rows(path, table) for table in OLDEST_ROWS} == before
    db = Database(url)
    try:
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()

    # Already at the head: nothing to back up, nothing changed.
    code, out, _ = await run_cli(config_path, "db", "upgrade")
    assert (code, out.strip()) == (0, f"数据库已是最新版本 {head_revision()}，无需升级")
    assert len(list((tmp_path / "backups").glob("*.tar.gz"))) == 1


def test_version_names_the_program_and_the_schema(
    small_backup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import __version__

    config_path, _ = small_backup
    capsys.readouterr()
    assert main(["--config", str(config_path), "--version"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Lüzhi {__version__}（数据库结构版本 {head_revision()}）"
    assert out[1].endswith(f"版本 {head_revision()}，已是最新")


# -- both backends -------------------------------------------------------------------------------


async def test_backup_and_restore_round_trip_on_each_backend(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The office's records come back exactly, on SQLite (online backup API) and on
    PostgreSQL (pg_dump on an exported snapshot, pg_restore); the restore refuses while a
    server holds the database."""
    if not db_url.startswith("sqlite") and pg_dump_available() is None:
        pytest.skip("pg_dump is not installed")
    config = make_config(db_url, reports={"media_dir": str(tmp_path / "media")})
    media = write_media(tmp_path / "media")
    async with running_bot(config, clock) as bot:
        await bot.add_member("zhangwei", "张伟", group="第1学习小组")
        await bot.say("zhangwei", "打卡 读《乡土中国》30分钟")
        done = await make_backup(config, bot.db, NOW, tmp_path / "round.tar.gz")
        before = await table_counts(bot.db)
        await bot.say("zhangwei", "打卡 补充 20分钟")  # after the backup: gone on restore
        async with serving(bot.db):
            with pytest.raises(DatabaseInUse):
                await restore(config, done.path, NOW)
    assert verify(done.path).tables == done.manifest.tables
    assert done.manifest.tables["checkins"] == 1
    shutil.rmtree(tmp_path / "media")

    result = await restore(config, done.path, NOW)

    db = Database(db_url)
    try:
        after = await table_counts(db)
        async with db.read() as tx:
            [checkin] = await tx.session.scalars(select(CheckIn))
    finally:
        await db.dispose()
    assert result.counts == after
    assert after == done.manifest.tables
    assert before["checkins"] == after["checkins"] == 1 and checkin.minutes == 30
    assert {
        p.relative_to(tmp_path / "media").as_posix(): p.read_bytes()
        for p in (tmp_path / "media").rglob("*")
        if p.is_file()
    } == media
