"""WeCom customer groups (客户群): a notice waits for the owner's confirmation before it is
recorded sent; the monthly cap; a send nobody confirms expires.

The server's real WeCom sender talks to the fake WeCom, whose ``fake.wechat`` plays the
group owner (``confirm_group_send``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.clock import FakeClock
from bot.messages import Incoming
from bot.runtime import Runtime, open_runtime
from storage.models import Alert, Delivery, Member
from tests.conftest import make_config
from tests.fakewecom import FakeWeCom

CHAT = "wrOgQhDgAAcwMTB7YmDkbeBsgT_KAAAA"
OWNER = "liming"
SECRETARY = "sunli"
GROUP = "第2学习小组"


@contextlib.asynccontextmanager
async def running(
    db_url: str, clock: FakeClock, **wecom: Any
) -> AsyncIterator[tuple[Runtime, FakeWeCom]]:
    async with FakeWeCom() as fake:
        config = make_config(
            db_url, wecom=fake.wecom_settings(**wecom), scheduler={"enabled": False}
        )
        async with open_runtime(config, clock=clock, start_worker=False, migrate=True) as runtime:
            await _roster(runtime, clock)
            yield runtime, fake


async def _roster(runtime: Runtime, clock: FakeClock) -> None:
    now = clock.now()
    async with runtime.db.transaction() as tx:
        secretary = Member(
            userid=SECRETARY, name="孙丽", role="secretary", created_at=now, updated_at=now
        )
        await tx.members.add(secretary)
        member = Member(mobile="13800138000", name="王芳", created_at=now, updated_at=now)
        await tx.members.add(member)
        group, _ = await tx.groups.get_or_create(GROUP, "study_group", now)
        await tx.groups.add_member(group.id, member.id)
        await tx.customer_groups.attach(group, chat_id=CHAT, owner=OWNER)


async def secretary_says(runtime: Runtime, clock: FakeClock, text: str, n: int) -> None:
    await runtime.pipeline.handle(
        Incoming(
            channel="sandbox",
            sender=SECRETARY,
            text=text,
            sent_at=clock.now(),
            dedup_key=f"test:{n}",
        )
    )
    await runtime.worker.drain()


async def group_deliveries(runtime: Runtime) -> list[Delivery]:
    async with runtime.db.read() as tx:
        return [d for d in await tx.deliveries.list() if d.channel == "group"]


async def test_a_notice_waits_for_the_owner_before_it_is_sent(
    db_url: str, clock: FakeClock
) -> None:
    async with running(db_url, clock) as (runtime, fake):
        await secretary_says(runtime, clock, f"通知 {GROUP}：周五下午三点在三楼会议室学习交流", 1)
        (delivery,) = await group_deliveries(runtime)
        assert delivery.status == "awaiting"  # WeCom said ok: that is not "sent"
        (task,) = fake.wechat.pending_group_sends()
        assert task.sender == OWNER and list(task.status) == [CHAT]
        assert "三楼会议室" in task.content
        assert fake.delivered("externalcontact/add_msg_template") == []

        # The secretary's chat shows what waits, and the month's count.
        await secretary_says(runtime, clock, "待确认群发", 2)
        listing = fake.delivered("message/send", SECRETARY)[-1].content
        assert GROUP in listing and OWNER in listing and "1/4" in listing

        clock.advance(timedelta(minutes=6))  # a check before the owner confirmed: still waiting
        await runtime.worker.drain()
        assert (await group_deliveries(runtime))[0].status == "awaiting"

        assert fake.wechat.confirm_group_send() == [CHAT]  # the owner taps 发送
        clock.advance(timedelta(minutes=6))
        await runtime.worker.drain()
        (delivery,) = await group_deliveries(runtime)
        assert delivery.status == "sent" and delivery.sent_at is not None
        (received,) = fake.delivered("externalcontact/add_msg_template", CHAT)
        assert "三楼会议室" in received.content
        async with runtime.db.read() as tx:
            assert await tx.customer_groups.awaiting() == []


async def test_the_monthly_cap_is_respected_and_visible(sqlite_url: str, clock: FakeClock) -> None:
    async with running(sqlite_url, clock, customer_group_monthly_cap=1) as (runtime, fake):
        await secretary_says(runtime, clock, f"通知 {GROUP}：第一条通知", 1)
        await secretary_says(runtime, clock, f"通知 {GROUP}：第二条通知", 2)
        first, second = await group_deliveries(runtime)
        assert first.status == "awaiting"
        assert second.status == "dead" and "本月企业群发次数已用完" in (second.last_error or "")
        assert len(fake.wechat.group_sends) == 1  # no second task was created
        async with runtime.db.read() as tx:
            alerts = list(await tx.session.scalars(select(Alert)))
        assert any("本月企业群发次数已用完" in a.message for a in alerts)


async def test_a_send_nobody_confirms_is_cancelled_and_expires(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running(sqlite_url, clock) as (runtime, fake):
        await secretary_says(runtime, clock, f"通知 {GROUP}：没人确认的通知", 1)
        clock.advance(timedelta(hours=25))
        await runtime.worker.drain()
        (delivery,) = await group_deliveries(runtime)
        assert delivery.status == "expired" and "未在 24 小时内确认" in (delivery.last_error or "")
        (task,) = fake.wechat.group_sends.values()
        assert task.cancelled
        assert fake.wechat.confirm_group_send() == []  # too late: WeCom no longer has it
