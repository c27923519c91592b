"""Sandbox mode: with no WeCom credentials, deliveries land here instead of WeCom.

The simulator (``lvzhi simulate`` and the console) reads them back; every one is also logged.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.delivery.base import Address, Outcome, Sent

log = logging.getLogger("lvzhi.sandbox")


@dataclass(frozen=True, slots=True)
class SandboxMessage:
    at: datetime
    address: Address
    text: str
    mentions: tuple[str, ...]
    image: bytes | None = None  # a group robot's picture (msgtype image), decoded


class SandboxSender:
    def __init__(self, clock: Clock, keep: int = 1000) -> None:
        self.clock = clock
        self.messages: deque[SandboxMessage] = deque(maxlen=keep)
        self.total = 0  # messages ever sent (``messages`` keeps the last ``keep``)
        self._changed = asyncio.Condition()

    async def send(self, address: Address, message: dict[str, Any]) -> Outcome:
        item = SandboxMessage(
            at=self.clock.now(),
            address=address,
            text=sandbox_text(address, message),
            mentions=tuple(message.get("mentions", ())),
            image=_image(message),
        )
        self.messages.append(item)
        self.total += 1
        log.info("sandbox → %s: %s", address.label, item.text.replace("\n", " ⏎ ")[:200])
        async with self._changed:
            self._changed.notify_all()
        return Sent()

    def since(self, total: int) -> list[SandboxMessage]:
        """The messages sent after the ``total``-th (as far as ``messages`` still keeps them)."""
        fresh = self.total - total
        return list(self.messages)[-fresh:] if fresh > 0 else []


def sandbox_text(address: Address, message: dict[str, Any]) -> str:
    """What a person would see: the text, a card's buttons, or a card's new button label."""
    text = str(message.get("content", ""))
    image = _image(message)
    if image is not None:
        return f"〔图片：{text}，{len(image) // 1024 + 1} KB〕"
    if address.kind == "card_update":
        return f"〔卡片已更新：{text}〕"
    card = message.get("card")
    if address.kind == "member" and isinstance(card, dict):
        buttons = " ".join(f"［{b.get('text', '')}］" for b in card.get("button_list", ()))
        return f"{text}\n{buttons}" if buttons else text
    return text


def _image(message: dict[str, Any]) -> bytes | None:
    picture = message.get("image") if message.get("msgtype") == "image" else None
    if not isinstance(picture, dict):
        return None
    return base64.b64decode(str(picture.get("base64", "")))
