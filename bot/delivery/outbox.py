"""Putting Outgoing messages into the outbox (the transactional half of delivery).

A delivery's channel says who it is for, not how to reach them: ``member`` (a userid, or
``#id`` for a member without one: WeCom or the 公众号 is chosen at send time by preference),
``group`` (a group id; app chat or group robot is chosen at send time, so a channel attached
later still works), ``response_url`` (an AI-bot reply) or ``card_update`` (a click's
response code: the one update WeCom allows of a template card) or ``wechat`` (an OpenID:
the answer to a 公众号 follower's message).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.messages import Outgoing, Send
from storage import Tx


def delivery_fields(out: Outgoing) -> tuple[str, str, dict[str, Any]]:
    if out.card_update is not None:
        update = out.card_update
        return (
            "card_update",
            update.response_code,
            {
                "msgtype": "update_template_card",
                "content": update.button_text,
                "userids": [update.userid],
            },
        )
    payload: dict[str, Any] = {
        "msgtype": "markdown" if out.markdown else "text",
        "content": out.text,
    }
    if out.card is not None:
        payload["card"] = dict(out.card)  # sent as a template_card where the channel has cards
    if out.image is not None:
        # A group robot's picture (~10 KB of PNG for a chart, kept small on purpose: it lives
        # in this row until sent); ``content`` stays as its description for logs and sandbox.
        payload["msgtype"] = "image"
        payload["image"] = {"base64": out.image.base64, "md5": out.image.md5}
    if out.mentions:
        payload["mentions"] = list(out.mentions)
    if out.to_member is not None:
        return "member", out.to_member, payload
    if out.to_group is not None:
        return "group", str(out.to_group), payload
    if out.to_wechat is not None:
        return "wechat", out.to_wechat, payload
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


async def queue_all(
    tx: Tx, sends: Iterable[Send], *, now: datetime, ttl: timedelta | None = None
) -> int:
    """Queue each :class:`~bot.messages.Send` (due at its ``at``, or ``now``); how many were new
    (a key queued before adds nothing). The one way deliveries enter the outbox besides a
    reply: the pipeline (a handler's sends), the planner, the CLI and the console all call it."""
    now_utc = now.astimezone(UTC)
    added = 0
    for send in sends:
        if await queue(tx, send.out, key=send.key, now=now_utc, send_at=send.at, ttl=ttl):
            added += 1
    return added
