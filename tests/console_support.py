"""Helpers for the console tests: accounts, a signed-in HTTP client, the audit log."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bot.console.security import Passwords
from bot.messages import Incoming
from bot.roster.read import read_roster
from bot.runtime import Runtime
from storage import Database
from storage.models import AuditEntry, Member
from storage.models_console import ConsoleUser

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_NOW = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)


async def add_member(db: Database, userid: str, name: str, role: str = "member") -> Member:
    async with db.transaction() as tx:
        return await tx.members.add(
            Member(userid=userid, name=name, role=role, created_at=_NOW, updated_at=_NOW)
        )


async def add_account(
    db: Database,
    username: str,
    *,
    role: str = "secretary",
    password: str = PASSWORD,
    member: Member | None = None,
) -> ConsoleUser:
    async with db.transaction() as tx:
        return await tx.console.add_user(
            ConsoleUser(
                username=username,
                password_hash=Passwords().hash(password),
                role=role,
                member_id=member.id if member else None,
                active=True,
                created_at=_NOW,
                updated_at=_NOW,
            )
        )


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def log_in(
    client: TestClient[Any, Any],
    username: str,
    password: str = PASSWORD,
    *,
    headers: dict[str, str] | None = None,
) -> Any:
    """Post the login form as a browser would (fetching it first for its CSRF token)."""
    page = await client.get("/console/login", headers=headers)
    token = csrf_of(await page.text())
    return await client.post(
        "/console/login",
        data={"csrf_token": token, "username": username, "password": password, "next": ""},
        allow_redirects=False,
        headers=headers,
    )


async def session_csrf(client: TestClient[Any, Any]) -> str:
    """The signed-in session's CSRF token, read from a page."""
    page = await client.get("/console/simulator")
    assert page.status == 200, page.status
    return csrf_of(await page.text())


async def audit_rows(db: Database) -> list[AuditEntry]:
    async with db.read() as tx:
        return list(reversed(await tx.audit.recent(1000)))


ROSTER_CSV = Path(__file__).resolve().parent.parent / "examples" / "roster.csv"
SECOND_REPORT = (
    "社情民意：关于完善社区养老服务设施的建议\n基本情况：老年人口增多。\n建议：增设日间照料中心。"
)
REPORT_TEXT = (
    "社情民意：关于加强农村饮水工程管护的建议\n"
    "基本情况：我县农村饮水工程点多面广，建成后管护责任不清。\n"
    "存在问题：部分水厂缺少专业管护人员，水质检测不到位。\n"
    "建议：建立县级统管、乡镇落实、村级协助的管护机制。"
)
# What the office and its members say in chat, in order (the office's day in messages).
OFFICE_DAY = (
    ("zhangwei", REPORT_TEXT),
    ("lina", SECOND_REPORT),
    ("sunli", "开启打卡 第1学习小组 每周 周五20:00提醒 周日21:00汇总"),
    ("zhangwei", "打卡 读《乡土中国》30分钟"),
    ("sunli", "通知 第1学习小组：请于本周五前提交本季度学习心得。"),
    ("lina", "收到"),
    ("sunli", "会议通知 第2学习小组：12月3日下午3点在机关三楼会议室召开专题协商会，12月1日前回复"),
    ("yangfan", "参加"),
    ("zhaolei", "请假 出差在外"),
    ("sunli", "督办 第1学习小组：请于11月28日前提交年度履职报告"),
    ("sunli", "督办 第2学习小组：请于明天12:00前报送调研提纲"),
)


async def import_roster(db: Database, path: Path = ROSTER_CSV) -> None:
    """The example roster, as ``lvzhi members import`` reads it."""
    roster = read_roster(path)
    async with db.transaction() as tx:
        await tx.roster.apply_roster(roster.rows, now=_NOW, actor="test")


async def say(runtime: Runtime, userid: str, text: str) -> None:
    """A member's 1:1 message, through the whole pipeline (as the simulator sends it)."""
    await runtime.pipeline.handle(
        Incoming(
            channel="sandbox",
            sender=userid,
            text=text,
            sent_at=runtime.clock.now(),
            dedup_key=f"test:{uuid.uuid4().hex}",
        )
    )


async def office_day(runtime: Runtime) -> None:
    """A roster, two reports, a campaign, a notice, a meeting, two tasks, some answers."""
    await import_roster(runtime.db)
    for userid, text in OFFICE_DAY:
        await say(runtime, userid, text)
