"""Fetching members' media from WeCom (``media/get``) with the app's shared access token."""

from __future__ import annotations

from bot.media import FetchedMedia, MediaFetchError
from bot.wecom.api import TOKEN_ERRCODES, Reply, WeComTransportError
from bot.wecom.sender import CONFIG_ERRCODES, WeComSender
from bot.wecom.tokens import TokenError

# media/get's answer for an unknown or expired media id: fetching again cannot help, nor after
# a configuration error.
INVALID_MEDIA_ERRCODE = 40007
PERMANENT_ERRCODES = CONFIG_ERRCODES | {INVALID_MEDIA_ERRCODE}
# WeCom's own cap on a file a member can send through the app.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class WeComMediaSource:
    """Implements :class:`bot.media.MediaSource` against ``[wecom] api_base``."""

    def __init__(self, sender: WeComSender, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.sender = sender
        self.max_bytes = max_bytes

    async def fetch(self, media_id: str) -> FetchedMedia:
        tokens, api = self.sender.tokens, self.sender.api
        for attempt in (1, 2):
            try:
                token = await tokens.get()
                answer = await api.get_media(token, media_id, max_bytes=self.max_bytes)
            except (WeComTransportError, TokenError) as exc:
                raise MediaFetchError(str(exc)) from None
            if not isinstance(answer, Reply):
                return FetchedMedia(answer.data, answer.content_type, answer.filename)
            if answer.errcode in TOKEN_ERRCODES and attempt == 1:
                await tokens.invalidate(token)  # revoked early: fetch a new one, once
                continue
            permanent = (
                answer.errcode == INVALID_MEDIA_ERRCODE or answer.errcode in CONFIG_ERRCODES
            )
            raise MediaFetchError(answer.describe(), permanent=permanent)
        raise MediaFetchError("media/get: the access token was refused twice")
