"""What the planner sends for check-in campaigns: reminders before a period closes, a summary
when it has closed, and a weekly warning to admins while a year's holidays are only provisional.

Occurrence keys: ``checkin:{campaign}:remind{n}:{period start}`` and
``checkin:{campaign}:summary:{period start}``; each delivery adds its recipient to the key.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.messages import SYSTEM_ALERT, Outgoing, Send, member_address
from bot.planner import Occurrence, PlanEnv, privately
from handlers.checkin.chart import weekly_chart
from handlers.checkin.rules import PushSpec, is_required, push_time, streak
from handlers.common import names
from handlers.text.periods import (
    CURRENT_NOUN,
    Period,
    as_cadence,
    period_containing,
    previous_period,
)
from storage import Tx
from storage.models import Campaign, Group

# A push is sent late (after an outage) until the period closes (reminders) or for a day
# (summaries), but never for a time before the campaign's rules were set (``updated_at``).
SUMMARY_GRACE = timedelta(hours=24)
LOOKBACK = timedelta(days=15)  # how far back deferred summaries are looked for
STREAK_PERIODS = 60


def _fire_time(
    campaign: Campaign, period: Period, spec: PushSpec, env: PlanEnv, *, defer: bool
) -> datetime | None:
    """When a push for ``period`` falls, after the holiday rule; None if it is not sent."""
    at = push_time(period, spec, env.zone)
    if not campaign.skip_holidays:
        return at
    if not env.calendar.is_statutory_holiday(at.date()):
        return at
    if not defer:
        return None  # no reminders on a statutory holiday
    return datetime.combine(env.calendar.next_non_holiday(at.date()), at.timetz())


class CheckInSource:
    name = "checkin"

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        found: list[Occurrence] = []
        for campaign in await tx.campaigns.active():
            found.extend(self._due_for(campaign, env))
        return found

    def _due_for(self, campaign: Campaign, env: PlanEnv) -> list[Occurrence]:
        cadence = as_cadence(campaign.cadence)
        current = period_containing(cadence, env.now.date())
        found: list[Occurrence] = []
        period = current
        while period.end >= (env.now - LOOKBACK).date() and period.end >= campaign.starts_on:
            if is_required(period, campaign.skip_holidays, env.calendar):
                found.extend(self._period_pushes(campaign, period, env))
            period = previous_period(period)
        return found

    def _period_pushes(self, campaign: Campaign, period: Period, env: PlanEnv) -> list[Occurrence]:
        found = []
        base = f"checkin:{campaign.id}"
        args = {"campaign": campaign.id, "start": period.start.isoformat()}
        closes = period.closes_at(env.zone)
        if env.open_after < closes:
            for n, raw in enumerate(campaign.reminders):
                at = _fire_time(campaign, period, PushSpec.of(raw), env, defer=False)
                if at is not None and campaign.updated_at <= at <= env.now:
                    found.append(
                        Occurrence(
                            f"{base}:remind{n}:{period.start}",
                            at,
                            self.name,
                            {**args, "kind": "remind"},
                            expires_at=closes,
                        )
                    )
        at = _fire_time(campaign, period, PushSpec.of(campaign.summary), env, defer=True)
        if (
            at is not None
            and campaign.updated_at <= at <= env.now
            and env.open_after < at + SUMMARY_GRACE
        ):
            found.append(
                Occurrence(
                    f"{base}:summary:{period.start}",
                    at,
                    self.name,
                    {**args, "kind": "summary"},
                    expires_at=at + SUMMARY_GRACE,
                )
            )
        return found

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        campaign = await tx.campaigns.get(occurrence.args["campaign"])
        if campaign is None or not campaign.active:
            return []
        group = await tx.groups.get(campaign.group_id)
        if group is None:
            return []
        cadence = as_cadence(campaign.cadence)
        period = period_containing(cadence, date.fromisoformat(occurrence.args["start"]))
        members = await tx.groups.members(group.id)
        checked = await tx.checkins.checked_member_ids(campaign.id, period.start)
        done = [m for m in members if m.id in checked]
        missing = [m for m in members if m.id not in checked]
        key = occurrence.key
        noun = CURRENT_NOUN[cadence] if period.contains(env.now.date()) else period.label
        if occurrence.args["kind"] == "remind":
            if not missing:
                return []
            deadline = period.end
            text = (
                f"【打卡提醒】{group.name}{noun}已打卡 {len(done)}/{len(members)}，"
                f"请以下委员在{deadline.month}月{deadline.day}日24时前完成学习打卡：\n"
                f"{names(missing)}"
            )
            planned = [
                Send(
                    f"{key}:group",
                    Outgoing(
                        text,
                        to_group=group.id,
                        mentions=tuple(m.userid for m in missing if m.userid),
                    ),
                )
            ]
            planned += [
                Send(
                    f"{key}:member:{member_address(m)}",
                    Outgoing(
                        f"{m.name}您好，{group.name}{noun}（{period.label}）的学习打卡还没有完成，"
                        f"请在{deadline.month}月{deadline.day}日24时前"
                        "发送「打卡 学习内容 时长」。",
                        to_member=member_address(m),
                    ),
                )
                for m in missing
            ]
            return planned
        rate = len(done) * 100 // len(members) if members else 0
        leaders = await self._leaders(tx, campaign, [m.id for m in members], env)
        by_id = {m.id: m for m in members}
        lines = [
            f"【打卡汇总】{group.name} {period.label}：已打卡 {len(done)}/{len(members)}"
            f"（{rate}%）。"
        ]
        if done:
            lines.append(f"已打卡：{names(done)}")
        if leaders:
            unit = {"daily": "天", "weekly": "周", "monthly": "个月"}[cadence]
            lines.append(
                "连续打卡榜："
                + "、".join(f"{by_id[member_id].name} {n}{unit}" for member_id, n in leaders)
            )
        planned = [Send(f"{key}:group", Outgoing("\n".join(lines), to_group=group.id))]
        planned += await self._chart(tx, campaign, group, period, env, key)
        office_text = (
            f"【打卡汇总】{group.name} {period.label} 未打卡 {len(missing)} 人：{names(missing)}"
            if missing
            else f"【打卡汇总】{group.name} {period.label} 全员已打卡。"
        )
        for secretary in await tx.members.by_role("secretary", "admin"):
            planned.append(
                Send(
                    f"{key}:office:{member_address(secretary)}",
                    Outgoing(office_text, to_member=member_address(secretary)),
                )
            )
        return planned

    async def _chart(
        self, tx: Tx, campaign: Campaign, group: Group, period: Period, env: PlanEnv, key: str
    ) -> list[Send]:
        """The weekly chart (打卡周图) after a weekly summary, for a group its robot reaches
        (an app chat cannot take a picture without uploading it first), or in the sandbox."""
        if not env.config.duty.weekly_chart or campaign.cadence != "weekly":
            return []
        if group.app_chat_id and not group.robot_key:
            return []
        image = await weekly_chart(tx, campaign, group, period, env.calendar)
        if image is None:
            return []
        text = f"【打卡周图】{group.name}近一季度每周打卡率（截至{period.label}）"
        return [Send(f"{key}:chart", Outgoing(text, to_group=group.id, image=image))]

    async def _leaders(
        self, tx: Tx, campaign: Campaign, member_ids: list[int], env: PlanEnv
    ) -> list[tuple[int, int]]:
        cadence = as_cadence(campaign.cadence)
        since = period_containing(cadence, env.now.date()).start - timedelta(
            days={"daily": 1, "weekly": 7, "monthly": 31}[cadence] * STREAK_PERIODS
        )
        periods = await tx.checkins.periods_of_members(campaign.id, member_ids, since)
        streaks = [
            (
                member_id,
                streak(
                    cadence,
                    env.now.date(),
                    set(starts),
                    campaign.skip_holidays,
                    env.calendar,
                    campaign.starts_on,
                ),
            )
            for member_id, starts in periods.items()
        ]
        ranked = sorted((s for s in streaks if s[1] >= 2), key=lambda s: (-s[1], s[0]))
        return ranked[:3]


class CalendarWarningSource:
    """Tell admins once a week, from ``calendar_warning_days`` before a year derived from the
    law (provisional) until the official arrangement replaces it, how to enter it.

    Due at 09:00 on each week's Monday (on the window's first day in its first week), or as
    soon as the server runs that week; the key names the year and the ISO week, so each
    week's warning goes once whatever restarts happen.
    """

    name = "calendar"

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        today = env.now.date()
        lead = timedelta(days=env.config.scheduler.calendar_warning_days)
        monday = today - timedelta(days=today.weekday())
        week = "{}-W{:02d}".format(*monday.isocalendar()[:2])
        found = []
        for year in sorted({today.year, (today + lead).year}):
            if not env.calendar.awaits_official(year):
                continue
            # 09:00 on the week's Monday, or on the first day of the warning window
            first = max(monday, date(year, 1, 1) - lead)
            at = datetime.combine(first, time(9, 0), tzinfo=env.zone)
            if at <= env.now:
                key = f"calendar-provisional:{year}:{week}"
                found.append(Occurrence(key, at, self.name, {"year": year}, push="office"))
        return found

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        year = occurrence.args["year"]
        text = (
            f"{SYSTEM_ALERT}{year}年的节假日安排还没有录入，打卡提醒、定期通知和督办清单暂按"
            f"临时日历安排：只放法定假日（元旦、春节除夕至初三、清明、劳动节两天、端午、中秋、"
            f"国庆三天）和周末，不含调休上班和补假。国务院公布{year}年放假安排后，请升级 "
            f"chinesecalendar 后重启，或用「lvzhi calendar import 文件」录入"
            f"（格式见 docs/calendar.md），"
            f"查看：lvzhi calendar show {year}。确认沿用临时日历：lvzhi calendar confirm {year} "
            f"--provisional。"
        )
        admins = await tx.members.by_role("admin") or await tx.members.by_role("secretary")
        return privately(occurrence.key, text, admins)
