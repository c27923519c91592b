"""打卡周图: the quarter's weekly check-in rate of a study group as a PNG, pushed with the weekly
summary through the outbox (a small payload), logged by the sandbox, and accepted by a group
robot (the fake WeCom checks base64 and md5)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import random
from datetime import date, timedelta

import aiohttp
import pytest
from PIL import Image as PILImage

from bot.clock import FakeClock
from bot.config import Config, build_config
from bot.delivery.base import Address, Failed, Sent
from bot.wecom.sender import WeComSender
from bot.workcalendar import SpecialDay, WorkCalendar
from handlers.checkin import chart as checkin_chart
from handlers.checkin.chart import WeekRate, as_image, chart_png, draw, quarter_weeks
from handlers.text.periods import period_containing
from storage import Database
from storage.models import Campaign, CheckIn
from tests.conftest import make_config
from tests.fakewecom import FakeWeCom
from tests.harness import Bot, running_bot, shanghai

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GROUP = "第1学习小组"
STARTS = date(2025, 9, 1)  # the campaign began on a Monday, 12 weeks before the summary


def weeks_of(n: int) -> list[WeekRate]:
    first = date(2025, 9, 1)
    return [WeekRate(first + timedelta(weeks=i), i % 9, 8) for i in range(n)]


def test_one_bar_per_week_with_its_rate() -> None:
    weeks = weeks_of(13)
    font = checkin_chart.cjk_font()  # fonts-wqy-microhei here; None on a machine without
    figure, bars = draw(GROUP, weeks, font=font)
    assert len(bars) == 13
    assert [round(b.get_height(), 3) for b in bars] == [round(w.rate, 3) for w in weeks]
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels[:3] == ["9/1", "9/8", "9/15"]
    title = figure.axes[0].get_title()
    assert title == (
        f"{GROUP} 近13周学习打卡率" if font else "Weekly check-in rate, last 13 weeks"
    )


def test_png_is_valid_and_small() -> None:
    png = chart_png(GROUP, weeks_of(13))
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < checkin_chart.PAYLOAD_LIMIT < 2 * 1024 * 1024
    picture = PILImage.open(io.BytesIO(png))
    picture.verify()
    assert picture.size == (800, 450)
    image = as_image(png)
    assert image.md5 == hashlib.md5(png).hexdigest()


def test_without_a_cjk_font_the_chart_falls_back_to_english(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(checkin_chart, "CJK_FONT_FILES", ())
    monkeypatch.setattr(checkin_chart, "CJK_FAMILIES", ("No Such Font",))
    checkin_chart.cjk_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="handlers.checkin.chart"):
            assert checkin_chart.cjk_font() is None
        assert "no CJK font found" in caplog.text
        png = chart_png(GROUP, weeks_of(5))
        assert png.startswith(PNG_SIGNATURE)
        figure, bars = draw(GROUP, weeks_of(5), font=None)
        assert len(bars) == 5 and figure.axes[0].get_title().isascii()
    finally:
        checkin_chart.cjk_font.cache_clear()


def test_quarter_leaves_out_weeks_before_the_campaign_and_holiday_weeks() -> None:
    campaign = Campaign(starts_on=STARTS, skip_holidays=True)
    last = period_containing("weekly", date(2025, 11, 17))
    calendar = WorkCalendar.empty()  # no year covered: every week counts (never guessed away)
    weeks = quarter_weeks(last, campaign, calendar)
    assert [w.start for w in weeks][:2] == [date(2025, 9, 1), date(2025, 9, 8)]
    assert len(weeks) == 12  # 13 weeks back reach 8/25, before the campaign began
    holiday_week = [SpecialDay(date(2025, 10, 6) + timedelta(days=n), "holiday") for n in range(5)]
    calendar = WorkCalendar(holiday_week, [2025])
    weeks = quarter_weeks(last, campaign, calendar)
    assert date(2025, 10, 6) not in [w.start for w in weeks] and len(weeks) == 11


@pytest.fixture
def cfg(db_url: str) -> Config:
    return make_config(db_url)


async def seed_quarter(bot: Bot, rng: random.Random) -> dict[date, int]:
    """A weekly campaign since 1 September, 8 members checking in at random; how many did
    each week (the test's own count)."""
    for n in range(8):
        await bot.add_member(f"m{n}", f"委员{n}", group=GROUP)
    await bot.add_member("sunli", "孙丽", role="secretary")
    counted: dict[date, int] = {}
    async with bot.db.transaction() as tx:
        group = await tx.groups.by_name(GROUP)
        assert group is not None
        campaign = await tx.campaigns.save(
            Campaign(
                group_id=group.id,
                cadence="weekly",
                reminders=[],
                summary={"offset_days": 1, "time": "09:00"},
                starts_on=STARTS,
                created_at=shanghai(2025, 9, 1, 8, 0),
                updated_at=shanghai(2025, 9, 1, 8, 0),
            )
        )
        members = await tx.groups.members(group.id)
        week = STARTS
        while week < date(2025, 11, 24):
            who = [m for m in members if rng.random() < 0.7]
            counted[week] = len(who)
            for m in who:
                when = shanghai(week.year, week.month, week.day, 20, 0)
                await tx.checkins.add(
                    CheckIn(
                        campaign_id=campaign.id,
                        member_id=m.id,
                        period_start=week,
                        period_end=week + timedelta(days=6),
                        minutes=30,
                        first_at=when,
                        last_at=when,
                    )
                )
            week += timedelta(weeks=1)
    return counted


async def test_weekly_summary_pushes_the_chart_once(cfg: Config) -> None:
    clock = FakeClock(shanghai(2025, 11, 24, 9, 1))  # Monday: last week's summary is due
    async with running_bot(cfg, clock) as bot:
        counted = await seed_quarter(bot, random.Random(3))
        sent = await bot.tick()
        to_group = [m for m in sent if m.address.kind == "group"]
        assert [m.image is not None for m in to_group] == [False, True]  # summary, then chart
        chart = to_group[1]
        assert chart.text.startswith(f"〔图片：【打卡周图】{GROUP}近一季度每周打卡率")
        assert chart.image is not None and chart.image.startswith(PNG_SIGNATURE)
        assert len(chart.image) < 2 * 1024 * 1024
        async with bot.db.read() as tx:
            rows = [d for d in await tx.deliveries.list() if d.idempotency_key.endswith(":chart")]
            group = await tx.groups.by_name(GROUP)
            assert group is not None
            campaign = await tx.campaigns.for_group(group.id)
            assert campaign is not None
            last = period_containing("weekly", date(2025, 11, 17))
            rates = await checkin_chart.week_rates(
                tx, campaign, group, last, bot.runtime.planner.calendar
            )
        assert len(rows) == 1 and rows[0].payload["msgtype"] == "image"
        assert len(json.dumps(rows[0].payload)) < 64 * 1024  # the outbox row stays small
        assert hashlib.md5(chart.image).hexdigest() == rows[0].payload["image"]["md5"]
        # the bars drawn are the weeks and rates the test counted itself
        assert [(w.start, w.checked, w.members) for w in rates] == [
            (week, n, 8) for week, n in sorted(counted.items())
        ]
        _, bars = draw(GROUP, rates)
        assert len(bars) == len(counted) == 12
        assert chart.image == checkin_chart.chart_png(GROUP, rates)  # the picture pushed is it
        assert await bot.tick() == []  # once per group and week, whatever the ticks


@pytest.mark.parametrize("case", ["turned off", "app chat"])
async def test_no_chart_when_turned_off_or_for_an_app_chat(sqlite_url: str, case: str) -> None:
    clock = FakeClock(shanghai(2025, 11, 24, 9, 1))
    cfg = make_config(sqlite_url, duty={"weekly_chart": case != "turned off"})
    async with running_bot(cfg, clock) as bot:
        await seed_quarter(bot, random.Random(3))
        if case == "app chat":  # appchat/send takes no base64 picture: the text goes alone
            async with bot.db.transaction() as tx:
                group = await tx.groups.by_name(GROUP)
                assert group is not None
                await tx.groups.set_channel(group, app_chat_id="wrchat1")
        sent = [m for m in await bot.tick() if m.address.kind in ("group", "appchat")]
        assert [m.image for m in sent] == [None]


async def test_a_group_robot_takes_the_image(sqlite_url: str) -> None:
    png = chart_png(GROUP, weeks_of(4))
    image = as_image(png)
    payload = {
        "msgtype": "image",
        "content": "周图",
        "image": {"base64": image.base64, "md5": image.md5},
    }
    db = Database(sqlite_url)
    async with FakeWeCom() as fake, aiohttp.ClientSession() as http:
        config = build_config({"wecom": fake.wecom_settings()}, environ={})
        sender = WeComSender(
            http, config.wecom, db, FakeClock(shanghai(2025, 11, 24, 9, 0)), owner="t"
        )
        assert (
            await sender.send(Address("robot", "robot-key-1", "robot:第1学习小组"), payload)
            == Sent()
        )
        accepted = fake.accepted[-1]
        assert (accepted.msgtype, accepted.content) == ("image", hashlib.md5(png).hexdigest())
        refused = await sender.send(Address("appchat", "chat1", "appchat:第1学习小组"), payload)
        assert isinstance(refused, Failed) and "group robot" in refused.error
    await db.dispose()
