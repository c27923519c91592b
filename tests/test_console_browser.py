"""The console in a real browser: Playwright for Python driving Debian's Chromium, headless,
against the whole app on loopback — on a desktop (1280 wide) and a phone (390 wide) — saving a
screenshot of each page under ``tests/artifacts/`` (gitignored) for a person to look at.

One browser and two servers serve the whole module (the tests run in order and build on each
other's data):

- the *office* server runs in sandbox mode, empty at first: log in, import the roster by
  upload, use the simulator, compose and schedule a notice, download an export;
- the *WeCom* server talks to the fake WeCom on loopback, after a day of office chat: review
  and adopt a report, and the submitter's notification reaches the fake WeCom.

Skipped, saying why, when ``/usr/bin/chromium`` (``apt-get install chromium``) or the
``playwright`` package (the ``test`` extra) is missing: Playwright cannot download its own
browser here, so it is pointed at the system's.
"""

from __future__ import annotations

import asyncio
import html
import importlib.util
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import FakeClock, SimulatedClock
from bot.console import wecom_login
from bot.delivery.sandbox import SandboxSender
from bot.runtime import Runtime
from tests.conftest import make_config
from tests.console_support import PASSWORD, add_account, import_roster, office_day, say
from tests.fakewecom import FakeWeCom

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ROSTER = Path(__file__).resolve().parent.parent / "examples" / "roster.csv"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--no-pings",
    # Anything not on loopback (which Chromium never proxies) goes to a closed port and fails:
    # the browser cannot reach the network even if some feature tries.
    "--proxy-server=http://127.0.0.1:9",
]

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium: apt-get install -y chromium"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="needs playwright (pip install -e '.[test]')",
    ),
]

REFUSAL_STATUS = "Failed to load resource: the server responded with a status of 400"
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
# Tuesday 2025-11-25 10:00 in Shanghai, as the other tests.
START = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)
# More of the office's day on the WeCom server: a task due today, so a yellow one shows.
MORE_CHAT = (("sunli", "督办 第1学习小组：请于今天18:00前报送本周学习心得"),)


@dataclass
class Served:
    server: TestServer
    runtime: Runtime

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


module_fixture = pytest_asyncio.fixture(scope="module", loop_scope="module")


def config_for(directory: Path, **sections: Any) -> Any:
    return make_config(
        f"sqlite+aiosqlite:///{directory / 'lvzhi.db'}",
        console={"secure_cookies": False},
        scheduler={"enabled": False},
        **sections,
    )


@module_fixture
async def office(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    """Sandbox mode, an empty roster, one admin account."""
    wall = FakeClock(START)
    clock = SimulatedClock(wall)  # as ``lvzhi serve`` in sandbox mode: 快进 moves it, not `wall`
    config = config_for(tmp_path_factory.mktemp("office"))
    app = create_app(config, clock=clock, wall_clock=wall, sender=SandboxSender(clock))
    async with TestServer(app, host="127.0.0.1") as server:
        await add_account(app[RUNTIME].db, "admin", role="admin")
        yield Served(server, app[RUNTIME])


@module_fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom() as fake:
        yield fake


@module_fixture
async def wecom(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeWeCom
) -> AsyncIterator[Served]:
    """WeCom configured (the fake), after a day of office chat; groups reached by robots."""
    clock = FakeClock(START)
    config = config_for(tmp_path_factory.mktemp("wecom"), wecom=fake.wecom_settings())
    app = create_app(config, clock=clock)
    async with TestServer(app, host="127.0.0.1") as server:
        runtime = app[RUNTIME]
        await import_roster(runtime.db)
        async with runtime.db.transaction() as tx:
            for group in await tx.groups.all():
                await tx.groups.set_channel(group, robot_key=f"robot-{group.id}")
        await office_day(runtime)
        for userid, text in MORE_CHAT:
            await say(runtime, userid, text)
        await add_account(runtime.db, "admin", role="admin")
        yield Served(server, runtime)


@module_fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(loop_scope="module")
async def desktop(browser: Any) -> AsyncIterator[Any]:
    async with page_of(browser, DESKTOP) as page:
        yield page


@pytest_asyncio.fixture(loop_scope="module")
async def phone(browser: Any) -> AsyncIterator[Any]:
    async with page_of(browser, PHONE) as page:
        yield page


class page_of:
    """A fresh browser context (no cookies) and its page; fails the test on any script error
    or CSP violation the page reports."""

    def __init__(self, browser: Any, options: dict[str, Any]) -> None:
        self.browser, self.options = browser, options
        self.errors: list[str] = []

    async def __aenter__(self) -> Any:
        self.context = await self.browser.new_context(**self.options, accept_downloads=True)
        page = await self.context.new_page()
        page.on("console", self._on_console)
        page.on("dialog", lambda dialog: dialog.accept())  # "确定导入并更新名册吗？"
        return page

    def _on_console(self, message: Any) -> None:
        # A refused form is answered 400 with the reason on the page: Chromium logs that
        # status too, and it is no script error.
        if message.type == "error" and not message.text.startswith(REFUSAL_STATUS):
            self.errors.append(message.text)

    async def __aexit__(self, *exc: object) -> None:
        await self.context.close()
        if exc[0] is None:
            assert self.errors == []


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


async def log_in(page: Any, served: Served) -> None:
    await page.goto(served.url("/console/"))
    assert "/console/login" in page.url  # signed out: sent to the login page
    await page.fill("input[name=username]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url("**/console/")


async def simulate(page: Any, member: str, text: str, group: str = "") -> str:
    await page.select_option("select[name=member]", member)
    await page.select_option("select[name=group]", group)
    await page.fill("textarea[name=text]", text)
    await page.click("form.simulator button[type=submit]")
    await page.wait_for_selector("#answers")
    return str(await page.inner_text("#answers"))


async def no_sideways_scroll(page: Any, width: int = 390) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, page.url


# -- the office, on a desktop -------------------------------------------------------------------


async def test_import_the_roster_and_use_the_simulator(office: Served, desktop: Any) -> None:
    page = desktop
    await page.goto(office.url("/console/login"))
    await shot(page, "desktop-login")
    await log_in(page, office)

    await page.click("nav >> text=名册")
    await page.set_input_files("input[type=file]", str(ROSTER))
    await page.click("form.upload button[type=submit]")  # confirm() accepted
    await page.wait_for_selector("text=名册导入结果")
    report = await page.inner_text("main")
    assert "新增" in report and "12" in report
    await shot(page, "desktop-import-report")
    await page.click("text=返回名册")
    assert await page.locator("#roster tbody tr").count() == 12
    await page.fill("input[name=q]", "张伟")  # the script filters as one types
    assert await page.locator("#roster tbody tr:visible").count() == 1
    await page.fill("input[name=q]", "")
    await shot(page, "desktop-members")

    # The simulator: a campaign by the admin, a check-in and 帮助 by a member.
    await page.click("nav >> text=模拟器")
    answer = await simulate(
        page, "machao", "开启打卡 第1学习小组 每周 周五20:00提醒 周日21:00汇总"
    )
    assert "第1学习小组" in answer
    answer = await simulate(page, "zhangwei", "打卡 读《乡土中国》30分钟", "第1学习小组")
    assert "1/5" in answer
    answer = await simulate(page, "zhangwei", "帮助")
    assert "履职助手可以帮您" in answer
    assert "秘书可用" not in answer  # a member's help, as the chat shows a member
    answer = await simulate(page, "sunli", "督办 第2学习小组：请于11月27日前提交调研报告")
    assert "已交办督办 DB-1" in answer
    await shot(page, "desktop-simulator")

    await page.click("nav >> text=群组与打卡")
    groups = await page.inner_text("main")
    assert "第1学习小组" in groups and "每周" in groups
    assert "周五20:00" in groups and "周日21:00" in groups  # as the chat says it
    assert "最后一天" not in groups
    await shot(page, "desktop-groups")


async def test_compose_preview_and_schedule_a_notice(office: Served, desktop: Any) -> None:
    page = desktop
    await log_in(page, office)
    await page.click("nav >> text=通知与会议")
    await page.click("text=发布通知")
    await page.check("input[name=to][value=第1学习小组]")
    await page.fill("input[name=others]", "杨帆")
    await page.fill("textarea[name=text]", "请于本周五前提交本季度学习心得，谢谢！")
    await page.check("input[name=timing][value=later]")
    await page.fill("input[name=when]", "明天上午9点")
    await page.click("button[value=preview]")
    await page.wait_for_selector("#preview")
    preview = await page.inner_text("#preview")
    assert "第1学习小组、杨帆" in preview and "6 人，其中 1 人私信" in preview
    assert "2025-11-26 09:00" in preview and "请回复「收到」确认" in preview
    await shot(page, "desktop-notice-preview")
    await page.click("button[value=send]")
    await page.wait_for_url("**/console/notices/view?id=*")
    main = await page.inner_text("main")
    assert "通知已排定" in main and "2025-11-26 09:00" in main and "未确认（6）" in main
    await shot(page, "desktop-notice")
    async with office.runtime.db.read() as tx:
        [notice] = await tx.notices.recent(limit=1)
    assert notice.send_at == datetime(2025, 11, 26, 1, 0, tzinfo=UTC)
    # The picker works too, and the list shows both.
    await page.goto(office.url("/console/notices/new"))
    await page.check("input[name=to][value=全体委员]")
    await page.fill("textarea[name=text]", "12月1日上午全体委员学习会，请准时参加。")
    await page.check("input[name=timing][value=later]")
    await page.fill("input[name=at]", "2025-11-28T08:30")
    await page.click("button[value=send]")
    await page.wait_for_url("**/console/notices/view?id=*")
    assert "2025-11-28 08:30" in await page.inner_text("main")
    # A meeting notice, previewed (the reply deadline defaults to a day before), then sent.
    await page.click("nav >> text=通知与会议")
    await page.click("text=发布会议通知")
    await page.check("input[name=to][value=第2学习小组]")
    await page.select_option("select[name=kind]", "专题协商会")
    await page.fill("input[name=place]", "机关三楼会议室")
    await page.fill("input[name=starts]", "12月3日下午3点")
    await page.fill("textarea[name=text]", "围绕“完善社区养老服务”开展专题协商，请提前准备发言。")
    await page.click("button[value=preview]")
    await page.wait_for_selector("#preview")
    preview = await page.inner_text("#preview")
    assert "5 人" in preview and "2025-12-02 15:00" in preview
    await shot(page, "desktop-meeting-compose")
    await page.click("button[value=send]")
    await page.wait_for_url("**/console/notices/meeting?id=*")
    assert "未回复（5）" in await page.inner_text("main")
    await page.click("nav >> text=通知与会议")
    assert await page.locator("#notices tbody tr").count() == 2
    assert await page.locator("#meetings tbody tr").count() == 1
    await shot(page, "desktop-notices")


async def test_overview_tasks_and_an_export(office: Served, desktop: Any, tmp_path: Path) -> None:
    page = desktop
    await log_in(page, office)
    overview = await page.inner_text("main")
    assert "第1学习小组" in overview and "1/5" in overview
    assert await page.locator("#panel-checkins svg.bar").count() == 1
    assert "投递失败" in overview and "TZ-" not in overview  # scheduled, not yet sent
    await shot(page, "desktop-overview")
    await page.click("nav >> text=督办")
    assert "DB-1" in await page.inner_text("#tasks")
    await shot(page, "desktop-tasks")
    await page.click("nav >> text=导出")
    await shot(page, "desktop-exports")
    async with page.expect_download() as started:
        await page.click("button[name=key][value=members]")
    download = await started.value
    assert download.suggested_filename == "2025年委员履职档案.xlsx"
    saved = tmp_path / "export.xlsx"
    await download.save_as(str(saved))
    assert saved.read_bytes()[:2] == b"PK"
    await page.click("text=退出")
    await page.wait_for_url("**/console/login")


# -- WeCom web login, then review and adopt a report, against the fake WeCom ---------------------


@module_fixture
async def wecom_login_page(fake: FakeWeCom) -> AsyncIterator[str]:
    """WeCom's QR login page as far as the browser sees it: someone (孙丽) scans at once and
    WeCom sends the browser back with a code. Served as ``localhost`` while the console is
    ``127.0.0.1``: another site, so the way back is a real cross-site navigation."""

    async def scanned(request: web.Request) -> web.StreamResponse:
        # Like WeCom's page after a scan: the page itself (another site) sends the browser on.
        query = {"code": fake.login_code("sunli"), "state": request.query["state"]}
        back = html.escape(str(URL(request.query["redirect_uri"]).with_query(query)))
        page = (
            '<!doctype html><link rel="icon" href="data:,">'
            f'<meta http-equiv="refresh" content="0;url={back}">'
        )
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/wwlogin/sso/login", scanned)
    async with TestServer(app, host="127.0.0.1") as server:
        yield f"http://localhost:{server.port}/wwlogin/sso/login"


async def test_sign_in_with_wecom(
    wecom: Served, wecom_login_page: str, desktop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wecom_login, "QR_LOGIN_URL", wecom_login_page)
    page = desktop
    await page.goto(wecom.url("/console/reports"))
    await shot(page, "desktop-login-wecom")
    await page.click("text=企业微信登录")
    # Back from "WeCom", the session cookie (SameSite=Strict) is set on a page that moves on
    # by itself, and the console opens where the secretary was going.
    await page.wait_for_url("**/console/reports")
    assert "孙丽（秘书）" in await page.inner_text("header")
    assert "待审队列" in await page.inner_text("main")


# -- review and adopt a report, against the fake WeCom ------------------------------------------


async def test_review_and_adopt_a_report(wecom: Served, fake: FakeWeCom, desktop: Any) -> None:
    page = desktop
    await log_in(page, wecom)
    await shot(page, "desktop-overview-busy")
    await page.click("nav >> text=社情民意")
    queue = await page.inner_text("#queue")
    assert "SQ-2025-0001" in queue and "SQ-2025-0002" in queue
    await shot(page, "desktop-reports")
    await page.click("#queue >> text=SQ-2025-0001")
    await page.wait_for_url("**/console/reports/view?number=SQ-2025-0001")
    await page.fill("textarea[name=comment]", "内容翔实，予以采用")
    await page.click("button[name=action][value=adopt]")
    await page.wait_for_selector(".alert.success")
    assert await page.inner_text("#report-state") == "已采用"
    assert "已通知提交人（1 人）" in await page.inner_text("main")
    # The submitter's notification goes out through the outbox to WeCom (message/send).
    for _ in range(100):
        told = [a.content for a in fake.delivered("message/send", "zhangwei")]
        if any("已被采用：内容翔实，予以采用" in text for text in told):
            break
        wecom.runtime.worker.wake()
        await asyncio.sleep(0.05)
    else:
        pytest.fail(f"no adoption notice reached WeCom; zhangwei got {told}")
    # Then forward it, and the history shows both steps.
    await page.select_option("select[name=forward_level]", "省政协")
    await page.click("button[name=action][value=forward]")
    await page.wait_for_selector("text=已报送，已通知提交人")
    timeline = await page.inner_text(".timeline")
    assert "采用" in timeline and "报送 省政协" in timeline
    await shot(page, "desktop-report")
    await page.goto(wecom.url("/console/notices/meeting?id=1"))
    assert "出差在外" in await page.inner_text("main")
    await shot(page, "desktop-meeting")
    await page.goto(wecom.url("/console/tasks"))
    colours = await page.locator("#tasks .chip").all_inner_texts()
    assert colours[:2] == ["黄色", "蓝色"]
    await shot(page, "desktop-tasks-colours")


# -- every page on a phone ----------------------------------------------------------------------


async def test_every_page_on_a_phone(
    office: Served, wecom: Served, phone: Any, tmp_path: Path
) -> None:
    page = phone
    await page.goto(office.url("/console/login"))
    await shot(page, "phone-login")
    await log_in(page, office)
    # A roster with rows it cannot use, previewed: the report names each row and why.
    roster = tmp_path / "名册.csv"
    roster.write_text(
        ROSTER.read_text(encoding="utf-8")
        + ",13800138099,nobody,经济界,经济委,第2学习小组,委员\n"
        + "重复,13800138001,dup,经济界,经济委,第2学习小组,委员\n",
        encoding="utf-8",
    )
    await page.goto(office.url("/console/members"))
    await page.set_input_files("input[type=file]", str(roster))
    await page.check("input[name=dry_run]")  # preview first: nothing is written
    await page.click("form.upload button[type=submit]")
    await page.wait_for_selector("text=名册导入结果")
    report = await page.inner_text("main")
    assert "仅预览" in report and "被拒绝的行" in report
    assert "第14行" in report and "第15行" in report
    await no_sideways_scroll(page)
    await shot(page, "phone-import-preview")
    await page.goto(office.url("/console/simulator"))
    answer = await simulate(page, "zhangwei", "帮助")
    assert "履职助手可以帮您" in answer
    await no_sideways_scroll(page)
    await shot(page, "phone-simulator")

    await log_in(page, wecom)
    for name, path in [
        ("overview", "/console/"),
        ("reports", "/console/reports"),
        ("report", "/console/reports/view?number=SQ-2025-0002"),
        ("notices", "/console/notices"),
        ("notice-compose", "/console/notices/new"),
        ("meeting-compose", "/console/notices/meeting/new"),
        ("notice", "/console/notices/view?id=1"),
        ("meeting", "/console/notices/meeting?id=1"),
        ("tasks", "/console/tasks"),
        ("members", "/console/members"),
        ("groups", "/console/groups"),
        ("exports", "/console/exports"),
    ]:
        response = await page.goto(wecom.url(path))
        assert response.status == 200, path
        await no_sideways_scroll(page)
        await shot(page, f"phone-{name}")


# -- watching time pass (last: it moves the office's clock) -------------------------------------


async def test_fast_forward_shows_the_week_go_by(office: Served, desktop: Any) -> None:
    """快进 in the simulator: the office's weekly campaign (Friday 20:00 reminder, Sunday 21:00
    summary, opened in the first test) fires at its own minutes, and only in the sandbox."""
    page = desktop
    await log_in(page, office)
    await page.click("nav >> text=模拟器")
    before = await page.inner_text("#simulated-now")
    await page.fill("input[name=until]", "2025-11-30T22:00")
    await page.click("form.fast-forward button[type=submit]")
    await page.wait_for_selector("#forwarded")
    shown = await page.inner_text("#forwarded")
    rows = [line for line in shown.splitlines() if line.startswith("2025-")]
    assert "至 2025-11-30 22:00" in shown and before in shown
    reminder = next(line for line in rows if "【打卡提醒】" in line)
    assert reminder.startswith("2025-11-28 20:00") and "group:第1学习小组" in reminder
    summary = next(line for line in rows if "【打卡汇总】第1学习小组" in line)
    assert summary.startswith("2025-11-30 21:00")
    assert "2025-11-30 22:00" in await page.inner_text("#simulated-now")
    assert office.runtime.clock.now() == datetime(2025, 11, 30, 14, 0, tzinfo=UTC)
    await shot(page, "desktop-fast-forward")
    # Time only goes forward, and a refusal says why.
    await page.fill("input[name=until]", "2025-11-29T09:00")
    await page.click("form.fast-forward button[type=submit]")
    await page.wait_for_selector("p.alert.error")
    assert "时间只能向前走" in await page.inner_text("p.alert.error")
    assert office.runtime.real_now() == START  # sessions and the audit log keep real time
