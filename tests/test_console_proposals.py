"""The console's 提案 and 履职登记 pages over HTTP: a proposal moved on through the chat's own
workflow (history, notifications, audit), refusals shown, activities confirmed, returned and
entered in bulk with bad rows named — on each backend for the writes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import FakeClock
from storage.models_proposals import ActivityAttachment, ProposalAttachment
from tests.console_support import audit_rows, say
from tests.test_console_pages import Client, pending_keys, post, runtime_of, signed_in, text_of


@pytest.fixture
async def any_client(db_url: str, clock: FakeClock) -> AsyncIterator[Client]:
    async with signed_in(db_url, clock) as client:
        yield client


async def test_a_proposal_moved_on_from_the_console(any_client: Client) -> None:
    client, runtime = any_client, runtime_of(any_client)
    await say(
        runtime, "zhangwei", "提案：关于建设社区食堂的建议\n情况：老人吃饭难。\n建议：建食堂。"
    )
    page = text_of(await (await client.get("/console/proposals")).text())
    assert "TA-2025-0001 关于建设社区食堂的建议 张伟 待审查" in page
    response = await post(client, "/console/proposals/act", number="TA-2025-0001", action="assign")
    assert response.status == 400
    assert "请写明主办单位" in text_of(await response.text())
    response = await post(
        client, "/console/proposals/act", number="TA-2025-0001", action="assign", unit="市民政局"
    )
    assert response.status == 400
    assert "TA-2025-0001目前为「待审查」，不能交办。" in text_of(await response.text())
    response = await post(client, "/console/proposals/act", number="TA-2025-0001", action="accept")
    assert (
        response.status == 303 and response.headers["Location"] == "/console/proposals?done=accept"
    )
    response = await post(
        client,
        "/console/proposals/act",
        number="TA-2025-0001",
        action="assign",
        unit="市民政局",
        co_units="市财政局、各街道",
    )
    assert response.status == 303
    page = text_of(await (await client.get(response.headers["Location"])).text())
    assert "已交办。" in page and "已交办 市民政局" in page
    async with runtime.db.read() as tx:
        proposal = await tx.proposals.by_seq(2025, 1)
        assert proposal is not None
        assert (proposal.state, proposal.co_units) == ("assigned", "市财政局、各街道")
        steps = [(h.action, h.actor) for h in await tx.proposals.history(proposal.id)]
        assert steps[1:] == [("accept", "console:admin"), ("assign", "console:admin")]
    assert len(await pending_keys(runtime, "proposal:")) == 2  # 立案 and 交办, to 张伟 once each
    actions = [r.action for r in await audit_rows(runtime.db)]
    assert actions.count("proposal.accept") == 1
    assert actions.count("proposal.assign") == 1


async def test_activities_confirmed_returned_and_entered_in_bulk(any_client: Client) -> None:
    client, runtime = any_client, runtime_of(any_client)
    await say(runtime, "zhangwei", "履职登记 11月20日 参加乡村振兴专题调研")
    await say(runtime, "zhangwei", "完成")
    await say(runtime, "lina", "履职登记 11月21日 视察县医院")
    page = text_of(await (await client.get("/console/activities")).text())
    assert "张伟 HD-1 11月20日 调研：参加乡村振兴专题调研" in page
    assert (await post(client, "/console/activities/act", id="2", action="return")).status == 400
    assert (await post(client, "/console/activities/act", id="1", action="confirm")).status == 303
    response = await post(
        client, "/console/activities/act", id="2", action="return", comment="请补充照片"
    )
    assert response.status == 303
    assert await pending_keys(runtime, "activity:") == [
        "activity:1:confirmed:zhangwei",
        "activity:2:returned:lina",
    ]
    table = (
        "姓名,日期,类型,内容\n张伟,2025-11-22,培训,委员培训班\n无名氏,2025-11-22,培训,委员培训班\n"
    )
    response = await post(client, "/console/activities/act", action="bulk", table=table)
    page = text_of(await response.text())
    assert "已录入 1 条履职活动（均已确认）。" in page and "第3行：名册中没有「无名氏」" in page
    async with runtime.db.read() as tx:
        states = {a.id: (a.state, a.source) for a in await tx.activities.of_member(1)}
    assert ("confirmed", "console") in states.values()


async def test_attachments_shown_with_their_stored_state(any_client: Client) -> None:
    client, runtime = any_client, runtime_of(any_client)
    await say(
        runtime, "zhangwei", "提案：关于建设社区食堂的建议\n情况：老人吃饭难。\n建议：建食堂。"
    )
    await say(runtime, "lina", "履职登记 11月21日 视察县医院")
    now = runtime.clock.now()
    async with runtime.db.transaction() as tx:
        for media_id, status in (("p-1", "stored"), ("p-2", "expired")):
            await tx.proposals.add_attachment(
                ProposalAttachment(
                    proposal_id=1,
                    stage="submit",
                    kind="image",
                    media_id=media_id,
                    received_at=now,
                    status=status,
                )
            )
        await tx.activities.add_attachment(
            ActivityAttachment(activity_id=1, kind="image", media_id="a-1", received_at=now)
        )
    page = text_of(await (await client.get("/console/proposals")).text())
    assert "TA-2025-0001 关于建设社区食堂的建议 张伟 待审查" in page
    assert "2 个（已保存 1 个，已过期 1 个）" in page
    page = text_of(await (await client.get("/console/activities")).text())
    assert "李娜 HD-1 11月21日 视察：视察县医院 1 个（待保存 1 个）" in page
