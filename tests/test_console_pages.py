"""The console's pages over HTTP (aiohttp's TestServer, no browser), on each backend: reports
reviewed through the chat's own workflow, notices composed and scheduled, reminders sent once,
tasks with their colours, exports downloaded. Security (login, CSRF, roles):
``test_console_security.py``; in a real browser: ``test_console_browser.py``."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import FakeClock
from bot.console import exports as export_page
from bot.delivery.sandbox import SandboxSender
from bot.runtime import Runtime
from handlers.reports.workflow import change_text
from storage.models_wechat import CustomerGroupSend
from tests.conftest import make_config
from tests.console_support import add_account, audit_rows, log_in, office_day, say, session_csrf

Client = TestClient[Any, Any]


@contextlib.asynccontextmanager
async def signed_in(db_url: str, clock: FakeClock) -> AsyncIterator[Client]:
    """Signed in as an admin, after a day of office chat (roster, reports, notice, meeting,
    tasks)."""
    config = make_config(db_url, console={"secure_cookies": False}, scheduler={"enabled": False})
    app = create_app(config, clock=clock, sender=SandboxSender(clock))
    async with TestClient(TestServer(app)) as client:
        runtime = runtime_of(client)
        await office_day(runtime)
        await add_account(runtime.db, "admin", role="admin")
        assert (await log_in(client, "admin")).status == 303
        yield client


@pytest.fixture
async def client(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Client]:
    async with signed_in(sqlite_url, clock) as client:
        yield client


@pytest.fixture
async def any_client(db_url: str, clock: FakeClock) -> AsyncIterator[Client]:
    """The same on each backend (PostgreSQL when configured): for the writes."""
    async with signed_in(db_url, clock) as client:
        yield client


def runtime_of(client: Client) -> Runtime:
    return client.app[RUNTIME]


async def post(client: Client, path: str, **data: Any) -> Any:
    token = await session_csrf(client)
    return await client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


def text_of(html: str) -> str:
    """A page's text as a person reads it (tags dropped, white space collapsed)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def pending_keys(runtime: Runtime, prefix: str) -> list[str]:
    async with runtime.db.read() as tx:
        rows = await tx.deliveries.list(limit=10_000)
    return sorted(d.idempotency_key for d in rows if d.idempotency_key.startswith(prefix))


# -- reports ------------------------------------------------------------------------------------


async def test_the_review_queue_and_the_filters(client: Client) -> None:
    page = await (await client.get("/console/reports")).text()
    assert "待审队列" in page and "SQ-2025-0001" in page and "SQ-2025-0002" in page
    for query, shown, hidden in [
        ("?sector=中共界", "SQ-2025-0001", "SQ-2025-0002"),
        ("?q=养老", "SQ-2025-0002", "SQ-2025-0001"),
        ("?state=pending&category=民生保障&year=2025", "SQ-2025-0001", None),
    ]:
        html = await (await client.get("/console/reports" + query)).text()
        listing = html.split('id="reports"')[1]
        assert shown in listing, query
        if hidden:
            assert hidden not in listing, query
    html = await (await client.get("/console/reports?state=closed")).text()
    assert "没有符合条件的社情民意" in html


async def test_adopting_goes_through_the_chat_workflow(any_client: Client) -> None:
    client = any_client
    runtime = runtime_of(client)
    response = await post(
        client, "/console/reports/act", number="SQ-2025-0001", action="adopt", comment="内容翔实"
    )
    assert response.status == 303
    assert response.headers["Location"].startswith("/console/reports/view?number=SQ-2025-0001")
    page = await (await client.get(response.headers["Location"])).text()
    assert "已采用，已通知提交人（1 人）" in page and "管理后台 admin" in page
    async with runtime.db.read() as tx:
        report = await tx.reports.by_number("SQ-2025-0001")
        assert report is not None and report.state == "adopted"
        [_, entry] = await tx.reports.history(report.id)
        expected = change_text(report, entry, "张伟")
    # The submitter's notification: the chat's key and text, through the outbox.
    [key] = await pending_keys(runtime, f"report:{report.id}:")
    assert key == f"report:{report.id}:{entry.id}:zhangwei"
    sandbox = runtime.sandbox
    assert sandbox is not None

    def told() -> list[str]:
        return [m.text for m in sandbox.messages if m.address.value == "zhangwei"]

    async with asyncio.timeout(10):  # the background worker may hold the lease a moment
        while expected not in told():
            await runtime.worker.drain()
            await asyncio.sleep(0.02)
    assert told().count(expected) == 1
    assert expected.endswith("已被采用：内容翔实")
    actions = [(row.actor, row.action, row.entity_id) for row in await audit_rows(runtime.db)]
    assert ("console:admin", "report.adopt", "SQ-2025-0001") in actions


async def test_the_workflow_refuses_what_the_chat_refuses(client: Client) -> None:
    runtime = runtime_of(client)
    for data, message in [
        ({"action": "reject", "comment": ""}, "请写明不予采用的理由"),
        ({"action": "close"}, "不能办结"),
        ({"action": "assign", "department": "市水务局"}, "不能转办"),
        ({"action": "fly"}, "请选择要执行的操作"),
    ]:
        response = await post(client, "/console/reports/act", number="SQ-2025-0002", **data)
        assert response.status == 400, data
        assert message in await response.text(), data
    async with runtime.db.read() as tx:
        report = await tx.reports.by_number("SQ-2025-0002")
        assert report is not None and report.state == "submitted"
        assert len(await tx.reports.history(report.id)) == 1


async def test_forward_endorse_assign_answer_close(client: Client) -> None:
    steps = [
        {"action": "review"},
        {"action": "adopt"},
        {"action": "forward", "forward_level": "省政协"},
        {"action": "endorse", "endorse_level": "市领导", "leader": "王市长", "comment": "请办理"},
        {"action": "assign", "department": "市民政局"},
        {"action": "answer", "comment": "已增设三处日间照料中心"},
        {"action": "close"},
    ]
    for data in steps:
        response = await post(client, "/console/reports/act", number="SQ-2025-0002", **data)
        assert response.status == 303, (data, await response.text())
    page = text_of(await (await client.get("/console/reports/view?number=SQ-2025-0002")).text())
    assert "已办结" in page and "流程已结束" in page
    for shown in ("报送 省政协", "批示 市领导 王市长", "转办 市民政局", "已增设三处日间照料中心"):
        assert shown in page, shown


async def test_recategorize(client: Client) -> None:
    response = await post(
        client,
        "/console/reports/act",
        number="SQ-2025-0002",
        action="category",
        category="社会治理",
    )
    assert response.status == 303
    page = await (await client.get("/console/reports/view?number=SQ-2025-0002")).text()
    assert "社会治理" in page and "修改类别" in page


# -- notices ------------------------------------------------------------------------------------


async def notice_count(runtime: Runtime) -> int:
    async with runtime.db.read() as tx:
        return len(await tx.notices.recent(limit=1000))


async def test_preview_writes_nothing_then_schedule(any_client: Client, clock: FakeClock) -> None:
    client = any_client
    runtime = runtime_of(client)
    before = await notice_count(runtime)
    form = {"to": ["第2学习小组"], "others": "张伟", "text": "明天上午九点开学习会。"}
    form |= {"timing": "later", "when": "明天上午8点", "needs_ack": "1"}
    response = await post(client, "/console/notices/new", op="preview", **form)
    assert response.status == 200
    html = await response.text()
    assert "第2学习小组、张伟" in html and "6 人，其中 1 人私信" in html
    assert "2025-11-26 08:00" in html and "TZ-（发送后编号）" in html
    assert await notice_count(runtime) == before
    response = await post(client, "/console/notices/new", op="send", **form)
    assert response.status == 303
    assert "done=scheduled" in response.headers["Location"]
    async with runtime.db.read() as tx:
        [notice] = await tx.notices.recent(limit=1)
        rows = await tx.deliveries.list(limit=10_000)
    due = {d.idempotency_key: d.next_attempt_at for d in rows}
    keys = [k for k in due if k.startswith(f"notice:{notice.id}:")]
    assert sorted(keys) == [f"notice:{notice.id}:group:2", f"notice:{notice.id}:member:zhangwei"]
    assert {due[k] for k in keys} == {clock.now() + timedelta(hours=22)}  # 08:00 tomorrow
    assert notice.needs_ack and notice.author_id is None
    audit = [r for r in await audit_rows(runtime.db) if r.action == "console.notice_send"]
    assert audit[0].entity_id == f"TZ-{notice.id}" and audit[0].detail["deliveries"] == 2


async def test_the_date_time_picker_and_bad_times(client: Client) -> None:
    runtime = runtime_of(client)
    base = {"to": ["第1学习小组"], "text": "请准时参加。", "timing": "later", "op": "send"}
    for extra, message in [
        ({"when": "下辈子"}, "看不懂发送时间「下辈子」"),
        ({"at": "2025-11-24T09:00"}, "已经过去"),
        ({}, "请填写发送时间"),
        ({"at": "2025-11-30T09:00", "to": []}, "请选择发送对象"),
    ]:
        response = await post(client, "/console/notices/new", **(base | extra))
        assert response.status == 400, extra
        assert message in await response.text(), extra
    later = base | {"at": "2025-11-30T09:15", "needs_ack": "1"}
    response = await post(client, "/console/notices/new", **later)
    assert response.status == 303
    async with runtime.db.read() as tx:
        [notice] = await tx.notices.recent(limit=1)
    local = notice.send_at.astimezone(runtime.config.time.zone)
    assert local.isoformat() == "2025-11-30T09:15:00+08:00"
    chase = timedelta(hours=runtime.config.notices.ack_reminder_hours)
    assert notice.needs_ack and notice.chase_at == notice.send_at + chase


async def test_send_now_without_ack(client: Client) -> None:
    runtime = runtime_of(client)
    response = await post(
        client, "/console/notices/new", op="send", to=["全体委员"], text="今天下午停电。"
    )
    assert response.status == 303 and "done=sent" in response.headers["Location"]
    async with runtime.db.read() as tx:
        [notice] = await tx.notices.recent(limit=1)
    assert not notice.needs_ack and notice.chase_at is None
    page = await (await client.get(response.headers["Location"])).text()
    assert "通知已发出" in page and "第1学习小组、第2学习小组" in page


async def test_remind_now_is_the_scheduled_reminder_sent_once(
    any_client: Client, clock: FakeClock
) -> None:
    client = any_client
    runtime = runtime_of(client)
    page = await (await client.get("/console/notices/view?id=1")).text()
    assert "未确认（4）" in page and "已确认（1）" in page and "李娜" in page
    response = await post(client, "/console/notices/remind", id="1")
    assert response.status == 303 and "n=5" in response.headers["Location"]
    keys = await pending_keys(runtime, "notice:1:chase")
    assert len(keys) == 5 and all(k.startswith("notice:1:chase:") for k in keys)
    again = await post(client, "/console/notices/remind", id="1")
    assert again.status == 400 and "刚在 10:00 提醒过" in await again.text()
    # At the scheduled time the planner finds its reminder already sent: nothing more.
    clock.advance(timedelta(hours=4, minutes=1))
    await runtime.planner.tick()
    assert len(await pending_keys(runtime, "notice:1:chase")) == 5
    # A further reminder later is a new occasion, to those still silent.
    await say(runtime, "zhangwei", "收到")
    response = await post(client, "/console/notices/remind", id="1")
    assert response.status == 303
    later = await pending_keys(runtime, "notice:1:chase:console:1")
    assert len(later) == 4 and not any("zhangwei" in k for k in later)
    rows = await audit_rows(runtime.db)
    audit = [r.detail["occurrence"] for r in rows if r.action == "console.notice_remind"]
    assert audit == ["notice:1:chase", "notice:1:chase:console:1"]


async def test_meeting_replies_and_reminder(client: Client) -> None:
    runtime = runtime_of(client)
    page = await (await client.get("/console/notices/meeting?id=1")).text()
    assert "未回复（3）" in page and "出差在外" in page and "杨帆" in page
    response = await post(client, "/console/notices/meeting/remind", id="1")
    assert response.status == 303
    keys = await pending_keys(runtime, "meeting:1:chase")
    assert sorted(k.split(":")[-1] for k in keys) == ["2", "huangmin", "wuxia", "zhouqiang"]
    listing = await (await client.get("/console/notices")).text()
    assert "HY-1" in listing and "TZ-1" in listing


async def test_nothing_to_remind(client: Client) -> None:
    response = await post(
        client, "/console/notices/new", op="send", to=["第1学习小组"], text="仅供参考。"
    )
    location = response.headers["Location"]
    notice_id = location.split("id=")[1].split("&")[0]
    response = await post(client, "/console/notices/remind", id=notice_id)
    assert response.status == 400 and "无需回执" in await response.text()
    response = await post(client, "/console/notices/remind", id="999")
    assert response.status == 404 and "没有找到" in await response.text()


async def meetings_of(runtime: Runtime) -> list[Any]:
    async with runtime.db.read() as tx:
        return await tx.console_views.recent_meetings(100)


async def test_compose_a_meeting_notice(client: Client) -> None:
    runtime = runtime_of(client)
    form = {"to": ["第1学习小组"], "kind": "专题协商会", "place": "二楼会议室"}
    form |= {"starts": "11月28日下午3点", "text": "围绕养老服务协商。"}
    response = await post(client, "/console/notices/meeting/new", op="preview", **form)
    assert response.status == 200
    preview = text_of(await response.text())
    assert "应到 5 人" in preview and "回执截止 2025-11-27 15:00" in preview  # a day before
    assert "HY-（发送后编号）" in preview and "二楼会议室" in preview
    assert len(await meetings_of(runtime)) == 1  # the preview was rolled back
    response = await post(
        client, "/console/notices/meeting/new", op="send", **(form | {"reply": "明天18:00"})
    )
    assert response.status == 303, await response.text()
    meeting = max(await meetings_of(runtime), key=lambda m: m.id)
    assert meeting.kind == "专题协商会" and meeting.place == "二楼会议室"
    assert meeting.title == "专题协商会"  # no name given and none in the text: its kind
    local = meeting.reply_by.astimezone(runtime.config.time.zone)
    assert local.isoformat() == "2025-11-26T18:00:00+08:00"
    keys = await pending_keys(runtime, f"meeting:{meeting.id}:")
    assert keys == [f"meeting:{meeting.id}:group:1"]
    page = text_of(await (await client.get(response.headers["Location"])).text())
    assert "会议通知已发出" in page and "未回复（5）" in page
    for extra, message in [
        ({"starts": ""}, "请填写会议时间"),
        ({"starts": "", "starts_at": "2025-11-20T15:00"}, "已经过去"),
        ({"to": [], "others": ""}, "请选择参会对象"),
    ]:
        response = await post(client, "/console/notices/meeting/new", op="send", **(form | extra))
        assert response.status == 400, extra
        assert message in await response.text(), extra
    named = form | {"title": "民主评议座谈会", "reply": "明天18:00"}
    response = await post(client, "/console/notices/meeting/new", op="send", **named)
    assert response.status == 303, await response.text()
    page = text_of(await (await client.get(response.headers["Location"])).text())
    assert "民主评议座谈会" in page
    assert max(await meetings_of(runtime), key=lambda m: m.id).title == "民主评议座谈会"


# -- tasks, overview, exports -------------------------------------------------------------------


async def test_tasks_with_colours_and_who_is_not_done(client: Client, clock: FakeClock) -> None:
    runtime = runtime_of(client)
    await say(runtime, "yangfan", "完成 DB-2")
    clock.advance(timedelta(days=1, hours=3))  # DB-2 (明天12:00) is now overdue: red
    await log_in(client, "admin")  # the session of yesterday has expired
    page = await (await client.get("/console/tasks")).text()
    table = page.split('id="tasks"')[1]
    assert table.index("DB-2") < table.index("DB-1")  # red first
    assert 'class="chip red"' in table and 'class="chip yellow"' not in table
    assert "1/5" in table and "赵磊" in table
    overview = await (await client.get("/console/")).text()
    assert "红黄督办" in overview and "DB-2" in overview


async def test_the_overview_panels(client: Client) -> None:
    page = await (await client.get("/console/")).text()
    for text in (
        "待审社情民意",
        "2</strong> 条等待审核",
        "TZ-1",
        "已确认 1/5",
        "HY-1",
        "未回复 3",
    ):
        assert text in page, text


async def test_exports_download_with_an_rfc5987_name(client: Client) -> None:
    runtime = runtime_of(client)
    page = await (await client.get("/console/exports")).text()
    assert "社情民意" in page and "下载" in page
    response = await post(client, "/console/exports/download", key="reports", year="2025")
    assert response.status == 200
    assert response.content_type.endswith("spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="lvzhi-reports-2025.xlsx"; ')
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name.startswith("2025年") and name.endswith(".xlsx")
    assert (await response.read())[:2] == b"PK"  # a zip: the xlsx container
    audit = [r for r in await audit_rows(runtime.db) if r.action == "console.export"]
    assert audit[0].entity_id == "reports" and audit[0].detail["year"] == 2025
    response = await post(client, "/console/exports/download", key="nope", year="2025")
    assert response.status == 400


def test_content_disposition_cannot_be_broken() -> None:
    header = export_page.content_disposition('名册"\r\n.xlsx', 'a"b\\c\r\n.xlsx')
    assert "\r" not in header and "\n" not in header
    assert header.startswith("attachment; filename=\"abc.xlsx\"; filename*=UTF-8''")
    assert "%22" in header and '"' not in header.split("filename*=")[1]


async def test_the_overview_shows_group_sends_waiting_for_their_owner(
    client: Client, clock: FakeClock
) -> None:
    runtime = runtime_of(client)
    now = clock.now()
    async with runtime.db.transaction() as tx:
        await tx.deliveries.enqueue(
            key="notice:9:group:1",
            channel="group",
            target="1",
            payload={"msgtype": "text", "content": "本周五下午集中学习"},
            now=now,
            send_at=None,
            deadline=None,
        )
        [delivery] = [
            d for d in await tx.deliveries.list() if d.idempotency_key == "notice:9:group:1"
        ]
        tx.session.add(
            CustomerGroupSend(
                delivery_id=delivery.id,
                chat_id="wrOgQhDgAAcwMTB7YmDkbeBsgT_KAAAA",
                owner="sunli",
                month="2025-11",
                msgid="msg-1",
                status="awaiting",
                preview="本周五下午集中学习",
                created_at=now,
                next_check_at=now,
                confirmed_at=None,
            )
        )
    page = text_of(await (await client.get("/console/")).text())
    assert "需群主在企业微信中确认后才会发出" in page
    assert "群主 sunli" in page and "本周五下午集中学习" in page
