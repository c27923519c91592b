"""打卡学习: check-ins, make-ups, queries, and setting campaigns up in chat.

A check-in written 1:1 to the app counts for the campaign of the member's study group; one
written in a group counts for that group's campaign; with no campaign it is kept as a personal
study record. One member counts once per period: a second check-in adds to the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.dispatcher import OFFICE_ROLES, Context, ParseContext, Router
from bot.errors import UserFacingError
from handlers.checkin.parse import (
    CheckInIntent,
    MakeUpIntent,
    QueryIntent,
    parse_checkin,
    parse_checkin_query,
    parse_makeup,
)
from handlers.checkin.rules import (
    CampaignCommand,
    CampaignStop,
    PushSpec,
    describe_push,
    is_required,
    makeup_verdict,
    parse_campaign_command,
    streak,
)
from handlers.common import chat_group, find_group, names, study_group
from handlers.text.periods import (
    CADENCE_NAMES,
    CURRENT_NOUN,
    Period,
    as_cadence,
    period_containing,
    period_of_span,
)

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import Campaign, Group

router = Router("checkin")
OFFICE = sorted(OFFICE_ROLES)
UNITS = {"daily": "天", "weekly": "周", "monthly": "个月"}
CAMPAIGN_DENIED = (
    "抱歉，开启或关闭打卡活动仅限机关秘书。参加学习打卡请发送「打卡 学习内容 时长」。"
)


def _checkin(text: str, _: ParseContext) -> CheckInIntent | None:
    return parse_checkin(text)


def _makeup(text: str, pctx: ParseContext) -> MakeUpIntent | None:
    return parse_makeup(text, pctx.now)


def _query(text: str, _: ParseContext) -> QueryIntent | None:
    return parse_checkin_query(text)


def _campaign(text: str, _: ParseContext) -> CampaignCommand | CampaignStop | None:
    return parse_campaign_command(text)


# -- check-in ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Where:
    """What a check-in counts for: the group and its active campaign (打卡归属)."""

    group: Group | None
    campaign: Campaign | None
    outsider: bool = False  # written in a group's chat by someone not on its roster


async def _campaign_of(ctx: Context) -> Where:
    group = await chat_group(ctx.tx, ctx.incoming)
    if group is None:
        # 1:1 (or a chat we do not know): the member's study group, with its campaign at once.
        group, campaign = await ctx.tx.campaigns.of_study_group(ctx.member.id)
    elif ctx.member.id not in await ctx.tx.groups.member_ids(group.id):
        return Where(group, None, outsider=True)
    else:
        campaign = await ctx.tx.campaigns.for_group(group.id)
    if group is None:
        return Where(None, None)
    return Where(group, campaign if campaign is not None and campaign.active else None)


async def _record(
    ctx: Context,
    campaign: Campaign | None,
    period: Period,
    value: CheckInIntent | MakeUpIntent,
    *,
    makeup: bool,
) -> bool:
    """Add the study to the member's row for ``period``; True if it merged into an earlier one."""
    from storage.models import CheckIn

    now = ctx.now
    entry = {"at": now.isoformat(), "text": ctx.incoming.text[:2000], "makeup": makeup}
    campaign_id = campaign.id if campaign else None
    first = {
        "campaign_id": campaign_id,
        "member_id": ctx.member.id,
        "period_start": period.start,
        "period_end": period.end,
        "titles": list(dict.fromkeys(value.titles)),
        "minutes": value.minutes or 0,
        "notes": [value.note] if value.note else [],
        "entries": [entry],
        "makeup": makeup,
        "first_at": now,
        "last_at": now,
    }
    # Most check-ins are a period's first: try the insert, and merge only if one was there.
    if campaign is not None and await ctx.tx.checkins.add_if_new(first):
        return False
    row = await ctx.tx.checkins.find(campaign_id, ctx.member.id, period.start)
    if row is None:
        await ctx.tx.checkins.add(CheckIn(**first))
        return False
    row.titles = list(dict.fromkeys([*row.titles, *value.titles]))
    row.minutes += value.minutes or 0
    row.notes = [*row.notes, value.note] if value.note else list(row.notes)
    row.entries = [*row.entries, entry]
    row.last_at = now
    return True


async def _progress(ctx: Context, campaign: Campaign, group: Group, period: Period) -> str:
    total, done = await ctx.tx.checkins.progress(campaign.id, period.start, group.id)
    noun = CURRENT_NOUN[campaign.cadence] if period.contains(ctx.now.date()) else period.label
    return f"{group.name}{noun}已打卡 {done}/{total}"


async def _streak(ctx: Context, campaign: Campaign) -> int:
    checked = set(await ctx.tx.checkins.periods_of(campaign.id, ctx.member.id))
    return streak(
        as_cadence(campaign.cadence),
        ctx.now.date(),
        checked,
        campaign.skip_holidays,
        ctx.calendar,
        campaign.starts_on,
    )


def _study_summary(value: CheckInIntent | MakeUpIntent) -> str:
    parts = []
    if value.titles:
        parts.append("、".join(f"《{t}》" for t in value.titles))
    elif value.material:
        parts.append(value.material[:30])
    if value.minutes:
        parts.append(f"{value.minutes}分钟")
    return f"（{'，'.join(parts)}）" if parts else ""


@router.message(_checkin)
async def check_in(value: CheckInIntent, ctx: Context) -> None:
    where = await _campaign_of(ctx)
    group, campaign = where.group, where.campaign
    today = ctx.now.date()
    if campaign is None or group is None:
        await _record(ctx, None, period_containing("daily", today), value, makeup=False)
        if group is not None and where.outsider:
            ctx.reply(
                f"已记录您的学习{_study_summary(value)}。您不在{group.name}的名单中，这次没有计入"
                f"该组的打卡，已作为您的个人学习记录保存。要计入您所在小组的打卡，"
                f"请在本组群里或私信我发送「打卡 学习内容 时长」。",
                shareable=True,
            )
            return
        none = f"{group.name}目前没有进行中的打卡活动" if group else "您所在的小组目前没有打卡活动"
        ctx.reply(
            f"已记录您的学习{_study_summary(value)}。{none}，本次作为个人学习记录保存。",
            shareable=True,
        )
        return
    period = period_containing(as_cadence(campaign.cadence), today)
    merged = await _record(ctx, campaign, period, value, makeup=False)
    noun = CURRENT_NOUN[campaign.cadence]
    head = (
        f"已补充到{noun}的打卡记录{_study_summary(value)}，{noun}仍计 1 次。"
        if merged
        else f"打卡成功{_study_summary(value)}！已计入{noun}（{period.label}）。"
    )
    days = await _streak(ctx, campaign)
    ctx.reply(  # the group's 接龙: meant to be read by the group
        f"{head}\n已连续打卡 {days} {UNITS[campaign.cadence]}。\n"
        + await _progress(ctx, campaign, group, period),
        shareable=True,
    )


@router.message(_makeup)
async def make_up(value: MakeUpIntent, ctx: Context) -> None:
    if value.date is None:
        raise UserFacingError("请写明补哪一天，例如：补卡 11月18日 读《乡土中国》40分钟")
    where = await _campaign_of(ctx)
    group, campaign = where.group, where.campaign
    if group is not None and where.outsider:
        raise UserFacingError(
            f"您不在{group.name}的名单中，不能在这里补该组的卡。补您所在小组的打卡，"
            f"请在本组群里或私信我发送「补卡 日期 学习内容」。"
        )
    if campaign is None or group is None:
        raise UserFacingError("您所在的小组目前没有打卡活动，不需要补卡。")
    today = ctx.now.date()
    period = period_containing(as_cadence(campaign.cadence), value.date)
    month_start = datetime.combine(today.replace(day=1), datetime.min.time(), tzinfo=ctx.zone)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    used = await ctx.tx.checkins.makeups_between(
        campaign.id, ctx.member.id, month_start, next_month
    )
    verdict = makeup_verdict(
        period,
        today,
        campaign.makeup_days,
        used,
        campaign.makeup_per_month,
        starts_on=campaign.starts_on,
        required=is_required(period, campaign.skip_holidays, ctx.calendar),
    )
    if not verdict.allowed:
        raise UserFacingError(f"补卡未成功：{verdict.reason}")
    is_current = period.contains(today)
    merged = await _record(ctx, campaign, period, value, makeup=not is_current)
    if merged:
        head = f"{period.label}已有打卡记录，已补充学习内容{_study_summary(value)}。"
    elif is_current:
        head = f"{period.label}还在进行中，已按正常打卡计入{_study_summary(value)}。"
    else:
        head = (
            f"补卡成功{_study_summary(value)}！已计入{period.label}。"
            f"本月已补卡 {used + 1}/{campaign.makeup_per_month} 次。"
        )
    streak = await _streak(ctx, campaign)
    ctx.reply(f"{head}\n已连续打卡 {streak} {UNITS[campaign.cadence]}。", shareable=True)


# -- queries -----------------------------------------------------------------------------------


@router.message(_query)
async def query(value: QueryIntent, ctx: Context) -> None:
    if value.scope == "mine":
        await _my_checkins(ctx)
        return
    if value.group:
        group = await find_group(ctx.tx, value.group)
        if group is None:
            raise UserFacingError(f"没有找到「{value.group}」。")
        groups = [group]
    else:
        here = await chat_group(ctx.tx, ctx.incoming)
        if here is None and ctx.is_office:  # a secretary asking 1:1: every active campaign
            active = {c.group_id for c in await ctx.tx.campaigns.active()}
            groups = [g for g in await ctx.tx.groups.all() if g.id in active]
        else:
            own = here or await study_group(ctx.tx, ctx.member)
            groups = [own] if own else []
    lines = [await _group_report(ctx, group) for group in groups]
    ctx.reply("\n\n".join(lines) if lines else "目前没有进行中的打卡活动。")


async def _group_report(ctx: Context, group: Group) -> str:
    campaign = await ctx.tx.campaigns.for_group(group.id)
    if campaign is None or not campaign.active:
        return f"{group.name}目前没有进行中的打卡活动。"
    period = period_containing(as_cadence(campaign.cadence), ctx.now.date())
    members = await ctx.tx.groups.members(group.id)
    checked = await ctx.tx.checkins.checked_member_ids(campaign.id, period.start)
    done = [m for m in members if m.id in checked]
    rate = f"{len(done) * 100 // len(members)}%" if members else "—"
    text = (
        f"{group.name}{CURRENT_NOUN[campaign.cadence]}（{period.label}）已打卡 "
        f"{len(done)}/{len(members)}（{rate}）"
    )
    if ctx.is_office:
        missing = [m for m in members if m.id not in checked]
        text += f"\n未打卡：{names(missing)}" if missing else "\n全员已打卡 👍"
    return text


async def _my_checkins(ctx: Context) -> None:
    today = ctx.now.date()
    where = await _campaign_of(ctx)
    group, campaign = where.group, where.campaign
    rows = await ctx.tx.checkins.recent_of_member(ctx.member.id, limit=6)
    count, minutes = await ctx.tx.checkins.totals_of_member(
        ctx.member.id, today.replace(month=1, day=1), today
    )
    lines = [f"{ctx.member.name}的打卡记录："]
    if campaign is not None and group is not None:
        lines.append(
            f"{group.name}·{CADENCE_NAMES[campaign.cadence]}打卡，"
            f"已连续 {await _streak(ctx, campaign)} {UNITS[campaign.cadence]}"
        )
    lines.append(f"{today.year}年累计打卡 {count} 次，学习 {minutes} 分钟")
    for row in rows:
        label = period_of_span(row.period_start, row.period_end).label
        titles = "、".join(f"《{t}》" for t in row.titles[:3])
        extra = "（补卡）" if row.makeup else ""
        lines.append(f"· {label}{extra} {titles} {row.minutes}分钟".rstrip())
    if not rows:
        lines.append("还没有打卡记录。发送「打卡 读《乡土中国》30分钟」试试吧。")
    ctx.reply("\n".join(lines))


# -- campaigns (secretaries) -------------------------------------------------------------------


@router.message(_campaign, roles=OFFICE, denied=CAMPAIGN_DENIED)
async def campaign_command(value: CampaignCommand | CampaignStop, ctx: Context) -> None:
    group = await find_group(ctx.tx, value.group)
    if group is None:
        raise UserFacingError(f"没有找到「{value.group}」，请检查群名。")
    actor = f"user:{ctx.member.userid}"
    if isinstance(value, CampaignStop):
        existing = await ctx.tx.campaigns.for_group(group.id)
        if existing is None or not existing.active:
            raise UserFacingError(f"{group.name}目前没有进行中的打卡活动。")
        existing.active = False
        existing.updated_at = ctx.now
        await ctx.tx.audit.record(
            at=ctx.now,
            actor=actor,
            action="campaign.stop",
            entity="campaign",
            entity_id=existing.id,
        )
        ctx.reply(f"已关闭{group.name}的打卡活动。", shareable=True)
        return
    campaign = await save_campaign(ctx.tx, group, value, now=ctx.now, actor=actor)
    ctx.reply(describe_campaign(group, campaign), shareable=True)


async def save_campaign(
    tx: Tx,
    group: Group,
    command: CampaignCommand,
    *,
    now: datetime,
    actor: str,
    skip_holidays: bool | None = None,
    makeup_days: int | None = None,
    makeup_per_month: int | None = None,
) -> Campaign:
    """Create or change a group's campaign (a stopped one restarts from today)."""
    from storage.models import Campaign

    existing = await tx.campaigns.for_group(group.id)
    campaign = existing or Campaign(group_id=group.id, created_at=now, starts_on=now.date())
    campaign.cadence = command.cadence
    campaign.reminders = [r.as_json() for r in command.reminders]
    campaign.summary = command.summary.as_json()
    if existing is None or not existing.active:
        campaign.starts_on = now.date()
    for name, value in (
        ("skip_holidays", skip_holidays),
        ("makeup_days", makeup_days),
        ("makeup_per_month", makeup_per_month),
    ):
        if value is not None:
            setattr(campaign, name, value)
    campaign.active = True
    campaign.updated_at = now
    await tx.campaigns.save(campaign)
    await tx.audit.record(
        at=now,
        actor=actor,
        action="campaign.save",
        entity="campaign",
        entity_id=campaign.id,
        detail={
            "group": group.name,
            "cadence": campaign.cadence,
            "reminders": campaign.reminders,
            "summary": campaign.summary,
        },
    )
    return campaign


def describe_campaign(group: Group, campaign: Campaign) -> str:
    cadence = as_cadence(campaign.cadence)
    reminders = "、".join(describe_push(cadence, PushSpec.of(r)) for r in campaign.reminders)
    summary = describe_push(cadence, PushSpec.of(campaign.summary))
    holidays = "法定节假日不提醒" if campaign.skip_holidays else "节假日照常"
    return (
        f"已开启{group.name}的{CADENCE_NAMES[cadence]}打卡：{reminders}提醒未打卡的委员，"
        f"{summary}汇总；{holidays}；可在周期结束后{campaign.makeup_days}天内补卡，"
        f"每月最多{campaign.makeup_per_month}次。"
    )
