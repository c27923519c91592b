"""履职档案 in chat: ``我的履职`` for a member's own year; ``履职 张伟`` / ``履职 第3学习小组``
for secretaries. A member asking for someone else's record is refused (docs/domain.md: a member
never sees another member's reports).

The record is computed when asked (:mod:`handlers.duty.facts`) and scored by the configured
rules (:mod:`handlers.duty.rules`), read at that moment: a changed rules file applies at once.

A grade (等次) is a judgement the office makes at the year's end: it is shown only for a year
that has ended and only by rules the office chose (``[duty] rules_file``). During the year the
record shows the points so far and what is still required; with the built-in example rules it
shows what is required, without points or grades; a year with nothing recorded says so.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from bot.config import Config
from bot.dispatcher import OFFICE_ROLES, Context, ParseContext, Router
from bot.errors import ConfigError, UserFacingError
from bot.workcalendar import WorkCalendar
from handlers.common import find_group
from handlers.duty.facts import DutyFacts, YearWindow, collect_facts
from handlers.duty.rules import Score, ScoringRules, load_rules, score
from handlers.text.normalize import normalize
from handlers.text.slots import group_names, year_of

if TYPE_CHECKING:
    from storage import Tx
    from storage.repos.duty import RosterRow

log = logging.getLogger(__name__)
router = Router("duty")

_NOUN = r"(?:档案|情况|记录|得分|评分|考核)?"
_YEAR = r"(?:\s*(?P<{0}>\d{{4}})\s*年?度?)?"
_MINE = re.compile(
    rf"^(?:查看|查询)?(?:我的)?{_YEAR.format('y1')}履职{_NOUN}{_YEAR.format('y2')}$"
)
_LOOKUP = re.compile(
    rf"^(?:查看|查询)?履职{_NOUN}\s+(?P<target>(?!\d+年?度?$)[^\s，。,]{{1,20}}?){_YEAR.format('y1')}$"
)
_LOOKUP_OF = re.compile(
    rf"^(?:查看|查询)?(?P<target>(?!我$)[^\s，。,]{{1,20}}?) ?的?{_YEAR.format('y1')}履职"
    r"(?:档案|情况|记录|得分|评分|考核)$"
)
DENIED = "抱歉，委员只能查看自己的履职档案，请发送「我的履职」。"
_FALLBACK = load_rules(None)  # when the rules file broke: scores nobody sees, facts still shown


@dataclass(frozen=True, slots=True)
class MyDuty:
    """``我的履职`` / ``我的履职 2024`` / ``履职档案`` (no one named: one's own)."""

    intent: ClassVar[str] = "duty_mine"
    year: int | None


@dataclass(frozen=True, slots=True)
class DutyLookup:
    """``履职 张伟`` / ``履职 第3学习小组 2024`` / ``张伟的履职档案`` (secretaries)."""

    intent: ClassVar[str] = "duty_lookup"
    target: str
    year: int | None


def parse_duty(text: str, _: ParseContext) -> MyDuty | DutyLookup | None:
    clean = normalize(text)
    match = _MINE.fullmatch(clean)
    if match:
        return MyDuty(_year(match["y1"] or match["y2"]))
    match = _LOOKUP.fullmatch(clean) or _LOOKUP_OF.fullmatch(clean)
    if match:
        return DutyLookup(match["target"], _year(match["y1"]))
    return None


def parse_mine(text: str, pctx: ParseContext) -> MyDuty | None:
    value = parse_duty(text, pctx)
    return value if isinstance(value, MyDuty) else None


_HONORIFIC = re.compile(r"(?<=[\u4e00-\u9fff]{2})(?:委员|同志|老师|主任|主席)$")
# The words before a name asked about (帮我查一下王芳的履职, 调出陈静去年的履职记录); the
# understanding of natural phrasings reads names after the same words.
LOOKUP_VERB = (
    r"(?:帮我)?(?:把|将)?(?:导出|查看|查询|查一?下|查查|看看|看一?下|调出|调一?下)?(?:把|将)?"
)
_LOOKUP_VERB = re.compile("^" + LOOKUP_VERB)


def parse_lookup(text: str, pctx: ParseContext) -> DutyLookup | None:
    value = parse_duty(text, pctx)
    if not isinstance(value, DutyLookup):
        return None
    target = _LOOKUP_VERB.sub("", value.target)
    if not target or "我" in target or "自己" in target:
        return None  # 看看我的履职档案 is the sender's own record
    if len(target) > 10:
        return None  # a sentence about 履职 (请全体委员…前上报年度履职情况), not a name
    year = value.year
    written = re.search(r"今年|去年|前年|本年度|(?<!\d)20\d\d(?:年度?)?(?!\d)", target)
    if written is not None:  # 李娜今年, 李娜2027年: the name, and the year it names
        year = year or year_of(written[0], pctx.now)
        target = (target[: written.start()] + target[written.end() :]).rstrip("的")
    named = group_names(target)
    if not named:
        target = _HONORIFIC.sub("", target) or target  # 李春燕委员, 赵强同志: the name
    return DutyLookup(named[0] if named else target, year) if target else None


def _year(text: str | None) -> int | None:
    return int(text) if text else None


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DutyRecord:
    """One member's year: who, the facts, and the score by the rules in force."""

    member: RosterRow
    facts: DutyFacts
    score: Score


async def year_records(
    tx: Tx,
    window: YearWindow,
    calendar: WorkCalendar,
    rules: ScoringRules,
    members: Sequence[RosterRow],
) -> list[DutyRecord]:
    facts = await collect_facts(tx, window, calendar, [m.id for m in members])
    return [DutyRecord(m, facts[m.id], score(facts[m.id], rules)) for m in members]


@dataclass(frozen=True, slots=True)
class Grading:
    """How far a record's score may be shown."""

    rules: ScoringRules | None  # None: the office's file went bad after start-up
    office: bool  # the office chose the rules ([duty] rules_file), not the built-in example
    final: bool  # the year has ended: a grade may be given

    @classmethod
    def of(cls, config: Config, window: YearWindow) -> Grading:
        office = bool(config.duty.rules_file)
        return cls(rules_of(config), office, window.as_of >= window.end)


NO_RULES = "机关尚未设定评分规则，暂不计分、不评等次。"
LATER = "等次在年度结束后评定"


def check_rules(config: Config) -> None:
    """Start-up check: read the scoring rules once so that a bad file stops ``serve`` (and
    every command that scores) with one clear line instead of failing later."""
    load_rules(config.duty.rules_file)


def rules_of(config: Config) -> ScoringRules | None:
    """The rules in force, or None (logged) when the file went bad after start-up."""
    try:
        return load_rules(config.duty.rules_file)
    except ConfigError as exc:
        log.error("duty scoring rules: %s", exc)
        return None


def _window(ctx: Context, year: int | None) -> YearWindow:
    wanted = year or ctx.now.year
    if not 2000 <= wanted <= ctx.now.year:
        raise UserFacingError(f"没有{wanted}年的履职档案，请写 2000—{ctx.now.year} 之间的年份。")
    return YearWindow.of(wanted, ctx.now, ctx.zone)


# -- texts -------------------------------------------------------------------------------------


def _as_of(window: YearWindow) -> str:
    if window.as_of >= window.end:
        return "全年"
    return f"截至{window.as_of.month}月{window.as_of.day}日"


def fact_lines(f: DutyFacts) -> list[str]:
    study = f"学习打卡 {f.checkins} 次"
    if f.checkins_due:
        study += f"（应打卡 {f.checkins_due}，打卡率 {f.checkin_rate}%）"
    if f.checkin_streak:
        study += f"，最长连续 {f.checkin_streak} {f.checkin_unit}"
    if f.study_minutes:
        study += f"，学习 {f.study_minutes} 分钟"
    notices = f"通知 确认 {f.notices_acked}/{f.notices}"
    if f.notices_acked:
        notices += f"，24小时内 {f.notices_acked_24h}"
    lines = [
        study,
        f"社情民意 提交 {f.reports_submitted} 篇，采用 {f.reports_adopted}，"
        f"获批示 {f.reports_endorsed}，联名 {f.reports_cosigned}",
    ]
    if f.proposals or f.proposals_cosigned:  # shown once there is one (提案 came later)
        lines.append(
            f"提案 提交 {f.proposals} 件，立案 {f.proposals_accepted}，重点 {f.proposals_key}，"
            f"联名 {f.proposals_cosigned}，满意 {f.proposals_satisfied}"
        )
    if f.activities:
        kinds = "、".join(f"{kind} {n}" for kind, n in f.activity_kinds)
        lines.append(f"履职活动 {f.activities} 次（{kinds}）")
    return [
        *lines,
        notices,
        f"会议 出席 {f.meetings_attended}，请假 {f.meetings_excused}，未回执 {f.meetings_missed}",
        f"督办 按时完成 {f.tasks_on_time}，逾期完成 {f.tasks_late}，未完成 {f.tasks_not_done}",
    ]


def record_text(
    record: DutyRecord, window: YearWindow, grading: Grading, *, sector: bool = False
) -> str:
    """A member's year, briefly (我的履职)."""
    who = record.member.name
    if sector:
        who += f"（{record.member.sector or '未填界别'}）"
    if record.facts.empty and window.as_of >= window.end:
        return (
            f"{who} {window.year}年没有履职记录（{_as_of(window)}）：这一年履职助手没有记下"
            f"打卡、社情民意、提案、履职活动、通知、会议或督办。"
        )
    head = f"{who} {window.year}年履职档案（{_as_of(window)}）"
    lines = [head, *fact_lines(record.facts)]
    rules, s = grading.rules, record.score
    if rules is None:
        lines.append("评分规则文件有误，暂不评分，请联系机关管理员。")
    elif grading.office and grading.final:
        lines.append(f"得分 {s.total:g} 分 · {s.grade}（{rules.name}）")
        if s.unmet:
            lines.append("尚未达到：" + "；".join(s.unmet))
    else:
        if grading.office:
            lines.append(f"目前积分 {s.total:g} 分（{rules.name}，{LATER}）")
        if s.unmet:
            lines.append("尚需完成：" + "；".join(s.unmet))
        if not grading.office:
            lines.append(NO_RULES)
    return "\n".join(lines)


def group_text(
    name: str, records: Sequence[DutyRecord], window: YearWindow, grading: Grading
) -> str:
    """A group's year for a secretary: averages, grades, who falls short, everyone's score."""
    lines = [f"{name} {window.year}年履职情况（{len(records)}人，{_as_of(window)}）"]
    due = [r.facts for r in records if r.facts.checkins_due]
    rate = f"{round(sum(f.checkin_rate for f in due) / len(due))}%" if due else "—"
    lines.append(
        f"打卡率平均 {rate}；社情民意 提交 {sum(r.facts.reports_submitted for r in records)} 篇，"
        f"采用 {sum(r.facts.reports_adopted for r in records)} 篇；"
        f"会议出席 {sum(r.facts.meetings_attended for r in records)} 人次"
    )
    rules = grading.rules
    if rules is None:
        lines.append("评分规则文件有误，暂不评分，请联系机关管理员。")
        return "\n".join(lines)
    final = grading.office and grading.final
    average = sum(r.score.total for r in records) / len(records)
    if final:
        grades = Counter(r.score.grade for r in records)
        lines.append(
            f"平均得分 {average:.1f}；" + "、".join(f"{g} {n} 人" for g, n in grades.most_common())
        )
    elif grading.office:
        lines.append(f"平均积分 {average:.1f}（{LATER}）")
    short = [r.member.name for r in records if r.score.unmet]
    if short:
        label = "未达基本要求" if final else "尚未完成基本要求"
        lines.append(f"{label} {len(short)} 人：" + "、".join(short[:30]))
    if not grading.office:
        lines.append(NO_RULES)
        return "\n".join(lines)
    ranked = sorted(records, key=lambda r: (-r.score.total, r.member.id))
    grade = (lambda r: f" {r.score.grade}") if final else (lambda r: "")
    lines += [f"· {r.member.name} {r.score.total:g} 分{grade(r)}" for r in ranked]
    lines.append(f"评分规则：{rules.name}")
    return "\n".join(lines)


# -- handlers ----------------------------------------------------------------------------------


@router.message(parse_mine)
async def my_record(value: MyDuty, ctx: Context) -> None:
    window = _window(ctx, value.year)
    grading = Grading.of(ctx.config, window)
    members = await ctx.tx.duty.roster([ctx.member.id])
    records = await year_records(ctx.tx, window, ctx.calendar, grading.rules or _FALLBACK, members)
    ctx.reply(record_text(records[0], window, grading))


@router.message(parse_lookup, roles=sorted(OFFICE_ROLES), denied=DENIED)
async def lookup(value: DutyLookup, ctx: Context) -> None:
    window = _window(ctx, value.year)
    grading = Grading.of(ctx.config, window)
    rules = grading.rules
    group = await find_group(ctx.tx, value.target)
    if group is not None:
        ids = await ctx.tx.groups.member_ids(group.id)
        members = [m for m in await ctx.tx.duty.roster(ids) if m.role == "member"]
        if not members:
            raise UserFacingError(f"{group.name}里还没有委员。")
        records = await year_records(ctx.tx, window, ctx.calendar, rules or _FALLBACK, members)
        ctx.reply(group_text(group.name, records, window, grading))
        return
    found = await ctx.tx.members.by_name(value.target)
    if not found:
        raise UserFacingError(f"没有找到委员或小组「{value.target}」。")
    members = await ctx.tx.duty.roster([m.id for m in found])
    records = await year_records(ctx.tx, window, ctx.calendar, rules or _FALLBACK, members)
    namesakes = len(records) > 1  # 同名: tell them apart by 界别
    ctx.reply("\n\n".join(record_text(r, window, grading, sector=namesakes) for r in records))
