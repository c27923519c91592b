"""The rules of a check-in campaign, as pure functions over periods and the working calendar.

* Which periods count (*required*): with ``skip_holidays``, a daily campaign asks for working
  days only (调休 weekend workdays included, statutory holidays and weekends not); a weekly or
  monthly one skips a period with no working day at all. Without it, every period counts.
* When pushes fall: a reminder or summary is ``{"offset_days", "time"}`` from the period's last
  day. With ``skip_holidays`` a reminder that falls on a statutory holiday is not sent (members
  are on holiday) and a summary is deferred to the same time on the first day after the holiday
  (the secretaries get it when they are back).
* Streaks (连续打卡) count consecutive required periods checked in, back from the current one
  (an open current period without a check-in does not break the streak yet).
* Make-up (补卡): only for a period the member was due (the campaign's, required), that
  closed at most ``makeup_days`` days ago, at most ``makeup_per_month`` times in a calendar
  month.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from bot.workcalendar import WorkCalendar
from handlers.text.normalize import normalize
from handlers.text.periods import Cadence, Period, period_containing, previous_period

MAX_STREAK_LOOKBACK = 400


@dataclass(frozen=True, slots=True)
class PushSpec:
    offset_days: int  # from the period's last day: -2 = Friday of a week, 1 = the next Monday
    at: time

    def as_json(self) -> dict[str, Any]:
        return {"offset_days": self.offset_days, "time": self.at.strftime("%H:%M")}

    @classmethod
    def of(cls, data: dict[str, Any]) -> PushSpec:
        hour, minute = (int(x) for x in str(data["time"]).split(":"))
        return cls(int(data["offset_days"]), time(hour, minute))


DEFAULT_PUSHES: dict[str, tuple[tuple[PushSpec, ...], PushSpec]] = {
    "daily": ((PushSpec(0, time(20, 0)),), PushSpec(1, time(9, 0))),
    "weekly": ((PushSpec(-2, time(20, 0)),), PushSpec(1, time(9, 0))),
    "monthly": ((PushSpec(-3, time(20, 0)),), PushSpec(1, time(9, 0))),
}


def push_time(period: Period, spec: PushSpec, zone: ZoneInfo) -> datetime:
    return datetime.combine(period.end + timedelta(days=spec.offset_days), spec.at, tzinfo=zone)


def is_required(period: Period, skip_holidays: bool, calendar: WorkCalendar) -> bool:
    if not skip_holidays:
        return True
    return any(calendar.is_workday(day) for day in period.days())


def streak(
    cadence: Cadence,
    today: date,
    checked: Collection[date],
    skip_holidays: bool,
    calendar: WorkCalendar,
    starts_on: date | None = None,
) -> int:
    """Consecutive required periods checked in, counting back from the current one."""
    period = period_containing(cadence, today)
    count = 0
    if period.start not in checked:
        period = previous_period(period)
    for _ in range(MAX_STREAK_LOOKBACK):
        if starts_on is not None and period.end < starts_on:
            break
        if period.start in checked:
            count += 1
        elif is_required(period, skip_holidays, calendar):
            break
        period = previous_period(period)
    return count


@dataclass(frozen=True, slots=True)
class MakeUpVerdict:
    allowed: bool
    reason: str = ""


def makeup_verdict(
    period: Period,
    today: date,
    makeup_days: int,
    used_this_month: int,
    per_month: int,
    *,
    starts_on: date | None = None,
    required: bool = True,
) -> MakeUpVerdict:
    """Whether a make-up for ``period`` is allowed: only for a period the member was due (one
    of the campaign's, from the period of ``starts_on`` on — as the duty record counts them —
    and ``required``), closed at most ``makeup_days`` ago, within the month's allowance."""
    if period.start > today:
        return MakeUpVerdict(False, "不能为将来的日期补卡。")
    if period.contains(today):
        return MakeUpVerdict(True)  # the current period: an ordinary check-in
    if starts_on is not None and period.end < starts_on:
        return MakeUpVerdict(
            False,
            f"打卡活动从{starts_on.month}月{starts_on.day}日开始，"
            f"{period.label}不在活动期内，无需补卡。",
        )
    if not required:
        return MakeUpVerdict(False, f"{period.label}是休息日，不需要打卡，也无需补卡。")
    closed_days_ago = (today - period.end).days
    if closed_days_ago > makeup_days:
        return MakeUpVerdict(
            False,
            f"{period.label}已结束{closed_days_ago}天，超过了补卡期限（结束后{makeup_days}天内）。",
        )
    if used_this_month >= per_month:
        return MakeUpVerdict(False, f"本月补卡次数已用完（每月最多{per_month}次）。")
    return MakeUpVerdict(True)


# -- 开启打卡 / 关闭打卡: a secretary sets a campaign up in chat ------------------------------


@dataclass(frozen=True, slots=True)
class CampaignCommand:
    """``开启打卡 第3学习小组 每周 周五20:00提醒 周日21:00汇总``."""

    intent: ClassVar[str] = "campaign_start"
    group: str
    cadence: Cadence
    reminders: tuple[PushSpec, ...]
    summary: PushSpec


@dataclass(frozen=True, slots=True)
class CampaignStop:
    intent: ClassVar[str] = "campaign_stop"
    group: str


_CADENCES: dict[str, Cadence] = {
    "每天": "daily",
    "每日": "daily",
    "每周": "weekly",
    "每月": "monthly",
}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_START = re.compile(r"^(?:开启|开始|新建|设置)(?:学习)?打卡(?:活动)?\s*(?P<rest>.+)$")
_STOP = re.compile(r"^(?:关闭|停止|结束)(?:学习)?打卡(?:活动)?\s*(?P<group>\S+)$")
_PUSH = re.compile(
    r"(?:(?:周|星期|礼拜)(?P<wd>[一二三四五六日天七])|(?P<next>次日|第二天|次月1日|下月1日)"
    r"|月底前(?P<before>\d+)天|(?P<last>月底|最后一天))?"
    r"(?P<h>\d{1,2})[:：点](?P<m>\d{2})?分?(?P<kind>提醒|汇总|总结)"
)


def parse_campaign_command(text: str) -> CampaignCommand | CampaignStop | None:
    clean = normalize(text)
    stop = _STOP.match(clean)
    if stop:
        return CampaignStop(stop["group"])
    start = _START.match(clean)
    if not start:
        return None
    rest = start["rest"]
    cadence: Cadence = "weekly"
    for word, value in _CADENCES.items():
        if word in rest:
            cadence = value
            rest = rest.replace(word, " ")
    reminders: list[PushSpec] = []
    summary: PushSpec | None = None
    for match in _PUSH.finditer(rest):
        hour, minute = int(match["h"]), int(match["m"] or 0)
        if hour > 23 or minute > 59:
            continue
        spec = PushSpec(_offset(cadence, match, match["kind"] != "提醒"), time(hour, minute))
        if match["kind"] == "提醒":
            reminders.append(spec)
        else:
            summary = spec
    rest = _PUSH.sub(" ", rest)
    group = rest.split()[0] if rest.split() else ""
    if not group:
        return None
    default_reminders, default_summary = DEFAULT_PUSHES[cadence]
    return CampaignCommand(
        group, cadence, tuple(reminders) or default_reminders, summary or default_summary
    )


def _offset(cadence: Cadence, match: re.Match[str], is_summary: bool) -> int:
    if match["next"]:
        return 1
    if match["before"]:
        return -int(match["before"])
    if match["wd"] and cadence == "weekly":
        weekday = _WEEKDAYS[match["wd"]]
        if is_summary and weekday == 0:
            return 1  # 周一汇总: the Monday after the week closed
        return weekday - 6
    return 0


def describe_push(cadence: Cadence, spec: PushSpec) -> str:
    at = spec.at.strftime("%H:%M")
    if spec.offset_days == 1:
        return {"daily": "次日", "weekly": "下周一", "monthly": "次月1日"}[cadence] + at
    if cadence == "weekly":
        return "周" + "一二三四五六日"[6 + spec.offset_days] + at
    if cadence == "monthly":
        return (f"月底前{-spec.offset_days}天" if spec.offset_days else "月底") + at
    return "当天" + at
