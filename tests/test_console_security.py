"""The web console's security, over HTTP against the whole app (aiohttp's TestServer, no
browser): login required everywhere, CSRF, lockout, roles, cookies, audit, no passwords kept."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.cli import main
from bot.clock import FakeClock
from bot.config import Config
from bot.delivery.base import Address, Outcome, Sent
from bot.delivery.sandbox import SandboxSender
from storage import Database
from storage.models import Member
from tests.conftest import make_config
from tests.console_support import (
    PASSWORD,
    add_account,
    add_member,
    audit_rows,
    csrf_of,
    log_in,
    office_day,
    session_csrf,
)

ROSTER = (Path(__file__).resolve().parent.parent / "examples" / "roster.csv").read_bytes()
GOOD_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
Client = TestClient[Any, Any]


def console_config(sqlite_url: str, **console: Any) -> Config:
    return make_config(
        sqlite_url,
        console={"secure_cookies": False, "max_failed_logins": 3, **console},
        scheduler={"enabled": False},
    )


@pytest.fixture
async def client(db_url: str, clock: FakeClock) -> AsyncIterator[Client]:
    """The whole app, signed out, on each backend (PostgreSQL when configured)."""
    app = create_app(console_config(db_url), clock=clock, sender=SandboxSender(clock))
    async with TestClient(TestServer(app)) as client:
        yield client


def db_of(client: Client) -> Database:
    return client.app[RUNTIME].db


def console_routes(client: Client) -> list[tuple[str, str]]:
    """Every (method, path) the console serves that is not public, from its router: a page
    a feature adds later is covered without touching this test."""
    found = []
    for resource in client.app.router.resources():
        app = getattr(resource, "_app", None)
        if app is None:
            continue
        for route in app.router.routes():
            name = route.name or ""
            if name.startswith("console.public.") or route.method == "HEAD":
                continue
            path = route.resource.canonical if route.resource else ""
            found.append((route.method, path))
    return found


async def test_every_page_and_action_redirects_to_login_when_signed_out(client: Client) -> None:
    routes = console_routes(client)
    assert {path for _, path in routes} >= {
        "/console/",
        "/console/members",
        "/console/members/import",
        "/console/groups",
        "/console/simulator",
        "/console/logout",
        "/console/reports",
        "/console/reports/view",
        "/console/reports/act",
        "/console/notices",
        "/console/notices/new",
        "/console/notices/view",
        "/console/notices/remind",
        "/console/notices/meeting",
        "/console/notices/meeting/remind",
        "/console/notices/meeting/new",
        "/console/tasks",
        "/console/exports",
        "/console/exports/download",
    }
    for method, path in [*routes, ("GET", "/console/no-such-page"), ("POST", "/console/")]:
        response = await client.request(method, path, allow_redirects=False)
        assert response.status == 303, (method, path)
        assert response.headers["Location"].startswith("/console/login"), (method, path)
    response = await client.get("/console/members?q=x", allow_redirects=False)
    location = URL(response.headers["Location"])
    assert (location.path, location.query["next"]) == ("/console/login", "/console/members?q=x")
    response = await client.get("/console", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (301, "/console/")


async def test_a_forged_or_expired_session_is_signed_out(client: Client, clock: FakeClock) -> None:
    await add_account(db_of(client), "mishu")
    client.session.cookie_jar.update_cookies({"lvzhi_console": "forged"})
    response = await client.get("/console/", allow_redirects=False)
    assert response.status == 303
    assert (await log_in(client, "mishu")).status == 303
    assert (await client.get("/console/", allow_redirects=False)).status == 200
    clock.advance(timedelta(hours=12, seconds=1))  # [console] session_hours: server-side
    response = await client.get("/console/", allow_redirects=False)
    assert response.status == 303


async def test_login_page_and_static_files_are_public(client: Client) -> None:
    page = await client.get("/console/login")
    assert page.status == 200
    assert "登录管理后台" in await page.text()
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    css = await client.get("/console/static/console.css")
    assert css.status == 200


async def test_login_then_pages_then_logout(client: Client) -> None:
    await add_account(db_of(client), "mishu")
    response = await log_in(client, "mishu")
    assert (response.status, response.headers["Location"]) == (303, "/console/")
    for path, text in [
        ("/console/", "打卡率"),
        ("/console/members", "导入名册"),
        ("/console/groups", "打卡活动"),
        ("/console/simulator", "沙箱频道"),
    ]:
        page = await client.get(path)
        assert page.status == 200, path
        assert text in await page.text(), path
    token = await session_csrf(client)
    response = await client.post(
        "/console/logout", data={"csrf_token": token}, allow_redirects=False
    )
    assert (response.status, response.headers["Location"]) == (303, "/console/login")
    assert (await client.get("/console/", allow_redirects=False)).status == 303


async def test_after_login_only_console_paths_are_followed(client: Client) -> None:
    await add_account(db_of(client), "mishu")
    for wanted, landed in [
        ("/console/groups", "/console/groups"),
        ("//evil.example/console/", "/console/"),
        ("https://evil.example/", "/console/"),
        ("/healthz", "/console/"),
    ]:
        page = await client.get("/console/login", params={"next": wanted})
        html = await page.text()
        response = await client.post(
            "/console/login",
            data={
                "csrf_token": csrf_of(html),
                "username": "mishu",
                "password": PASSWORD,
                "next": wanted,
            },
            allow_redirects=False,
        )
        assert response.headers["Location"] == landed, wanted


# -- CSRF ---------------------------------------------------------------------------------------


async def counts(db: Database) -> tuple[int, int, int]:
    async with db.read() as tx:
        members = await tx.members.count()
        inbound = await tx.inbound.count()
        audit = len(await tx.audit.recent(1000))
    return members, inbound, audit


def roster_form(token: str | None, *, token_first: bool = True) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if token is not None and token_first:
        form.add_field("csrf_token", token)
    form.add_field("file", ROSTER, filename="roster.csv", content_type="text/csv")
    if token is not None and not token_first:
        form.add_field("csrf_token", token)
    return form


async def test_csrf_missing_or_wrong_is_refused_and_nothing_changes(client: Client) -> None:
    db = db_of(client)
    await add_account(db, "admin", role="admin")
    await add_member(db, "zhangwei", "张伟")
    await log_in(client, "admin")
    token = await session_csrf(client)
    before = await counts(db)
    attempts = [
        ("/console/simulator", {"member": "zhangwei", "text": "帮助"}),
        ("/console/simulator", {"member": "zhangwei", "text": "帮助", "csrf_token": "x" * 43}),
        ("/console/simulator", {"member": "zhangwei", "text": "帮助", "csrf_token": ""}),
        ("/console/logout", {}),
    ]
    for path, data in attempts:
        response = await client.post(path, data=data, allow_redirects=False)
        assert response.status == 403, (path, data)
        assert "CSRF" in await response.text()
    for form in (
        roster_form(None),
        roster_form("wrong-token"),
        roster_form(token, token_first=False),  # checked before the file is read: first
    ):
        response = await client.post("/console/members/import", data=form)
        assert response.status == 403
    assert await counts(db) == before
    assert (await client.get("/console/", allow_redirects=False)).status == 200  # still in
    # The right token works (and so the refusals above were about the token alone).
    response = await client.post("/console/members/import", data=roster_form(token))
    assert response.status == 200
    assert (await counts(db))[0] > before[0]  # members were added


# Every form the pages post, filled in as the page would (only the token is missing or wrong).
PAGE_FORMS = {
    "/console/reports/act": {"number": "SQ-2025-0001", "action": "adopt", "comment": "好"},
    "/console/notices/new": {"to": "第1学习小组", "text": "开会", "op": "send"},
    "/console/notices/remind": {"id": "1"},
    "/console/notices/meeting/remind": {"id": "1"},
    "/console/notices/meeting/new": {"to": "第1学习小组", "starts": "明天下午3点", "text": "会"},
    "/console/exports/download": {"key": "reports", "year": "2025"},
    "/console/simulator": {"member": "zhangwei", "text": "帮助"},
    "/console/proposals/act": {"number": "TA-2025-0001", "action": "accept"},
    "/console/activities/act": {
        "action": "bulk",
        "table": "姓名,日期,类型,内容\n张伟,2025-11-20,调研,x",
    },
}


async def everything(db: Database) -> tuple[object, ...]:
    """What any console action could change: rows, states, deliveries, marks, the audit."""
    async with db.read() as tx:
        report = await tx.reports.by_number("SQ-2025-0001")
        return (
            *(await counts(db)),
            report.state if report else None,
            len(await tx.notices.recent(limit=1000)),
            len(await tx.deliveries.list(limit=100_000)),
            sorted(key for key, _ in await tx.console_views.marks("")),
        )


async def test_csrf_is_refused_on_every_page_action(client: Client) -> None:
    db = db_of(client)
    await office_day(client.app[RUNTIME])
    await add_account(db, "admin", role="admin")
    await log_in(client, "admin")
    posts = {path for method, path in console_routes(client) if method == "POST"}
    assert posts == {*PAGE_FORMS, "/console/logout", "/console/members/import"}
    before = await everything(db)
    for path, form in PAGE_FORMS.items():
        for token in (None, "", "x" * 43):
            data = form if token is None else {**form, "csrf_token": token}
            response = await client.post(path, data=data, allow_redirects=False)
            assert response.status == 403, (path, token)
            assert "CSRF" in await response.text()
    assert await everything(db) == before
    # The same forms with the session's token are accepted (the refusals were the token's).
    token = await session_csrf(client)
    response = await client.post(
        "/console/reports/act",
        data={**PAGE_FORMS["/console/reports/act"], "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303


async def test_a_member_account_reaches_no_page_and_no_action(client: Client) -> None:
    db = db_of(client)
    await office_day(client.app[RUNTIME])
    sunli = await member_named(db, "sunli")
    await add_account(db, "sunli", member=sunli)
    assert (await log_in(client, "sunli")).status == 303
    token = await session_csrf(client)
    async with db.transaction() as tx:  # the roster makes her a member (委员)
        found = await tx.members.by_userid("sunli")
        assert found is not None
        found.role = "member"
    before = await everything(db)
    for method, path in console_routes(client):
        data = {**PAGE_FORMS.get(path, {}), "csrf_token": token} if method == "POST" else None
        response = await client.request(method, path, data=data, allow_redirects=False)
        assert response.status == 303, (method, path)
        assert response.headers["Location"].startswith("/console/login"), (method, path)
    assert await everything(db) == before


async def member_named(db: Database, userid: str) -> Member:
    async with db.read() as tx:
        member = await tx.members.by_userid(userid)
    assert member is not None
    return member


async def test_the_login_form_has_its_own_csrf_check(client: Client) -> None:
    await add_account(db_of(client), "mishu")
    response = await client.post(
        "/console/login",
        data={"username": "mishu", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 403
    page = await client.get("/console/login")
    client.session.cookie_jar.clear()  # the token in the form, but not its cookie
    response = await client.post(
        "/console/login",
        data={"csrf_token": csrf_of(await page.text()), "username": "mishu", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 403


# -- lockout ------------------------------------------------------------------------------------


async def test_lockout_after_repeated_failures_even_for_the_right_password(
    client: Client, clock: FakeClock
) -> None:
    db = db_of(client)
    await add_account(db, "mishu")
    for _ in range(3):  # [console] max_failed_logins = 3 in these tests
        response = await log_in(client, "mishu", "wrong password!")
        assert response.status == 401
        assert "用户名或密码不正确" in await response.text()
    response = await log_in(client, "mishu")
    assert response.status == 429
    assert "锁定" in await response.text()
    clock.advance(timedelta(minutes=14))
    assert (await log_in(client, "mishu")).status == 429  # attempts while locked do not count
    clock.advance(timedelta(minutes=1, seconds=1))
    response = await log_in(client, "mishu")
    assert (response.status, response.headers["Location"]) == (303, "/console/")


async def test_a_success_clears_the_count(client: Client) -> None:
    await add_account(db_of(client), "mishu")
    for _ in range(2):
        await log_in(client, "mishu", "wrong password!")
    assert (await log_in(client, "mishu")).status == 303
    for _ in range(2):
        await log_in(client, "mishu", "wrong password!")
    assert (await log_in(client, "mishu")).status == 303


async def test_lockout_per_client_address(sqlite_url: str, clock: FakeClock) -> None:
    config = console_config(
        sqlite_url,
        max_failed_logins=10,
        max_failed_logins_per_ip=4,
        trusted_proxies=["127.0.0.1", "::1"],  # a proxy on this machine, named as such
    )
    app = create_app(config, clock=clock, sender=SandboxSender(clock))
    async with TestClient(TestServer(app)) as client:
        await add_account(db_of(client), "mishu")
        attacker = {"X-Forwarded-For": "203.0.113.9"}  # as a proxy on loopback appends it
        for n in range(4):  # spraying different usernames from one address
            response = await log_in(client, f"user{n}", "guess-guess", headers=attacker)
            assert response.status == 401
        assert (await log_in(client, "mishu", headers=attacker)).status == 429
        # Whatever the client itself wrote before the proxy's entry changes nothing.
        spoofed = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
        assert (await log_in(client, "mishu", headers=spoofed)).status == 429
        other = {"X-Forwarded-For": "198.51.100.7"}
        assert (await log_in(client, "mishu", headers=other)).status == 303


@pytest.mark.parametrize("trusted", [[], ["10.0.0.0/8"]])
async def test_forwarding_headers_from_untrusted_peers_do_not_dodge_the_lockout(
    sqlite_url: str, clock: FakeClock, trusted: list[str]
) -> None:
    """By default no proxy is trusted (nor one that is not this peer): a fresh
    X-Forwarded-For on every try is still one address, and it is locked out."""
    config = console_config(
        sqlite_url, max_failed_logins=10, max_failed_logins_per_ip=4, trusted_proxies=trusted
    )
    app = create_app(config, clock=clock, sender=SandboxSender(clock))
    async with TestClient(TestServer(app)) as client:
        await add_account(db_of(client), "mishu")
        for n in range(4):
            headers = {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"}
            response = await log_in(client, f"user{n}", "guess-guess", headers=headers)
            assert response.status == 401
        fresh = {"X-Forwarded-For": "192.0.2.77"}
        assert (await log_in(client, "mishu", headers=fresh)).status == 429
        assert (await log_in(client, "mishu")).status == 429


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(Exception, match="trusted_proxies"):
        make_config("sqlite+aiosqlite:///x.db", console={"trusted_proxies": ["nginx"]})
    config = make_config("sqlite+aiosqlite:///x.db", console={"trusted_proxies": ["10.0.0.0/8"]})
    assert config.console.trusted_proxies == ("10.0.0.0/8",)


# -- roles --------------------------------------------------------------------------------------


async def test_member_accounts_have_no_console(client: Client) -> None:
    db = db_of(client)
    member = await add_member(db, "sunli", "孙丽", role="secretary")
    await add_account(db, "sunli", member=member)
    assert (await log_in(client, "sunli")).status == 303
    assert (await client.get("/console/", allow_redirects=False)).status == 200
    async with db.transaction() as tx:  # the roster demotes her to 委员
        found = await tx.members.by_userid("sunli")
        assert found is not None
        found.role = "member"
    # Her open session stops working at once, and she cannot sign in again.
    assert (await client.get("/console/", allow_redirects=False)).status == 303
    response = await log_in(client, "sunli")
    assert response.status == 403
    assert "无权使用管理后台" in await response.text()
    # An account whose own role is member (never created by the CLI, but possible in the
    # table) is refused the same way.
    await add_account(db, "weiyuan", role="member")
    assert (await log_in(client, "weiyuan")).status == 403


async def test_a_secretary_cannot_import_admin_roles(client: Client) -> None:
    db = db_of(client)
    await add_account(db, "mishu")
    await log_in(client, "mishu")
    before = await counts(db)
    token = await session_csrf(client)
    response = await client.post("/console/members/import", data=roster_form(token))
    assert response.status == 400
    assert "只有管理员可以导入" in await response.text()
    assert (await counts(db))[0] == before[0]


async def test_a_secretary_cannot_simulate_an_admin(client: Client) -> None:
    db = db_of(client)
    await add_member(db, "machao", "马超", role="admin")
    await add_account(db, "mishu")
    await log_in(client, "mishu")
    token = await session_csrf(client)
    response = await client.post(
        "/console/simulator", data={"csrf_token": token, "member": "machao", "text": "帮助"}
    )
    assert response.status == 400
    assert "秘书不能以管理员的身份发送消息" in await response.text()


class Recorder:
    """A real-WeCom stand-in: anything reaching it would have gone to WeCom."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, address: Address, message: dict[str, Any]) -> Outcome:
        self.sent.append(message)
        return Sent()


async def test_the_simulator_refuses_when_wecom_is_configured(
    sqlite_url: str, clock: FakeClock
) -> None:
    config = make_config(
        sqlite_url,
        console={"secure_cookies": False},
        scheduler={"enabled": False},
        wecom={
            "corp_id": "ww1",
            "agent_id": 1000002,
            "secret": "s",
            "token": "t",
            "encoding_aes_key": GOOD_KEY,
        },
    )
    recorder = Recorder()
    async with TestClient(TestServer(create_app(config, clock=clock, sender=recorder))) as client:
        db = db_of(client)
        await add_member(db, "zhangwei", "张伟")
        await add_account(db, "admin", role="admin")
        await log_in(client, "admin")
        page = await client.get("/console/simulator")
        html = await page.text()
        assert "模拟器只在沙箱模式下可用" in html
        token = await session_csrf(client)
        response = await client.post(
            "/console/simulator", data={"csrf_token": token, "member": "zhangwei", "text": "帮助"}
        )
        assert response.status == 403
        await client.app[RUNTIME].worker.drain()
        assert recorder.sent == []
        async with db.read() as tx:
            assert await tx.inbound.count() == 0


# -- cookies, audit, passwords ------------------------------------------------------------------


async def test_session_cookie_flags(sqlite_url: str, clock: FakeClock) -> None:
    app = create_app(
        console_config(sqlite_url, secure_cookies=True), clock=clock, sender=SandboxSender(clock)
    )
    async with TestClient(TestServer(app)) as client:
        await add_account(db_of(client), "mishu")
        page = await client.get("/console/login")
        login_cookie = page.headers["Set-Cookie"]
        assert login_cookie.startswith("__Host-lvzhi_login=")
        # A Secure cookie is not sent back over http://, so post its value by hand.
        token = csrf_of(await page.text())
        response = await client.post(
            "/console/login",
            data={"csrf_token": token, "username": "mishu", "password": PASSWORD},
            headers={"Cookie": f"__Host-lvzhi_login={token}"},
            allow_redirects=False,
        )
        assert response.status == 303
        cookies = response.headers.getall("Set-Cookie")
        session = next(c for c in cookies if c.startswith("__Host-lvzhi_console="))
        attributes = {part.strip().split("=")[0].lower(): part for part in session.split(";")}
        assert "secure" in attributes
        assert "httponly" in attributes
        assert attributes["samesite"].strip() == "SameSite=Strict"
        assert attributes["path"].strip() == "Path=/"
        assert "domain" not in attributes
        value = session.split(";")[0].split("=", 1)[1]
        assert len(value) >= 43  # 256 bits, url-safe base64


async def test_session_cookie_flags_on_plain_http(client: Client) -> None:
    await add_account(db_of(client), "mishu")
    response = await log_in(client, "mishu")
    session = next(
        c for c in response.headers.getall("Set-Cookie") if c.startswith("lvzhi_console=")
    )
    assert "HttpOnly" in session and "SameSite=Strict" in session
    assert "Secure" not in session and "Path=/console/" in session


async def test_console_actions_are_audited(client: Client) -> None:
    db = db_of(client)
    await add_account(db, "admin", role="admin")
    await log_in(client, "nobody", "whatever-123")
    await log_in(client, "admin", "wrong password!")
    await log_in(client, "admin")
    token = await session_csrf(client)
    response = await client.post("/console/members/import", data=roster_form(token))
    assert response.status == 200
    response = await client.post(
        "/console/simulator", data={"csrf_token": token, "member": "zhangwei", "text": "帮助"}
    )
    assert response.status == 200
    await client.post("/console/logout", data={"csrf_token": token})
    rows = [(row.actor, row.action) for row in await audit_rows(db)]
    assert ("console:-", "console.login_failed") in rows
    expected = [
        ("console:admin", "console.login"),
        ("console:admin", "console.roster_import"),
        ("console:admin", "console.simulate"),
        ("console:admin", "console.logout"),
    ]
    assert [row for row in rows if row[1].startswith("console.") and row[0] != "console:-"] == (
        expected
    )
    # The roster's own audit rows name the console account too.
    assert ("console:admin", "member.import.create") in rows
    failed = [row for row in await audit_rows(db) if row.action == "console.login_failed"]
    assert failed[0].detail["username"].startswith("?")  # an unknown name is kept hashed only
    assert failed[1].detail["username"] == "admin"


async def test_passwords_are_never_logged_nor_stored(
    sqlite_url: str,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Tr0ub4dor&3-secret"
    typo = "Tr0ub4dor&3-typed-as-name"
    config_file = tmp_path / "lvzhi.toml"
    config_file.write_text(
        f'[database]\nurl = "{sqlite_url}"\n[console]\nsecure_cookies = false\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CONSOLE_PASSWORD", secret)
    code = await asyncio.to_thread(
        main,
        [
            "--config", str(config_file), "console", "add-user", "Mishu",
            "--role", "secretary", "--password-env", "CONSOLE_PASSWORD",
        ],
    )  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    app = create_app(console_config(sqlite_url), clock=clock, sender=SandboxSender(clock))
    async with TestClient(TestServer(app)) as client:
        assert (await log_in(client, "mishu", "wrong-" + secret)).status == 401
        assert (await log_in(client, typo, secret)).status == 401  # password in the name field
        assert (await log_in(client, "mishu", secret)).status == 303
    stored = database_bytes(tmp_path)
    for value in (secret, typo):
        assert value not in caplog.text
        assert value not in out + err
        assert value.encode() not in stored
    assert b"$argon2id$" in stored


def database_bytes(directory: Path) -> bytes:
    """The SQLite database as stored: the file and its write-ahead log."""
    return b"".join(p.read_bytes() for p in directory.glob("lvzhi.db*") if p.is_file())


def test_add_user_takes_no_password_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "lvzhi.toml"
    config_file.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "lvzhi.db"}"\n', encoding="utf-8"
    )
    base = ["--config", str(config_file), "console", "add-user", "a", "--role", "admin"]
    with pytest.raises(SystemExit) as exited:
        main([*base, "--password", "s3cret-pass-word"])  # no such option, not even abbreviated
    assert exited.value.code == 2
    capsys.readouterr()
    assert main([*base, "--password-env", "s3cret pass-word!"]) == 1  # a password, misplaced
    assert "s3cret" not in capsys.readouterr().err


def test_add_user_refuses_weak_passwords_and_member_links(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = tmp_path / "lvzhi.toml"
    config_file.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "lvzhi.db"}"\n', encoding="utf-8"
    )
    roster = tmp_path / "roster.csv"
    roster.write_bytes(ROSTER)
    base = ["--config", str(config_file)]
    assert main([*base, "members", "import", str(roster)]) == 0
    monkeypatch.setenv("PW", "short")
    assert (
        main([*base, "console", "add-user", "a", "--role", "admin", "--password-env", "PW"]) == 1
    )
    assert "密码至少需要10个字符" in capsys.readouterr().err
    monkeypatch.setenv("PW", "long enough password")
    args = [*base, "console", "add-user", "zw", "--role", "secretary", "--password-env", "PW"]
    assert main([*args, "--member", "zhangwei"]) == 1
    assert "不能开通管理后台" in capsys.readouterr().err
    assert main([*args, "--member", "sunli"]) == 0
    assert main(args) == 1
    assert "已存在" in capsys.readouterr().err
    assert main([*base, "console", "list-users"]) == 0
    assert "孙丽（sunli）" in capsys.readouterr().out


async def test_an_unknown_console_path_needs_login_but_then_is_404(client: Client) -> None:
    await add_account(db_of(client), "mishu")
    await log_in(client, "mishu")
    response = await client.get("/console/no-such-page")
    assert response.status == 404


def test_setup_console_can_be_switched_off(sqlite_url: str) -> None:
    config = make_config(sqlite_url, console={"enabled": False})
    app: web.Application = create_app(config)
    assert not any(
        str(getattr(resource, "canonical", "")).startswith("/console")
        for resource in app.router.resources()
    )


async def test_robot_keys_are_shown_masked(client: Client, clock: FakeClock) -> None:
    db = db_of(client)
    key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    async with db.transaction() as tx:
        group, _ = await tx.groups.get_or_create("第3学习小组", "study_group", clock.now())
        await tx.groups.set_channel(group, robot_key=key)
    await add_account(db, "mishu")
    await log_in(client, "mishu")
    html = await (await client.get("/console/groups")).text()
    assert "群机器人 ****5aaa" in html
    assert key not in html


@pytest.mark.parametrize(
    "next_path",
    [
        "/console/reports\r\nSet-Cookie: evil=1",
        "/console/\nLocation: https://evil.example/",
        "/console/\x00",
        "/console/\x7f",
        "/console/members?q=张伟\r",
    ],
)
async def test_a_next_with_control_characters_is_refused_cleanly(
    client: Client, next_path: str
) -> None:
    from sqlalchemy import func, select

    from storage.models_console import ConsoleSession

    db = db_of(client)
    await add_account(db, "mishu")
    page = await client.get("/console/login", params={"next": next_path})
    assert page.status == 200
    token = csrf_of(await page.text())
    response = await client.post(
        "/console/login",
        data={"csrf_token": token, "username": "mishu", "password": PASSWORD, "next": next_path},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/console/"
    assert "evil" not in str(response.headers)
    # The session the login opened is the one the browser holds: it works, and it is the
    # only one (no orphan row left by a response that could not be sent).
    assert (await client.get("/console/", allow_redirects=False)).status == 200
    async with db.read() as tx:
        assert await tx.session.scalar(select(func.count()).select_from(ConsoleSession)) == 1


async def test_a_next_with_other_text_is_percent_encoded(client: Client) -> None:
    await add_account(db_of(client), "mishu")
    page = await client.get("/console/login")
    token = csrf_of(await page.text())
    response = await client.post(
        "/console/login",
        data={
            "csrf_token": token,
            "username": "mishu",
            "password": PASSWORD,
            "next": "/console/members?q=张伟",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/console/members?q=%E5%BC%A0%E4%BC%9F"
