"""Sandbox mode: with no WeCom credentials, deliveries land here instead of WeCom.

The simulator (``lvzhi simulate`` and the console) reads them back; every one is also logged.
"""

from __future__ import annotations

import asyncio
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


class SandboxSender:
    def __init__(self, clock: Clock, keep: int = 1000) -> None:
        self.clock = clock
        self.messages: deque[SandboxMessage] = deque(maxlen=keep)
        self._changed = asyncio.Condition()

    async def send(self, address: Address, message: dict[str, Any]) -> Outcome:
        item = SandboxMessage(
            at=self.clock.now(),
            address=address,
            text=str(message.get("content", "")),
            mentions=tuple(message.get("mentions", ())),
        )
        self.messages.append(item)
        log.info("sandbox → %s: %s", address.label, item.text.replace("\n", " ⏎ ")[:200])
        async with self._changed:
            self._changed.notify_all()
        return Sent()
