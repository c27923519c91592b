"""社情民意: the life cycle as an explicit state machine, submission, and who is told what.

The life cycle (docs/domain.md §2)::

    draft ─► submitted ─► under_review ─┬─► returned ─► submitted …
                                         ├─► rejected
                                         └─► adopted ─► forwarded ─► endorsed ─► assigned
                                                                      ─► answered ─► closed

:data:`TRANSITIONS` is the whole table: an action is allowed from its listed states only.
Reading of the diagram, stated once here:

* ``review`` (受理) is what a secretary's first ``查询`` of a submitted report does; 采用/退回/
  不予采用 may also be decided straight from ``submitted`` (the office often decides at once).
* 报送, 批示, 转办 and 反馈 may repeat (a report can go to 省政协 after 市政协, be endorsed by
  two leaders, be handled by two departments): each is also allowed from its own target state.
* ``closed``, ``rejected`` are final.

Every step writes a ``report_history`` row (who, when, comment, level) and notifies each
submitter and co-submitter (联名) except the one who acted (they got the reply), under the key
``report:{report id}:{history id}:{userid}``: the delivery's unique key makes it exactly once.

One audit rule (docs/architecture.md): every office step — a transition marked ``office`` and a
category correction — also writes one audit row (操作记录), here, in the same transaction, so the
same step leaves the same record whichever door it came through: the chat, ``lvzhi reports
act`` or the console. Action ``report.{action}``, entity ``report`` and the report's number,
the actor's label (``user:{userid}``, ``cli``, ``console:{account}``), the step's time, and
detail ``from``, ``to``, ``comment`` (first 200 characters), ``level``, ``target``, ``notified``
(how many were told). A member's own steps (提交, 重新提交) are their history rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.errors import UserFacingError
from bot.messages import Outgoing, Send, member_address
from handlers.reports.parse import format_number

if TYPE_CHECKING:
    from storage import Tx
    from storage.base import KeptMedia
    from storage.models import Member
    from storage.models_reports import Report, ReportHistory

STATE_NAMES = {
    "draft": "草稿",
    "submitted": "已提交",
    "under_review": "审核中",
    "returned": "退回修改",
    "rejected": "不予采用",
    "adopted": "已采用",
    "forwarded": "已报送",
    "endorsed": "已获批示",
    "assigned": "已转办",
    "answered": "已反馈",
    "closed": "已办结",
}
STATES = tuple(STATE_NAMES)
ACTION_NAMES = {
    "submit": "提交",
    "resubmit": "重新提交",
    "review": "受理",
    "adopt": "采用",
    "return": "退回",
    "reject": "不予采用",
    "forward": "报送",
    "endorse": "批示",
    "assign": "转办",
    "answer": "反馈",
    "close": "办结",
    "category": "修改类别",
}
PENDING_REVIEW = ("submitted", "under_review")


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[str]
    target: str
    office: bool  # only secretaries/admins (the others: the report's submitter)


def _t(sources: Sequence[str], target: str, office: bool = True) -> Transition:
    return Transition(frozenset(sources), target, office)


TRANSITIONS: dict[str, Transition] = {
    "submit": _t(["draft"], "submitted", office=False),
    "resubmit": _t(["returned"], "submitted", office=False),
    "review": _t(["submitted"], "under_review"),
    "adopt": _t(PENDING_REVIEW, "adopted"),
    "return": _t(PENDING_REVIEW, "returned"),
    "reject": _t(PENDING_REVIEW, "rejected"),
    "forward": _t(["adopted", "forwarded"], "forwarded"),
    "endorse": _t(["forwarded", "endorsed"], "endorsed"),
    "assign": _t(["endorsed", "assigned"], "assigned"),
    "answer": _t(["assigned", "answered"], "answered"),
    "close": _t(["answered"], "closed"),
}


def not_found(number: str) -> str:
    """The answer to a number that does not exist, and to one the asker may not read."""
    return f"没有找到编号为 {number} 的社情民意，请核对编号。"


class TransitionRefused(UserFacingError):
    """An action the report's current state does not allow."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a member of the roster (chat) or an operator (``cli``)."""

    label: str  # user:{userid} | cli
    member: Member | None = None

    @classmethod
    def of(cls, member: Member) -> Actor:
        return cls(f"user:{member.userid}", member)


def waited(span: timedelta) -> str:
    """``2天3小时``, ``5小时``: how long a report has waited."""
    days, hours = span.days, span.seconds // 3600
    return f"{days}天{hours}小时" if days else f"{hours}小时"


def allowed_actions(state: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if state in t.sources]


def check_transition(action: str, report: Report) -> Transition:
    transition = TRANSITIONS[action]
    if report.state not in transition.sources:
        options = "、".join(
            ACTION_NAMES[a] for a in allowed_actions(report.state) if a != "review"
        )
        hint = f"现在可以：{options}。" if options else "流程已结束。"
        raise TransitionRefused(
            f"{report.number}目前为「{STATE_NAMES[report.state]}」，不能{ACTION_NAMES[action]}。"
            + hint
        )
    return transition


_REQUIRED = {
    "return": "请写明退回意见，例如「退回 SQ-2025-0042 请补充具体数据」。",
    "reject": "请写明不予采用的理由，例如「不予采用 SQ-2025-0042 已有部门在办理」。",
    "answer": "请写明反馈内容，例如「反馈 SQ-2025-0042 市水务局已安排专项资金」。",
}


def check_details(action: str, comment: str | None, level: str | None, target: str | None) -> None:
    """Refuse an office action missing what it must record (意见, 级别, 部门 …)."""
    if action in _REQUIRED and not comment:
        raise UserFacingError(_REQUIRED[action])
    if action == "forward" and not level:
        raise UserFacingError("请写明报送到哪一级：市政协、省政协或全国政协。")
    if action == "endorse" and (not level or not comment):
        raise UserFacingError(
            "请写明批示级别和内容，例如「批示 SQ-2025-0042 市领导 请市水务局研究办理」。"
        )
    if action == "assign" and not target:
        raise UserFacingError("请写明转办部门，例如「转办 SQ-2025-0042 市水务局」。")


async def apply_action(
    tx: Tx,
    report: Report,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    comment: str = "",
    level: str = "",
    target: str = "",
) -> tuple[ReportHistory, list[Send]]:
    """Move ``report`` by ``action`` (refused unless the table allows it); record and notify."""
    transition = check_transition(action, report)
    entry = await _record(
        tx, report, action, transition.target, actor, now, comment, level, target
    )
    report.state = transition.target
    report.state_since = now
    report.updated_at = now
    notes = await notifications(tx, report, entry, actor)
    if transition.office:
        await audit(tx, report, entry, len(notes))
    return entry, notes


async def recategorize(
    tx: Tx, report: Report, category: str, *, actor: Actor, now: datetime
) -> tuple[ReportHistory, list[Send]]:
    """Correct the category (no state change, but recorded and told like one)."""
    if report.state in ("closed", "rejected"):
        raise TransitionRefused(f"{report.number}已{STATE_NAMES[report.state]}，不能再修改类别。")
    old = report.category
    report.category = category
    report.updated_at = now
    entry = await _record(
        tx, report, "category", report.state, actor, now, f"{old}→{category}", "", category
    )
    notes = await notifications(tx, report, entry, actor)
    await audit(tx, report, entry, len(notes))
    return entry, notes


async def audit(tx: Tx, report: Report, entry: ReportHistory, notified: int) -> None:
    """The audit row of an office step (the module docstring's one audit rule)."""
    await tx.audit.step("report", report.number, entry, notified)


async def _record(
    tx: Tx,
    report: Report,
    action: str,
    to_state: str,
    actor: Actor,
    now: datetime,
    comment: str,
    level: str,
    target: str,
) -> ReportHistory:
    from storage.models_reports import ReportHistory

    return await tx.reports.add_history(
        ReportHistory(
            report_id=report.id,
            action=action,
            from_state=report.state,
            to_state=to_state,
            actor=actor.label,
            actor_id=actor.member.id if actor.member else None,
            at=now,
            comment=comment,
            level=level,
            target=target,
        )
    )


async def submit_report(
    tx: Tx,
    *,
    submitter: Member,
    title: str,
    category: str,
    content: str,
    cosigners: Sequence[Member],
    attachments: Sequence[dict[str, Any]],
    now: datetime,
) -> tuple[Report, list[Send]]:
    """Number and store a report (draft → submitted) in the caller's transaction."""
    from storage.models_reports import Report, ReportAttachment

    seq = await tx.reports.next_seq(now.year)
    report = Report(
        number=format_number(now.year, seq),
        year=now.year,
        seq=seq,
        title=title,
        category=category,
        content=content,
        submitter_id=submitter.id,
        sector=submitter.sector,
        state="draft",
        state_since=now,
        submitted_at=now,
        updated_at=now,
    )
    roles = [(submitter.id, "lead")] + [(m.id, "co") for m in cosigners if m.id != submitter.id]
    await tx.reports.add(report, roles)
    for item in attachments:
        await tx.reports.add_attachment(
            ReportAttachment(
                report_id=report.id,
                kind=str(item["kind"]),
                media_id=str(item["media_id"]),
                filename=str(item.get("filename", "")),
                received_at=datetime.fromisoformat(str(item["at"])),
                detail={},
            )
        )
    await tx.reports.add_version(report, author_id=submitter.id, at=now)
    _, notes = await apply_action(tx, report, "submit", actor=Actor.of(submitter), now=now)
    return report, notes


async def resubmit_report(
    tx: Tx, report: Report, *, title: str, content: str, actor: Actor, now: datetime
) -> tuple[int, list[Send]]:
    """重新提交 after 退回: the new text becomes the report's next version (the earlier ones
    stay in ``report_versions``); returns the version number and the notifications."""
    check_transition("resubmit", report)
    changed = (title, content) != (report.title, report.content)
    report.title, report.content = title, content
    version = await tx.reports.add_version(
        report, author_id=actor.member.id if actor.member else None, at=now
    )
    comment = f"第{version}版" + ("（已修改内容）" if changed else "（内容未改）")
    _, notes = await apply_action(tx, report, "resubmit", actor=actor, now=now, comment=comment)
    return version, notes


def change_text(report: Report, entry: ReportHistory, lead: str) -> str:
    """What a submitter is told about one step, in Chinese."""
    head = f"【社情民意】《{report.title}》（{report.number}）"
    comment = f"：{entry.comment}" if entry.comment else "。"
    match entry.action:
        case "submit":
            return f"{head}已由{lead}提交，您是联名人。我们会及时告诉您办理进展。"
        case "resubmit":
            return f"{head}已重新提交，等待审核。"
        case "review":
            return f"{head}已受理，正在审核。"
        case "adopt":
            return f"{head}已被采用{comment}"
        case "return":
            return (
                f"{head}被退回修改，意见{comment}\n修改后请发送「重新提交 {report.number}」"
                "并在下一行写上修改后的内容。"
            )
        case "reject":
            return f"{head}未予采用，理由{comment}"
        case "forward":
            return f"{head}已报送{entry.level}{comment}"
        case "endorse":
            return f"{head}获{entry.target or entry.level}批示{comment}"
        case "assign":
            return f"{head}已转{entry.target}办理{comment}"
        case "answer":
            return f"{head}收到办理反馈{comment}"
        case "close":
            return f"{head}已办结{comment}"
        case "category":
            return f"{head}的类别已调整为「{entry.target}」。"
    return f"{head}状态更新为「{STATE_NAMES[entry.to_state]}」。"


async def notifications(tx: Tx, report: Report, entry: ReportHistory, actor: Actor) -> list[Send]:
    submitters = await tx.reports.submitters(report.id)
    lead = next((m.name for m, role in submitters if role == "lead"), "")
    text = change_text(report, entry, lead)
    acting = actor.member.id if actor.member else None
    return [
        Send(
            f"report:{report.id}:{entry.id}:{member_address(member)}",
            Outgoing(text, to_member=member_address(member)),
        )
        for member, _ in submitters
        if member.active and member.id != acting
    ]


# -- the history as people read it ------------------------------------------------------------

ATTACHMENT_KINDS = {"image": "图片", "file": "文件", "video": "视频", "voice": "语音"}
ATTACHMENT_STATES = {
    "pending": "待保存",
    "retrying": "重试中",
    "stored": "已保存",
    "failed": "保存失败",
    "expired": "已过期（企业微信只保留3天）",
}


def attachment_line(item: KeptMedia) -> str:
    """``图片 现场.jpg，已保存（SQ-2025-0001/3-现场.jpg）``: one attachment and its media's state
    (``lvzhi reports/proposals show``)."""
    kind = ATTACHMENT_KINDS.get(item.kind, item.kind)
    name = f" {item.filename}" if item.filename else ""
    state = ATTACHMENT_STATES.get(item.status, item.status)
    return f"{kind}{name}，{state}" + (f"（{item.stored_ref}）" if item.stored_ref else "")


def attachment_summary(items: Sequence[KeptMedia]) -> str:
    """``3 个（已保存 2 个，已过期 1 个）``: how many, and where their media stands."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.status] = counts.get(item.status, 0) + 1
    short = {**ATTACHMENT_STATES, "expired": "已过期"}
    parts = [f"{short.get(status, status)} {n} 个" for status, n in counts.items()]
    return f"{len(items)} 个（{'，'.join(parts)}）" if items else "无"


@dataclass(frozen=True, slots=True)
class Step:
    """One history row as the console and ``lvzhi reports show`` show it (Chinese names)."""

    at: datetime
    action: str
    state: str
    actor: str
    detail: str
    comment: str


async def history_steps(tx: Tx, history: Sequence[ReportHistory]) -> list[Step]:
    names: dict[int, str] = {}
    for actor_id in {entry.actor_id for entry in history if entry.actor_id is not None}:
        member = await tx.members.get(actor_id)
        if member is not None:
            names[actor_id] = member.name
    return [
        Step(
            at=entry.at,
            action=ACTION_NAMES.get(entry.action, entry.action),
            state=STATE_NAMES.get(entry.to_state, entry.to_state),
            actor=actor_label(entry, names),
            detail=" ".join(dict.fromkeys(x for x in (entry.level, entry.target) if x))
            if entry.action != "category"
            else "",
            comment=entry.comment,
        )
        for entry in history
    ]


def actor_label(entry: ReportHistory, names: dict[int, str]) -> str:
    """Who took a step, for people: a member's name, 管理后台 account, or 命令行."""
    if entry.actor_id is not None and entry.actor_id in names:
        return names[entry.actor_id]
    if entry.actor.startswith("console:"):
        return f"管理后台 {entry.actor.removeprefix('console:')}"
    if entry.actor == "cli":
        return "命令行"
    return entry.actor.removeprefix("user:")
