"""Cutting long text to WeCom's byte limits without breaking a character."""

from __future__ import annotations

from bot.messages import RESPONSE_URL_BYTES

TEXT_LIMIT = 2048  # bytes of UTF-8: text messages (member, app chat, robot)
MARKDOWN_LIMIT = 4096


def split_utf8(text: str, limit: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` UTF-8 bytes, on character boundaries,
    preferring to break after a newline when one falls in the last quarter of a part."""
    if limit < 4:
        raise ValueError("limit must hold at least one character")
    parts: list[str] = []
    data = text.encode("utf-8")
    start = 0
    while len(data) - start > limit:
        end = start + limit
        while end > start and (data[end] & 0xC0) == 0x80:  # not inside a multi-byte character
            end -= 1
        newline = data.rfind(b"\n", start + limit * 3 // 4, end)
        if newline != -1:
            end = newline + 1
        parts.append(data[start:end].decode("utf-8"))
        start = end
    parts.append(data[start:].decode("utf-8"))
    return [p for p in parts if p] or [""]


def part_limit(kind: str, msgtype: str) -> int:
    """The most UTF-8 bytes one part may carry on a channel (``Address.kind``).

    2048 for text anywhere and for markdown to members and app chats (``message/send`` and
    ``appchat/send`` cap markdown at 2048 too); 4096 for a group robot's markdown and for an
    AI-bot response, which always goes as markdown.
    """
    if kind == "response_url":
        return RESPONSE_URL_BYTES
    if kind == "robot" and msgtype == "markdown":
        return MARKDOWN_LIMIT
    return TEXT_LIMIT
