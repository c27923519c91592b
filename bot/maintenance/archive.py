"""The backup archive: one dated ``.tar.gz`` holding the database, the attachments and a
manifest, and the checks that a file really is such an archive, whole.

Layout::

    database/lvzhi.db           the SQLite copy (online backup API), or
    database/lvzhi.pgdump       pg_dump's custom format (PostgreSQL)
    media/<report>/<file>       the attachments under ``[reports] media_dir``
    manifest.json               written last: version, schema revision, rows per table, and
                                the size and sha256 of every file above

The manifest comes last so that every file is hashed as it goes into the archive, in one
read: a file that changes meanwhile cannot end up with another file's checksum. Reading back
(:func:`unpack`) is one streaming pass that extracts and hashes; nothing is trusted until the
manifest has been compared with what was read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from storage.backup import BackupError, sqlite_check, sqlite_counts, sqlite_revision

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database/lvzhi.db"
PG_FILE = "database/lvzhi.pgdump"
MEDIA = "media"
PREFIX = "lvzhi-backup-"
SUFFIX = ".tar.gz"
CHUNK = 1 << 20


class ArchiveError(Exception):
    """The archive cannot be used; the message (Chinese) says why."""


@dataclass(frozen=True, slots=True)
class Manifest:
    version: str
    created_at: str
    dialect: str
    revision: str | None
    tables: dict[str, int]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def database_file(self) -> str:
        return SQLITE_FILE if self.dialect == "sqlite" else PG_FILE

    @property
    def media_files(self) -> list[str]:
        return sorted(name for name in self.files if name.startswith(MEDIA + "/"))

    def to_json(self) -> str:
        body = {
            "format": FORMAT,
            "app": "lvzhi",
            "version": self.version,
            "created_at": self.created_at,
            "database": {
                "dialect": self.dialect,
                "file": self.database_file,
                "revision": self.revision,
                "tables": self.tables,
            },
            "files": self.files,
        }
        return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            body = json.loads(raw.decode("utf-8"))
            if body.get("app") != "lvzhi":
                raise ValueError("app")
            if body.get("format") != FORMAT:
                raise ArchiveError(
                    f"备份文件的格式（{body.get('format')}）这个版本的 Lüzhi 不认识，请先升级。"
                )
            database = body["database"]
            return cls(
                version=str(body["version"]),
                created_at=str(body["created_at"]),
                dialect=str(database["dialect"]),
                revision=database["revision"],
                tables={str(k): int(v) for k, v in database["tables"].items()},
                files={str(k): dict(v) for k, v in body["files"].items()},
            )
        except ArchiveError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ArchiveError("备份文件的清单（manifest.json）无法读取，文件已损坏。") from None


def archive_name(at: datetime) -> str:
    return f"{PREFIX}{at.strftime('%Y%m%d-%H%M%S')}{SUFFIX}"


def archives_in(folder: Path) -> list[Path]:
    """The archives in ``folder``, oldest first (their names sort by time)."""
    if not folder.is_dir():
        return []
    names = (p for p in folder.iterdir() if p.name.startswith(PREFIX))
    return sorted(p for p in names if p.name.endswith(SUFFIX))


def media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(name in the archive, file) for every attachment under ``root``, skipping files that
    are still being written (``.part``)."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.name.endswith(".part"):
            yield f"{MEDIA}/{path.relative_to(root).as_posix()}", path


class _Hashing:
    """A file object that hashes what tarfile reads from it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def write_archive(
    dest: Path,
    *,
    database: tuple[str, Path],
    media_root: Path,
    manifest: Manifest,
) -> Manifest:
    """Write the archive to ``dest`` (atomically: a ``.part`` file renamed at the end); the
    manifest as written, with every file's size and checksum."""
    files: dict[str, dict[str, Any]] = {}
    partial = dest.with_name(dest.name + ".part")
    try:
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            for name, path in [database, *media_files(media_root)]:
                _add(tar, name, path, files)
            final = Manifest(
                manifest.version,
                manifest.created_at,
                manifest.dialect,
                manifest.revision,
                manifest.tables,
                files,
            )
            data = final.to_json().encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, _Bytes(data))
        os.chmod(partial, 0o600)  # members' records: readable by the service's user only
        partial.replace(dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return final


def _add(tar: tarfile.TarFile, name: str, path: Path, files: dict[str, dict[str, Any]]) -> None:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return  # an attachment removed meanwhile
    with handle:
        stat = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        hashing = _Hashing(handle)
        tar.addfile(info, hashing)  # type: ignore[arg-type]  # reads exactly info.size
        files[name] = {"bytes": hashing.size, "sha256": hashing.digest.hexdigest()}


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.at + size
        chunk, self.at = self.data[self.at : end], min(end, len(self.data))
        return chunk


# -- reading back ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unpacked:
    manifest: Manifest
    root: Path  # where the files were extracted

    @property
    def database(self) -> Path:
        return self.root / self.manifest.database_file

    @property
    def media(self) -> Path:
        return self.root / MEDIA


def unpack(archive: Path, into: Path) -> Unpacked:
    """Extract ``archive`` into the empty folder ``into`` and check it whole: every file's
    size and sha256 against the manifest, nothing missing or extra, the database readable
    and (SQLite) its rows per table as the manifest says. Raises :class:`ArchiveError`."""
    if not archive.is_file():
        raise ArchiveError(f"找不到备份文件：{archive}")
    seen: dict[str, tuple[int, str]] = {}
    manifest_raw: bytes | None = None
    try:
        # gzip's own reader checks the stream's CRC and length at its end; tarfile's does not,
        # and it takes a garbled header for the end of the archive. So: read through gzip, and
        # to the very end, whatever tarfile thought.
        with gzip.open(archive, "rb") as stream:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    name = _safe_name(member)
                    source = tar.extractfile(member)
                    assert source is not None  # _safe_name let regular files only through
                    if name == MANIFEST:
                        manifest_raw = source.read(1 << 24)
                        continue
                    seen[name] = _extract(source, into / name)
            while stream.read(CHUNK):
                pass
    except ArchiveError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ArchiveError(f"备份文件已损坏或不完整，无法读取（{_reason(exc)}）。") from None
    if manifest_raw is None:
        raise ArchiveError(
            "这不是 Lüzhi 的备份文件，或者文件不完整：里面没有清单（manifest.json）。"
        )
    manifest = Manifest.from_json(manifest_raw)
    _compare(manifest, seen)
    unpacked = Unpacked(manifest, into)
    if manifest.dialect == "sqlite":
        _check_sqlite(unpacked)
    return unpacked


def _safe_name(member: tarfile.TarInfo) -> str:
    path = PurePosixPath(member.name)
    if (
        not member.isfile()
        or path.is_absolute()
        or ".." in path.parts
        or not (member.name == MANIFEST or path.parts[0] in ("database", MEDIA))
    ):
        raise ArchiveError(f"备份文件里有不该有的内容（{member.name}），已拒绝。")
    return path.as_posix()


def _extract(source: IO[bytes], dest: Path) -> tuple[int, str]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with dest.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _compare(manifest: Manifest, seen: dict[str, tuple[int, str]]) -> None:
    for name, expected in manifest.files.items():
        if name not in seen:
            raise ArchiveError(f"备份文件不完整：缺少 {name}。")
        size, digest = seen[name]
        if (size, digest) != (expected.get("bytes"), expected.get("sha256")):
            raise ArchiveError(f"备份文件已损坏：{name} 的校验和与清单不符。")
    extra = sorted(set(seen) - set(manifest.files))
    if extra:
        raise ArchiveError(f"备份文件里有清单之外的文件（{extra[0]}），已拒绝。")
    if manifest.database_file not in seen:
        raise ArchiveError("备份文件不完整：里面没有数据库。")


def _check_sqlite(unpacked: Unpacked) -> None:
    problem = sqlite_check(unpacked.database)
    if problem != "ok":
        raise ArchiveError(f"备份里的数据库已损坏（{problem}）。")
    try:
        counts = sqlite_counts(unpacked.database)
        revision = sqlite_revision(unpacked.database)
    except Exception as exc:
        raise ArchiveError(f"备份里的数据库无法读取（{exc}）。") from None
    if counts != unpacked.manifest.tables or revision != unpacked.manifest.revision:
        raise ArchiveError("备份里的数据库与清单记录的行数或版本不符，文件不可信。")


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]


def verify(archive: Path) -> Manifest:
    """Check ``archive`` without restoring anything (extracts into a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="lvzhi-verify-") as folder:
        return unpack(archive, Path(folder)).manifest


def keep_newest(folder: Path, keep: int, *, now: float | None = None) -> list[Path]:
    """Delete all but the ``keep`` newest archives in ``folder``, and what a backup killed
    midway left there more than a day ago (``*.part``, ``.lvzhi-backup-*`` work folders);
    the archives deleted."""
    found = archives_in(folder)
    gone = found[: max(0, len(found) - keep)]
    for path in gone:
        path.unlink(missing_ok=True)
    stale = (now if now is not None else time.time()) - 86400
    for path in [*folder.glob(PREFIX + "*.part"), *folder.glob(".lvzhi-backup-*")]:
        if path.stat().st_mtime >= stale:
            continue  # perhaps a backup under way in another process
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return gone


def move_aside(path: Path, suffix: str) -> Path | None:
    """Rename ``path`` (a file or folder) to ``<path><suffix>``; None if there was nothing."""
    if not path.exists():
        return None
    target = path.with_name(path.name + suffix)
    shutil.move(str(path), str(target))
    return target


__all__ = ["ArchiveError", "BackupError", "Manifest", "Unpacked"]
