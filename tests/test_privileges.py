"""Privileges through chat: a member can do nothing a secretary does, by any command.

Every example the secretaries' help gives is sent by a plain member: each is refused with a
Chinese answer to that member alone, and nothing in the database changes. A forged callback
that claims to come from a secretary is refused at the edge. (A member reading another
member's report by number: tests/test_reports_flow.py::test_privacy_…)
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import Config
from handlers.help import OFFICE_HELP, TOPICS
from storage.models import Base, Delivery, InboundMessage, SendLogEntry
from storage.models_reports import Report
from tests.conftest import make_config
from tests.harness import Bot, running_bot, shanghai
from tests.test_pipeline import HELP_PLACEHOLDERS

REPORT = "社情民意：关于加强农村饮水工程管护的建议\n部分村饮水设施老化，建议建立管护机制。"


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


def office_commands() -> list[str]:
    """The secretaries' commands as their help shows them (the overview and each topic's part
    for the office), placeholders filled in; 「帮助 …」 is help, not a command."""
    commands = []
    for text in (OFFICE_HELP, *(office for _, office in TOPICS.values())):
        for example in re.findall(r"「(.*?)」", text):
            for placeholder, value in HELP_PLACEHOLDERS.items():
                example = example.replace(placeholder, value)
            if not example.startswith("帮助") and example not in commands:
                commands.append(example)
    return commands


# What a refused command may still write: the message itself, the refusal it is answered with
# and that refusal's slot in the rate gate's log.
EXPECTED_WRITES = {t.__tablename__ for t in (InboundMessage, Delivery, SendLogEntry)}
# Refusals as members see them; two office queries answer a member about their own part.
REFUSED = re.compile("仅限机关秘书|仅机关秘书|只能查看自己")
ANSWERED_FOR_THEMSELVES = ("督办情况", "本周打卡情况")


async def counts(bot: Bot) -> dict[str, Any]:
    """The rows of every table (but the two above), and every report's state."""
    async with bot.db.read() as tx:
        found: dict[str, Any] = {
            table.name: await tx.session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
            if table.name not in EXPECTED_WRITES
        }
        states = await tx.session.scalars(select(Report.state).order_by(Report.id))
        found["report states"] = list(states)
    return found


async def test_a_member_trying_every_secretary_command_is_refused(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("mishu", "王秘书", role="secretary")
        await bot.add_member("zhangwei", "张伟", group="第3学习小组")
        await bot.add_member("lina", "李娜", group="第3学习小组")
        await bot.say("lina", REPORT)  # SQ-2025-0001, someone else's report
        await bot.flush()
        before = await counts(bot)
        commands = office_commands()
        assert len(commands) >= 15
        for command in commands:
            # A person types a command every few seconds: more than 30 answers to one member
            # within a minute would wait for the rate gate (≤ 30 per minute per member).
            bot.clock.advance(timedelta(seconds=3))
            sent = await bot.say_and_collect("zhangwei", command)
            assert sent, f"no answer to {command!r}"
            assert {(m.address.kind, m.address.value) for m in sent} == {("member", "zhangwei")}, (
                command
            )
            assert not any("SQ-2025-0001" in m.text and "饮水" in m.text for m in sent), command
            if not command.startswith(ANSWERED_FOR_THEMSELVES):
                assert any(REFUSED.search(m.text) for m in sent), (command, sent[0].text)
        assert await counts(bot) == before


async def test_a_member_is_told_why(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with running_bot(cfg, clock) as bot:
        await bot.add_member("zhangwei", "张伟", group="第3学习小组")
        cases = {
            "采用 SQ-2025-0001": "仅限机关秘书",
            "通知 第3学习小组：明天开会": "仅限机关秘书",
            "会议通知 第3学习小组：12月3日下午3点召开常委会": "仅限机关秘书",
            "督办 第3学习小组：请于12月10日前提交报告": "仅限机关秘书",
        }
        for command, refusal in cases.items():
            [answer] = await bot.say("zhangwei", command)
            assert refusal in answer, (command, answer)


async def test_a_forged_callback_in_a_secretarys_name_changes_nothing(
    sqlite_url: str,
) -> None:
    """The plaintext says FromUserName=mishu, but the request is not signed with the app's
    token: 403, and neither the message nor any reply is stored."""
    from tests.test_callback import APP, serve, wecom_config
    from tests.wecom_client import encrypted_callback, text_message_xml

    clock = FakeClock(shanghai(2025, 11, 25, 10, 0))
    async with serve(wecom_config(sqlite_url), clock) as server:
        await server.add_member("mishu")
        now = clock.now()
        xml = text_message_xml(
            APP, sender="mishu", content="通知 全体委员：今晚开会", msg_id=1, create_time=now
        )
        genuine = encrypted_callback(APP, xml, timestamp=now)
        forged = genuine.with_query(msg_signature="0" * 40)
        status, _ = await server.send(forged)
        assert status == 403
        async with server.runtime.db.read() as tx:
            stored = await tx.session.scalar(select(func.count()).select_from(InboundMessage))
            queued = await tx.session.scalar(select(func.count()).select_from(Delivery))
        assert (stored, queued) == (0, 0)
