"""Making a backup and restoring one: ``lvzhi backup``, ``lvzhi restore``, ``serve``'s daily
run and ``lvzhi db upgrade``'s backup first.

A backup is one archive (:mod:`bot.maintenance.archive`): a consistent copy of the database
taken while the server runs (:mod:`storage.backup`), the attachments, and a manifest. Each
success is recorded as a planner mark ``backup-ok:<time>`` so that the admins can be told
when none succeeded for two days (:mod:`bot.maintenance.alerts`).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from bot import __version__
from bot.config import Config
from bot.maintenance.archive import (
    PG_FILE,
    SQLITE_FILE,
    ArchiveError,
    Manifest,
    Unpacked,
    archive_name,
    move_aside,
    unpack,
    write_archive,
)
from storage import Database
from storage.backup import (
    BackupError,
    pg_restore,
    pg_snapshot_dump,
    sqlite_check,
    sqlite_counts,
    sqlite_path,
    sqlite_revision,
    sqlite_snapshot,
    table_counts,
)
from storage.migrate import alembic_config, current_revision, upgrade
from storage.serving import exclusive

log = logging.getLogger(__name__)

SUCCESS_MARK = "backup-ok:"


@dataclass(frozen=True, slots=True)
class BackupDone:
    path: Path
    manifest: Manifest
    seconds: float

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def backup_dir(config: Config) -> Path:
    """``[backup] dir``, or a ``backups`` folder beside the SQLite file (./backups on
    PostgreSQL)."""
    if config.backup.dir:
        return Path(config.backup.dir)
    if config.database.url.startswith("sqlite"):
        return sqlite_path(config.database.url).parent / "backups"
    return Path("backups")


async def make_backup(
    config: Config, db: Database, now: datetime, dest: Path | None = None
) -> BackupDone:
    """Back up the database and the attachments into ``dest`` (default: a dated archive in
    :func:`backup_dir`). Raises :class:`BackupError` (Chinese) when it cannot."""
    started = time.perf_counter()
    local = now.astimezone(config.time.zone)
    if dest is None:
        dest = backup_dir(config) / archive_name(local)
    dest = dest.resolve()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".lvzhi-backup-") as work:
            manifest, database = await _copy_database(db, Path(work), local)
            written = await asyncio.to_thread(
                write_archive,
                dest,
                database=database,
                media_root=Path(config.reports.media_dir),
                manifest=manifest,
            )
    except OSError as exc:
        raise BackupError(f"无法写入备份文件 {dest}：{os_reason(exc)}") from exc
    try:
        async with db.transaction() as tx:
            await tx.planner.mark(f"{SUCCESS_MARK}{now.isoformat()}", now)
    except SQLAlchemyError:  # a schema older than the planner's table (db upgrade's backup)
        log.warning("backup made, but its success could not be recorded in the database")
    return BackupDone(dest, written, time.perf_counter() - started)


async def _copy_database(
    db: Database, work: Path, local: datetime
) -> tuple[Manifest, tuple[str, Path]]:
    if db.is_sqlite:
        copy = work / "lvzhi.db"
        await asyncio.to_thread(sqlite_snapshot, sqlite_path(db.url), copy)
        problem = await asyncio.to_thread(sqlite_check, copy)
        if problem != "ok":
            raise BackupError(f"数据库的副本检查未通过（{problem}），请检查数据库文件。")
        counts = await asyncio.to_thread(sqlite_counts, copy)
        revision = await asyncio.to_thread(sqlite_revision, copy)
        return Manifest(__version__, local.isoformat(), "sqlite", revision, counts), (
            SQLITE_FILE,
            copy,
        )
    copy = work / "lvzhi.pgdump"
    counts, revision = await pg_snapshot_dump(db, copy)
    return Manifest(__version__, local.isoformat(), "postgresql", revision, counts), (
        PG_FILE,
        copy,
    )


def os_reason(exc: OSError) -> str:
    """An operating-system error in words an operator reads (Chinese), with its code."""
    reasons = {
        errno.ENOSPC: "磁盘空间不足",
        errno.EACCES: "没有写入权限",
        errno.EPERM: "没有写入权限",
        errno.EROFS: "磁盘是只读的",
        errno.EEXIST: "备份目录的位置被一个文件占用",
        errno.ENOTDIR: "备份目录的位置被一个文件占用",
        errno.ENOENT: "目录不存在",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc)) + f"（{exc.strerror}）"


# -- restore ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restored:
    manifest: Manifest
    revision: str | None  # after migrating forward
    counts: dict[str, int]  # the restored database's, after migrating
    media_files: int
    saved_database: Path | None  # the database that was there before, kept
    saved_media: Path | None


def check_revision(manifest: Manifest) -> None:
    """Refuse an archive whose schema this version of Lüzhi does not know (a newer one)."""
    script = ScriptDirectory.from_config(alembic_config())
    for revision in (manifest.revision or "").split(", "):
        if not revision:
            continue
        try:
            known = script.get_revision(revision)
        except Exception:
            known = None
        if known is None:
            raise ArchiveError(
                f"这份备份来自更新版本的 Lüzhi（{manifest.version}，数据库版本 {revision}），"
                f"当前程序是 {__version__}：请先升级 Lüzhi，再恢复。"
            )


async def restore(config: Config, archive: Path, now: datetime) -> Restored:
    """Restore ``archive`` over the configured database and ``[reports] media_dir``.

    Refuses (:class:`storage.serving.DatabaseInUse`) while ``lvzhi serve`` runs on that
    database. Checks the archive whole before touching anything; keeps what was there as
    ``….before-restore-<time>``; migrates an older schema forward.
    """
    db = Database(config.database.url)
    stamp = now.astimezone(config.time.zone).strftime("%Y%m%d-%H%M%S")
    try:
        async with exclusive(db):
            work_parent = _work_parent(config)
            work_parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=work_parent, prefix=".lvzhi-restore-") as work:
                unpacked = await asyncio.to_thread(unpack, archive, Path(work))
                check_revision(unpacked.manifest)
                wanted = "sqlite" if db.is_sqlite else "postgresql"
                if unpacked.manifest.dialect != wanted:
                    raise ArchiveError(
                        f"这份备份是 {unpacked.manifest.dialect} 数据库的，当前配置的是 {wanted}，"
                        "不能直接恢复。"
                    )
                saved_db = await _put_database(db, unpacked, stamp)
                saved_media, media_count = _put_media(config, unpacked, stamp)
            await upgrade(db)
            revision = await current_revision(db)
            counts = await table_counts(db)
    finally:
        await db.dispose()
    return Restored(unpacked.manifest, revision, counts, media_count, saved_db, saved_media)


def _work_parent(config: Config) -> Path:
    """Extract beside the database (the same file system: the swap is a rename)."""
    if config.database.url.startswith("sqlite"):
        return sqlite_path(config.database.url).resolve().parent
    return Path(tempfile.gettempdir())


async def _put_database(db: Database, unpacked: Unpacked, stamp: str) -> Path | None:
    if not db.is_sqlite:
        await asyncio.to_thread(pg_restore, db.url, unpacked.database)
        return None
    await db.dispose()  # no connection of ours stays on the file being replaced
    target = sqlite_path(db.url).resolve()
    suffix = f".before-restore-{stamp}"
    saved = move_aside(target, suffix)
    for extra in ("-wal", "-shm"):  # a crashed server's WAL belongs with its file
        move_aside(target.with_name(target.name + extra), suffix + extra)
    shutil.move(str(unpacked.database), str(target))
    return saved


def _put_media(config: Config, unpacked: Unpacked, stamp: str) -> tuple[Path | None, int]:
    names = unpacked.manifest.media_files
    if not names:
        return None, 0
    target = Path(config.reports.media_dir)
    saved = move_aside(target, f".before-restore-{stamp}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(unpacked.media), str(target))  # maybe another file system
    return saved, len(names)


__all__ = ["BackupDone", "BackupError", "Restored", "backup_dir", "make_backup", "restore"]
