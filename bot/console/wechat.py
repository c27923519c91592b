"""概览 panel for the WeChat channels: group-sends waiting for their owner's confirmation
(客户群群发待确认) and Official Account bindings under way (公众号绑定码) — the same lists a
secretary gets in chat with ``待确认群发`` and ``绑定码``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.config import Config
from bot.console.registry import ConsoleRegistry
from storage import Tx


async def wechat_state(tx: Tx, now: datetime, config: Config) -> Mapping[str, Any]:
    awaiting = await tx.customer_groups.awaiting(limit=20)
    bindings = []
    if config.wechat.configured:
        bindings = await tx.wechat.pending_bindings(config.wechat.app_id, now)
    return {"awaiting": awaiting, "bindings": bindings}


def install(console: ConsoleRegistry) -> None:
    console.register_panel(
        "wechat", "微信群发待确认与公众号绑定", wechat_state, "panels/wechat.html", order=80
    )
