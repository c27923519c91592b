"""Putting Outgoing messages into the outbox (the transactional half of delivery).

A delivery's channel says who it is for, not how to reach them: ``member`` (a userid),
``group`` (a group id; app chat or group robot is chosen at send time, so a channel attached
later still works) or ``response_url`` (an AI-bot reply).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.messages import Outgoing
from storage import Tx


def delivery_fields(out: Outgoing) -> tuple[str, str, dict[str, Any]]:
    payload: dict[str, Any] = {
        "msgtype": "markdown" if out.markdown else "text",
        "content": out.text,
    }
    if out.mentions:
        payload["mentions"] = list(out.mentions)
    if out.to_member is not None:
        return "member", out.to_member, payload
    if out.to_group is not None:
        return "group", str(out.to_group), payload
    assert out.response_url is not None
    return "response_url", out.response_url, payload


async def queue(
    tx: Tx,
    out: Outgoing,
    *,
    key: str,
    now: datetime,
    send_at: datetime | None = None,
    ttl: timedelta | None = None,
) -> bool:
    """Queue ``out`` under idempotency ``key``; False if that key was queued before."""
    channel, target, payload = delivery_fields(out)
    due = send_at or now
    return await tx.deliveries.enqueue(
        key=key,
        channel=channel,
        target=target,
        payload=payload,
        now=now,
        send_at=send_at,
        deadline=due + ttl if ttl is not None else None,
    )
