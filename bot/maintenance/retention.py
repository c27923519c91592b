"""Retention: pruning the operational tables after ``[retention]`` periods.

What is pruned and what never is: :mod:`storage.repos.retention`. Inbound rows are kept at
least a day (``[retention] inbound_days`` ≥ 1), far longer than the callback freshness window
(3 h, :data:`bot.wecom.callback.DEFAULT_MAX_SKEW`): a callback replayed after its row is gone
carries a stale signed timestamp and is refused before de-duplication is asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import Config
from storage import Database
from storage.repos.retention import KINDS

BATCH = 5000

LABELS = {
    "inbound": "收到的消息（去重记录）",
    "deliveries": "已结束的消息投递",
    "send_log": "发送频率记录",
    "dialogs": "已过期的对话",
    "alerts": "系统告警",
}


def cutoffs(config: Config, now: datetime) -> dict[str, datetime]:
    """For each kind, the time before which its rows go."""
    days = {
        "inbound": config.retention.inbound_days,
        "deliveries": config.retention.deliveries_days,
        "send_log": config.retention.send_log_days,
        "dialogs": config.retention.dialogs_days,
        "alerts": config.retention.alerts_days,
    }
    return {kind: now - timedelta(days=days[kind]) for kind in KINDS}


async def prune(
    db: Database, config: Config, now: datetime, *, dry_run: bool = False, batch: int = BATCH
) -> dict[str, int]:
    """Rows pruned per kind (with ``dry_run``: rows that would be, nothing deleted)."""
    month = now.astimezone(config.time.zone).strftime("%Y-%m")
    done: dict[str, int] = {}
    for kind, before in cutoffs(config, now).items():
        if dry_run:
            async with db.read() as tx:
                done[kind] = await tx.retention.count(kind, before, month=month)
            continue
        total = 0
        while True:  # one short transaction per batch: the server's writes go in between
            async with db.transaction() as tx:
                gone = await tx.retention.prune(kind, before, batch=batch, month=month)
            total += gone
            if gone < batch:
                break
        done[kind] = total
    return done
