"""Media files members send (images, files), as features fetch and keep them.

WeCom keeps a received ``media_id`` for 3 days only; a feature that keeps attachments (社情民意)
fetches them through a :class:`MediaSource` — WeCom's ``media/get`` (:mod:`bot.wecom.media`) or,
in sandbox mode, :class:`SandboxMediaSource`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FetchedMedia:
    data: bytes = field(repr=False)
    content_type: str
    filename: str = ""


class MediaFetchError(Exception):
    """The media could not be fetched; ``permanent`` when retrying cannot help (bad id)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MediaSource(Protocol):
    async def fetch(self, media_id: str) -> FetchedMedia:
        """The media's bytes; raises :class:`MediaFetchError`."""
        ...


class SandboxMediaSource:
    """Stands in for WeCom in sandbox mode and tests: a placeholder per media id."""

    def __init__(self, missing: frozenset[str] = frozenset()) -> None:
        self.missing = missing  # media ids that behave as expired at WeCom
        self.calls: list[str] = []

    async def fetch(self, media_id: str) -> FetchedMedia:
        self.calls.append(media_id)
        if media_id in self.missing:
            raise MediaFetchError("invalid media_id", permanent=True)
        return FetchedMedia(f"sandbox media {media_id}".encode(), "image/jpeg")
