"""履职档案: a member's year, computed from what the other features store (nothing re-entered).

统计口径 (what counts for year Y, in the configured zone, up to now for the current year):

* 打卡 check-ins: campaign periods that start in Y and were checked in (补卡 included).
  应打卡 are the campaign's *required* periods (see :mod:`handlers.checkin.rules`) that start
  in Y, from the campaign's start until it stopped, and have closed — plus the current one
  once it is checked in, so that a member who misses nothing is at 100 % on any day.
  最长连续 is the longest run of required periods checked in without a gap. 学习时长 adds the
  minutes of every study record (personal records without a campaign included).
* 社情民意 reports: those numbered in Y. 提交 as submitter, 联名 as co-submitter; 采用 / 批示
  count the member's own reports ever adopted / endorsed (the history, not the current state,
  as :mod:`handlers.reports.stats` counts them).
* 通知 notices that asked for 收到 and went out in Y: received, acknowledged, acknowledged
  within 24 hours, and the average time it took.
* 会议 meetings that started in Y: 出席 (answered 参加; no on-site sign-in is recorded),
  请假, 未回执 (no answer at all).
* 督办 tasks whose deadline falls in Y: done by the deadline, done after it, not done although
  it has passed. A task still running is not counted.
* 提案 proposals numbered in Y: 提交 as proposer (``proposals``), 联名 as a co-proposer who
  confirmed it (附议), and of the member's own: ever 立案 (the history), 重点, and rated
  满意 or 基本满意 by the member (the last rating).
* 履职登记 activities on a day in Y, confirmed by the office (pending and returned ones do
  not count): ``activities`` in all, ``activities.调研`` … by kind (the office's kinds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.workcalendar import WorkCalendar
from handlers.checkin.rules import is_required
from handlers.text.periods import Period, as_cadence, next_period, period_containing

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import Campaign
    from storage.repos.duty import CheckInRow, NoticeCounts, TaskCounts

FACTS: dict[str, str] = {
    "checkins": "打卡次数",
    "checkins_due": "应打卡次数",
    "checkin_rate": "打卡率（%）",
    "checkin_streak": "最长连续打卡",
    "study_minutes": "学习时长（分钟）",
    "reports_submitted": "社情民意提交",
    "reports_cosigned": "社情民意联名",
    "reports_adopted": "社情民意采用",
    "reports_endorsed": "社情民意获批示",
    "notices": "应确认通知",
    "notices_acked": "已确认通知",
    "notices_acked_24h": "24小时内确认",
    "meetings": "会议邀请",
    "meetings_attended": "会议出席",
    "meetings_excused": "会议请假",
    "meetings_missed": "会议未回执",
    "tasks": "督办任务",
    "tasks_on_time": "按时完成",
    "tasks_late": "逾期完成",
    "tasks_not_done": "未完成",
    "proposals": "提案提交",
    "proposals_accepted": "提案立案",
    "proposals_key": "重点提案",
    "proposals_cosigned": "提案联名",
    "proposals_satisfied": "提案满意",
    "activities": "履职活动",
}
# A fact per kind of activity: ``activities.调研`` (any kind the office lists).
ACTIVITY_PREFIX = "activities."


def fact_label(key: str) -> str:
    """The Chinese name of a fact (``activities.调研`` → 履职活动·调研)."""
    if key.startswith(ACTIVITY_PREFIX):
        return f"{FACTS['activities']}·{key.removeprefix(ACTIVITY_PREFIX)}"
    return FACTS[key]


# Above this many members the queries read everyone and the record keeps those asked for:
# one scan is cheaper than a long IN list (and stays under SQLite's parameter limit).
FILTER_LIMIT = 500


@dataclass(frozen=True, slots=True)
class YearWindow:
    """Year ``year`` in the configured zone, observed at ``as_of`` (≤ the year's end)."""

    year: int
    start: datetime  # Jan 1 00:00, aware
    end: datetime  # next Jan 1 00:00
    as_of: datetime

    @classmethod
    def of(cls, year: int, now: datetime, zone: ZoneInfo) -> YearWindow:
        start = datetime(year, 1, 1, tzinfo=zone)
        end = datetime(year + 1, 1, 1, tzinfo=zone)
        return cls(year, start, end, max(start, min(now.astimezone(zone), end)))

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return date(self.year, 12, 31)

    @property
    def today(self) -> date:
        """The day ``as_of`` falls on (Jan 1 of the next year for a year that has ended)."""
        return self.as_of.date()


@dataclass(frozen=True, slots=True)
class DutyFacts:
    """One member's year (see the module docstring for what each number counts)."""

    checkins: int = 0
    checkins_due: int = 0
    checkin_rate: int = 0  # percent, 0–100
    checkin_streak: int = 0
    study_minutes: int = 0
    reports_submitted: int = 0
    reports_cosigned: int = 0
    reports_adopted: int = 0
    reports_endorsed: int = 0
    notices: int = 0
    notices_acked: int = 0
    notices_acked_24h: int = 0
    meetings: int = 0
    meetings_attended: int = 0
    meetings_excused: int = 0
    meetings_missed: int = 0
    tasks: int = 0
    tasks_on_time: int = 0
    tasks_late: int = 0
    tasks_not_done: int = 0
    proposals: int = 0
    proposals_accepted: int = 0
    proposals_key: int = 0
    proposals_cosigned: int = 0
    proposals_satisfied: int = 0
    activities: int = 0
    activity_kinds: tuple[tuple[str, int], ...] = ()  # (kind, confirmed count)
    checkins_on_due: int = 0  # the due periods checked in (the rate's numerator)
    notice_ack_hours: float | None = None  # average, shown but not a scoring fact
    checkin_unit: str = field(default="次")  # 周/天/个月: what a streak counts

    def value(self, key: str) -> float:
        if key.startswith(ACTIVITY_PREFIX):
            return float(dict(self.activity_kinds).get(key.removeprefix(ACTIVITY_PREFIX), 0))
        return float(getattr(self, key))

    @property
    def empty(self) -> bool:
        """Nothing recorded: nothing was due, done or asked of the member that year."""
        return not any(getattr(self, f.name) for f in fields(self) if f.type == "int")


@dataclass(frozen=True, slots=True)
class CampaignYear:
    """A campaign's periods in the year: each with whether it is required and has closed."""

    campaign_id: int
    unit: str
    periods: tuple[tuple[Period, bool, bool], ...]  # (period, required, closed)


UNITS = {"daily": "天", "weekly": "周", "monthly": "个月"}


def campaign_year(campaign: Campaign, window: YearWindow, calendar: WorkCalendar) -> CampaignYear:
    """The periods of ``campaign`` that start in the year, while it ran, up to ``as_of``."""
    cadence = as_cadence(campaign.cadence)
    closes_by = window.today  # a period is due once it has closed by then …
    if not campaign.active:  # … or, for a stopped campaign, before the day it stopped
        closes_by = min(closes_by, campaign.updated_at.astimezone(window.start.tzinfo).date())
    last = min(window.last_day, closes_by)
    found: list[tuple[Period, bool, bool]] = []
    period = period_containing(cadence, max(window.first_day, campaign.starts_on))
    if period.start < window.first_day:
        period = next_period(period)  # it belongs to the previous year's record
    while period.start <= last:
        closed = period.end < closes_by
        found.append((period, is_required(period, campaign.skip_holidays, calendar), closed))
        period = next_period(period)
    return CampaignYear(campaign.id, UNITS[cadence], tuple(found))


@dataclass
class _CheckInTally:
    checked: int = 0
    due: int = 0
    on_due: int = 0
    streak: int = 0
    minutes: int = 0
    unit: str = "次"


def _tally_campaign(tally: _CheckInTally, year: CampaignYear, checked: set[date]) -> None:
    run = 0
    for period, required, closed in year.periods:
        hit = period.start in checked
        if required and (closed or hit):
            tally.due += 1
            tally.on_due += hit
        if hit:
            run += 1
            tally.streak = max(tally.streak, run)
        elif required and closed:
            run = 0
    tally.unit = year.unit


def checkin_tallies(
    rows: Iterable[CheckInRow],
    years: dict[int, CampaignYear],
    memberships: Iterable[tuple[int, int]],
) -> dict[int, _CheckInTally]:
    """Per member: check-ins, required periods, the longest streak and minutes studied."""
    checked: dict[int, dict[int, set[date]]] = defaultdict(lambda: defaultdict(set))
    tallies: dict[int, _CheckInTally] = defaultdict(_CheckInTally)
    for row in rows:
        tally = tallies[row.member_id]
        tally.minutes += row.minutes
        if row.campaign_id is not None:
            tally.checked += 1
            checked[row.member_id][row.campaign_id].add(row.period_start)
    for campaign_id, member_id in memberships:
        if campaign_id in years:
            _tally_campaign(
                tallies[member_id], years[campaign_id], checked[member_id][campaign_id]
            )
    return tallies


def _facts(
    tally: _CheckInTally | None,
    reports: dict[str, int],
    notices: NoticeCounts | None,
    meetings: dict[str, int],
    tasks: TaskCounts | None,
    proposals: dict[str, int] | None = None,
    activities: dict[str, int] | None = None,
) -> DutyFacts:
    from storage.repos.duty import NoticeCounts, TaskCounts

    p, a = proposals or {}, activities or {}
    t = tally or _CheckInTally()
    n = notices or NoticeCounts(0, 0, 0, 0.0)
    k = tasks or TaskCounts(0, 0, 0)
    return DutyFacts(
        checkins=t.checked,
        checkins_due=t.due,
        checkin_rate=round(100 * t.on_due / t.due) if t.due else 0,
        checkins_on_due=t.on_due,
        checkin_streak=t.streak,
        study_minutes=t.minutes,
        reports_submitted=reports.get("submitted", 0),
        reports_cosigned=reports.get("cosigned", 0),
        reports_adopted=reports.get("adopted", 0),
        reports_endorsed=reports.get("endorsed", 0),
        notices=n.received,
        notices_acked=n.acked,
        notices_acked_24h=n.acked_24h,
        meetings=sum(meetings.values()),
        meetings_attended=meetings.get("attend", 0),
        meetings_excused=meetings.get("leave", 0),
        meetings_missed=meetings.get("none", 0),
        tasks=k.on_time + k.late + k.not_done,
        tasks_on_time=k.on_time,
        tasks_late=k.late,
        tasks_not_done=k.not_done,
        proposals=p.get("submitted", 0),
        proposals_accepted=p.get("accepted", 0),
        proposals_key=p.get("key", 0),
        proposals_cosigned=p.get("cosigned", 0),
        proposals_satisfied=p.get("satisfied", 0),
        activities=sum(a.values()),
        activity_kinds=tuple(sorted(a.items())),
        notice_ack_hours=round(n.ack_hours_total / n.acked, 1) if n.acked else None,
        checkin_unit=t.unit,
    )


async def collect_facts(
    tx: Tx, window: YearWindow, calendar: WorkCalendar, member_ids: Sequence[int]
) -> dict[int, DutyFacts]:
    """The facts of ``member_ids`` for the year: one grouped query per kind of fact."""
    wanted = list(member_ids)
    ids = None if len(wanted) > FILTER_LIMIT else wanted
    years = {
        c.id: campaign_year(c, window, calendar)
        for c in await tx.campaigns.all()
        if c.starts_on <= window.last_day
    }
    rows = await tx.duty.checkins(window.first_day, window.last_day, ids)
    tallies = checkin_tallies(rows, years, await tx.duty.campaign_members())
    reports = await tx.duty.report_counts(window.year, ids)
    notices = await tx.duty.notice_counts(window.start, window.as_of, ids)
    meetings = await tx.duty.meeting_counts(window.start, window.as_of, ids)
    tasks = await tx.duty.task_counts(window.start, window.end, window.as_of, ids)
    proposals = await tx.proposals.duty_counts(window.year, ids)
    activities = await tx.activities.duty_counts(window.first_day, window.last_day, ids)
    return {
        m: _facts(
            tallies.get(m),
            reports.get(m, {}),
            notices.get(m),
            meetings.get(m, {}),
            tasks.get(m),
            proposals.get(m),
            activities.get(m),
        )
        for m in wanted
    }
