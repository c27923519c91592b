"""Attachments (社情民意, 提案, 履职登记): fetching WeCom media before its id expires (3 days)
and keeping it.

An image or file sent with a report, a proposal (or its answer) or a registered activity is
recorded with its WeCom ``media_id`` (``report_attachments``, ``proposal_attachments``,
``activity_attachments``: the :class:`storage.base.KeptMedia` columns, status ``pending``).
:func:`fetch_pending_media` then fetches the pending ones of every kind, oldest first,
through a :class:`MediaSource` and keeps it in a :class:`MediaStore`; an attachment that could
not be fetched within :data:`MEDIA_LIFETIME` of its arrival ends ``expired`` (WeCom no longer
has it), one that failed :data:`MAX_ATTEMPTS` times ends ``failed``. The network and disk I/O
happen outside any transaction; the status is written afterwards. Two fetchers running at once
may both fetch one attachment: harmless, the store's name is the attachment's id (under its
owner's folder: ``SQ-2025-0001/``, ``proposals/TA-2025-0001/``, ``activities/HD-7/``).

The source is WeCom's ``media/get`` (:class:`bot.wecom.media.WeComMediaSource`), or a
placeholder in sandbox mode; the store is :class:`DirectoryMediaStore` (files under
``[reports] media_dir``). The runtime runs the job every ``[reports] media_fetch_seconds``;
``lvzhi reports fetch-media`` runs it once by hand.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from bot.media import FetchedMedia, MediaFetchError, MediaSource, SandboxMediaSource
from storage import Database

__all__ = [
    "DirectoryMediaStore",
    "FetchedMedia",
    "MediaFetchError",
    "MediaSource",
    "MediaStore",
    "SandboxMediaSource",
    "fetch_pending_media",
]

MEDIA_LIFETIME = timedelta(days=3)
MAX_ATTEMPTS = 5
_UNSAFE = re.compile(r"[^\w.\-]+")


class MediaStore(Protocol):
    async def put(self, name: str, media: FetchedMedia) -> str:
        """Keep ``media`` under ``name`` (idempotent); returns the reference to store."""
        ...


class DirectoryMediaStore:
    """Files under ``root``: ``{owner's folder}/{attachment id}-{safe name}``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, name: str, media: FetchedMedia) -> str:
        path = self.root / name
        await asyncio.to_thread(_write, path, media.data)
        return str(path.relative_to(self.root))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(path)  # a reader never sees half a file


@dataclass(frozen=True, slots=True)
class MediaRun:
    stored: int = 0
    failed: int = 0
    expired: int = 0
    retrying: int = 0


def store_name(
    folder: str, attachment_id: int, filename: str, media_id: str, media: FetchedMedia
) -> str:
    name = _UNSAFE.sub("_", media.filename or filename or media_id).strip("._")[:80]
    if not Path(name).suffix:
        name += mimetypes.guess_extension(media.content_type) or ".bin"
    return f"{folder}/{attachment_id}-{name}"


async def fetch_pending_media(
    db: Database, source: MediaSource, store: MediaStore, now: datetime, *, limit: int = 50
) -> MediaRun:
    async with db.read() as tx:
        pending = await tx.media.pending(limit)
    counts = {"stored": 0, "failed": 0, "expired": 0, "retrying": 0}
    for item in pending:
        status, ref, error = "pending", "", ""
        if now - item.received_at > MEDIA_LIFETIME:
            status, error = "expired", "WeCom 媒体文件已超过3天有效期"
        else:
            try:
                media = await source.fetch(item.media_id)
                name = store_name(item.folder, item.id, item.filename, item.media_id, media)
                ref, status = await store.put(name, media), "stored"
            except MediaFetchError as exc:
                error = str(exc)[:500]
                if exc.permanent or item.attempts + 1 >= MAX_ATTEMPTS:
                    status = "failed"
        async with db.transaction() as tx:
            row = await tx.media.attachment(item.kind, item.id)
            if row is None or row.status != "pending":
                continue
            row.attempts += 0 if status == "expired" else 1
            row.status, row.stored_ref, row.last_error = status, ref, error
            if status == "stored":
                row.fetched_at = now
        counts["retrying" if status == "pending" else status] += 1
    return MediaRun(**counts)
