"""WeCom web login (企业微信扫码登录 / 网页授权) to the console, against the fake WeCom on
loopback: the redirect to WeCom with a state bound to this browser, the callback's code
turned into a userid by ``auth/getuserinfo``, and who gets a session (roster secretaries and
admins) and who does not (members, strangers, a forged or replayed callback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.clock import FakeClock
from bot.config import build_config
from bot.console import wecom_login
from storage import Database
from tests.conftest import make_config
from tests.console_support import audit_rows, import_roster, session_csrf
from tests.fakewecom import FakeWeCom

Client = TestClient[Any, Any]
SESSION = "lvzhi_console"
STATE = "lvzhi_wecom"


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom() as fake:
        yield fake


@pytest.fixture
async def client(sqlite_url: str, clock: FakeClock, fake: FakeWeCom) -> AsyncIterator[Client]:
    """The app with WeCom configured (pointing at the fake) and the example roster."""
    config = make_config(
        sqlite_url,
        console={"secure_cookies": False, "max_failed_logins_per_ip": 3},
        scheduler={"enabled": False},
        wecom=fake.wecom_settings(),
    )
    async with TestClient(TestServer(create_app(config, clock=clock))) as client:
        await import_roster(db_of(client))
        yield client


def db_of(client: Client) -> Database:
    return client.app[RUNTIME].db


async def start(client: Client, **headers: str) -> dict[str, str]:
    """Press the button: where WeCom is asked to send the browser back, and with what."""
    response = await client.get(
        "/console/login/wecom?next=/console/reports", allow_redirects=False, headers=headers
    )
    assert response.status == 303
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


async def come_back(client: Client, code: str | None, state: str) -> Any:
    query = {"state": state} | ({"code": code} if code is not None else {})
    return await client.get("/console/login/wecom/callback", params=query, allow_redirects=False)


async def test_the_login_page_offers_wecom_only_where_it_is_configured(
    client: Client, sqlite_url: str, clock: FakeClock
) -> None:
    assert "企业微信登录" in await (await client.get("/console/login")).text()
    sandbox = make_config(sqlite_url, console={"secure_cookies": False})
    async with TestClient(TestServer(create_app(sandbox, clock=clock))) as other:
        assert "企业微信登录" not in await (await other.get("/console/login")).text()
        assert (await other.get("/console/login/wecom", allow_redirects=False)).status == 303
        # (303 to the login page: without WeCom the route does not exist, so it needs login)


async def test_qr_login_in_a_browser_and_oauth_inside_wecom(
    client: Client, fake: FakeWeCom
) -> None:
    response = await client.get("/console/login/wecom", allow_redirects=False)
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == wecom_login.QR_LOGIN_URL
    query = parse_qs(location.query)
    assert query["login_type"] == ["CorpApp"]
    assert query["appid"] == [fake.corp_id] and query["agentid"] == [str(fake.agent_id)]
    assert query["redirect_uri"][0].endswith("/console/login/wecom/callback")
    state = query["state"][0]
    assert len(state) == 32 and state.isalnum()
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{STATE}={state}.") and "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie and "Max-Age=600" in cookie
    response = await client.get(
        "/console/login/wecom",
        allow_redirects=False,
        headers={"User-Agent": "Mozilla/5.0 wxwork/4.1.22 MicroMessenger/7.0.1"},
    )
    location = urlsplit(response.headers["Location"])
    assert location.geturl().startswith(wecom_login.OAUTH_URL + "?")
    assert location.fragment == "wechat_redirect"
    assert parse_qs(location.query)["scope"] == ["snsapi_base"]


async def test_a_secretary_signs_in_with_wecom(client: Client, fake: FakeWeCom) -> None:
    query = await start(client)
    response = await come_back(client, fake.login_code("sunli"), query["state"])
    assert response.status == 200
    html = await response.text()
    assert "登录成功" in html and 'content="0;url=/console/reports"' in html
    session = next(c for c in response.headers.getall("Set-Cookie") if c.startswith(SESSION))
    assert "SameSite=Strict" in session and "HttpOnly" in session
    page = await client.get("/console/reports", allow_redirects=False)
    assert page.status == 200 and "孙丽（秘书）" in await page.text()
    assert fake.counts["auth/getuserinfo"] == 1
    async with db_of(client).read() as tx:
        account = await tx.console.user_by_name("wx:sunli")
    assert account is not None and account.role == "secretary"
    rows = [(r.actor, r.action, r.detail.get("method")) for r in await audit_rows(db_of(client))]
    assert ("console:wecom-login", "console.user_add", None) in rows
    assert ("console:wx:sunli", "console.login", "wecom") in rows
    # Next time the same account is used, not a second one.
    query = await start(client)
    assert (await come_back(client, fake.login_code("sunli"), query["state"])).status == 200
    async with db_of(client).read() as tx:
        assert len([u for u in await tx.console.users() if u.username.startswith("wx:")]) == 1


@pytest.mark.parametrize(
    ("who", "status", "message"),
    [
        ("zhangwei", 403, "无权使用管理后台"),  # a member (委员) of the roster
        ("nobody", 403, "无权使用管理后台"),  # in the corp, not in the roster
        ("openid:o_stranger", 403, "不是本单位企业微信成员"),  # not in the corp at all
    ],
)
async def test_who_is_refused(
    client: Client, fake: FakeWeCom, who: str, status: int, message: str
) -> None:
    query = await start(client)
    response = await come_back(client, fake.login_code(who), query["state"])
    assert response.status == status
    assert message in await response.text()
    assert not any(c.startswith(SESSION + "=") and "Max-Age=0" not in c for c in cookies(response))
    assert (await client.get("/console/", allow_redirects=False)).status == 303
    async with db_of(client).read() as tx:
        assert [u for u in await tx.console.users() if u.username.startswith("wx:")] == []


def cookies(response: Any) -> list[str]:
    return list(response.headers.getall("Set-Cookie", []))


async def test_a_forged_or_replayed_callback_is_refused(client: Client, fake: FakeWeCom) -> None:
    code = fake.login_code("machao")
    # No login started in this browser (someone else's link, or login CSRF): refused before
    # the code is even looked at.
    response = await come_back(client, code, "0" * 32)
    assert response.status == 403 and "state" in await response.text()
    query = await start(client)
    response = await come_back(client, code, "f" * 32)  # a state of another attempt
    assert response.status == 403
    assert fake.counts["auth/getuserinfo"] == 0
    # That attempt is over (its cookie cleared). A new one with the right state and code
    # works, once: the state cookie is then gone, so a replay fails.
    query = await start(client)
    response = await come_back(client, code, query["state"])
    assert response.status == 200
    assert (await come_back(client, code, query["state"])).status == 403


async def test_a_code_wecom_refuses_or_a_declined_login(client: Client, fake: FakeWeCom) -> None:
    query = await start(client)
    response = await come_back(client, "made-up-code", query["state"])
    assert response.status == 401 and "重新扫码" in await response.text()
    query = await start(client)
    response = await come_back(client, None, query["state"])  # declined on WeCom's page
    assert response.status == 401 and "已取消" in await response.text()
    failed = [r for r in await audit_rows(db_of(client)) if r.action == "console.login_failed"]
    assert [r.detail["reason"] for r in failed] == ["bad_code", "declined"]


async def test_failures_count_towards_the_address_lockout(client: Client, fake: FakeWeCom) -> None:
    for _ in range(3):  # max_failed_logins_per_ip = 3 here
        query = await start(client)
        assert (await come_back(client, "bad", query["state"])).status == 401
    query = await start(client)
    response = await come_back(client, fake.login_code("sunli"), query["state"])
    assert response.status == 429
    assert fake.counts["auth/getuserinfo"] == 3  # locked: WeCom is not even asked


def test_public_url_must_be_an_origin() -> None:
    for bad in ("lvzhi.example.gov.cn", "https://lvzhi.example.gov.cn/console"):
        with pytest.raises(Exception, match="public_url"):
            build_config({"console": {"public_url": bad}}, environ={})
    config = build_config({"console": {"public_url": "https://lvzhi.example.gov.cn/"}}, environ={})
    assert config.console.public_url == "https://lvzhi.example.gov.cn/"


async def test_public_url_makes_the_redirect_uri(
    sqlite_url: str, clock: FakeClock, fake: FakeWeCom
) -> None:
    config = make_config(
        sqlite_url,
        console={"secure_cookies": False, "public_url": "https://lvzhi.example.gov.cn"},
        wecom=fake.wecom_settings(),
    )
    async with TestClient(TestServer(create_app(config, clock=clock))) as client:
        query = await start(client)
    assert query["redirect_uri"] == "https://lvzhi.example.gov.cn/console/login/wecom/callback"


# -- a roster import cannot hand someone else's console access to a secretary ------------------


async def sign_in_as(client: Client, fake: FakeWeCom, userid: str) -> Any:
    client.session.cookie_jar.clear()
    query = await start(client)
    return await come_back(client, fake.login_code(userid), query["state"])


async def upload(client: Client, csv: str) -> Any:
    token = await session_csrf(client)
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("file", csv.encode(), filename="roster.csv", content_type="text/csv")
    return await client.post("/console/members/import", data=form)


async def member_row(client: Client, userid: str) -> tuple[str | None, str | None, str] | None:
    async with db_of(client).read() as tx:
        member = await tx.members.by_userid(userid)
    return None if member is None else (member.userid, member.mobile, member.role)


@pytest.mark.parametrize(
    "row",
    [
        "马超,13800138012,sunli2,",  # the admin's mobile, a userid of the secretary's
        "马超,13800138012,sunli2,委员",  # … and unmaking the admin while at it
        "马超,13900000000,machao,",  # the admin's mobile
        "马超,13800138012,machao,管理员,1",  # anything else of an admin (here a study group)
        "孙丽,13800138011,sunli2,",  # a secretary's userid (her own, too)
        "孙丽,13900000000,sunli,",  # a secretary's mobile
        "张伟,13800138001,zhangwei,秘书",  # making a secretary
        "孙丽,13800138011,sunli,委员",  # unmaking one
        "新人,13900000001,sunli2,秘书",  # a new secretary
        "新人,13900000001,sunli2,管理员",  # a new admin
    ],
)
async def test_a_secretary_import_cannot_change_office_staff(
    client: Client, fake: FakeWeCom, row: str
) -> None:
    assert (await sign_in_as(client, fake, "sunli")).status == 200
    before = [await member_row(client, u) for u in ("machao", "sunli", "zhangwei")]
    header = "姓名,手机号,企业微信账号,角色,学习小组"
    response = await upload(client, f"{header}\n{row}\n王芳,13800138003,wangfang,,第9学习小组\n")
    assert response.status == 400, row
    assert "只有管理员可以导入" in await response.text()
    # Refused whole: nothing changed, not even the harmless row.
    assert [await member_row(client, u) for u in ("machao", "sunli", "zhangwei")] == before
    async with db_of(client).read() as tx:
        assert "第9学习小组" not in await tx.members.study_groups()
    # The secretary's second WeCom account is nobody's console account.
    response = await sign_in_as(client, fake, "sunli2")
    assert response.status == 403
    assert (await sign_in_as(client, fake, "machao")).status == 200
    assert "马超（管理员）" in await (await client.get("/console/reports")).text()


async def test_a_secretary_may_still_import_members_and_staff_details(
    client: Client, fake: FakeWeCom
) -> None:
    assert (await sign_in_as(client, fake, "sunli")).status == 200
    header = "姓名,手机号,企业微信账号,界别,角色"
    csv = f"{header}\n张伟,13800138001,zhangwei,经济界,\n孙丽,13800138011,sunli,中共界,秘书\n"
    assert (await upload(client, csv)).status == 200
    async with db_of(client).read() as tx:
        zhangwei = await tx.members.by_userid("zhangwei")
        sunli = await tx.members.by_userid("sunli")
    assert zhangwei is not None and zhangwei.sector == "经济界"
    assert sunli is not None and sunli.sector == "中共界" and sunli.role == "secretary"


async def test_an_admin_may_change_staff_and_the_console_account_follows_the_member(
    client: Client, fake: FakeWeCom
) -> None:
    assert (await sign_in_as(client, fake, "machao")).status == 200
    assert (await sign_in_as(client, fake, "sunli")).status == 200  # wx:sunli exists now
    assert (await sign_in_as(client, fake, "machao")).status == 200
    csv = (
        "姓名,手机号,企业微信账号,角色\n"
        "孙丽,13800138011,sunli_new,\n"
        "新秘书,13900000002,sunli,秘书\n"
    )
    assert (await upload(client, csv)).status == 200
    # Her account (wx:sunli) follows her to her new userid; the reused userid gets none of it.
    response = await sign_in_as(client, fake, "sunli_new")
    assert response.status == 200
    assert "孙丽（秘书）" in await (await client.get("/console/reports")).text()
    assert (await sign_in_as(client, fake, "sunli")).status == 200
    page = await (await client.get("/console/reports")).text()
    assert "新秘书（秘书）" in page and "孙丽" not in page
