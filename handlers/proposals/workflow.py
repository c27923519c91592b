"""提案: the life cycle as an explicit state machine, submission, and who is told what.

::

    draft ─► submitted ─┬─► rejected (不予立案; optionally 转为社情民意 / 转来信)
                        ├─► merged (并案, into another proposal)
                        └─► accepted (立案) ─┬─► merged
                                             └─► assigned (交办: 主办/协办单位)
                                                   ─► answered (答复: text, classification)
                                                        ├─► rated (满意/基本满意) ─► closed
                                                        ├─► reopened (不满意 → 重新办理)
                                                        │      ─► assigned / answered …
                                                        └─► closed (办结 without a rating)

:data:`TRANSITIONS` is the whole table: an action is allowed from its listed states only.
重点提案 (``key``) and 领办 (``lead``) mark a proposal in any state that is not final and
leave its state as it is; a co-proposer's 附议 (``cosign``) or refusal (``decline``) is
recorded the same way. ``rejected``, ``merged`` and ``closed`` are final.

Every step writes a ``proposal_history`` row (who, when, comment, detail) and tells each
proposer and confirmed co-proposer (联名, 附议) except the one who acted, under the key
``proposal:{id}:{history id}:{userid}``: the delivery's unique key makes it exactly once.
Each waiting step has a due time (``due_at``: 审查, 交办, 答复, 满意度, 办结), from
``[proposals]``; :mod:`handlers.proposals.plan` colours and chases it.

The one audit rule of 社情民意 (:mod:`handlers.reports.workflow`, docs/architecture.md) holds
here too: every office step writes one audit row (``proposal.{action}``), here, whichever door
it came through; a proposer's or co-proposer's own steps are their history rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.config import ProposalsConfig
from bot.errors import UserFacingError
from bot.messages import Outgoing, Send, member_address
from handlers.proposals.parse import LEVELS, format_number, year_seq
from handlers.reports.parse import suggest_category
from handlers.reports.workflow import Actor, submit_report

if TYPE_CHECKING:
    from storage import Tx
    from storage.models import Member
    from storage.models_proposals import Proposal, ProposalHistory

STATE_NAMES = {
    "draft": "草稿",
    "submitted": "待审查",
    "accepted": "已立案",
    "rejected": "不予立案",
    "merged": "已并案",
    "assigned": "已交办",
    "answered": "已答复",
    "reopened": "重新办理",
    "rated": "已评价",
    "closed": "已办结",
}
STATES = tuple(STATE_NAMES)
FINAL = frozenset({"rejected", "merged", "closed"})
ACTION_NAMES = {
    "submit": "提交",
    "accept": "立案",
    "reject": "不予立案",
    "merge": "并案",
    "assign": "交办",
    "answer": "答复",
    "rate": "满意度评价",
    "dissatisfied": "不满意，重新办理",
    "close": "办结",
    "key": "列为重点提案",
    "lead": "领办",
    "cosign": "附议",
    "decline": "不附议",
}
# The step each waiting state is due for, and which [proposals] setting gives its days.
DUE = {
    "submitted": ("审查", "review_days"),
    "accepted": ("交办", "assign_days"),
    "assigned": ("答复", "answer_days"),
    "reopened": ("重新答复", "answer_days"),
    "answered": ("满意度评价", "rating_days"),
    "rated": ("办结", "assign_days"),
}


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the state stays (a mark, a 附议)
    office: bool


def _t(sources: Sequence[str], target: str | None, office: bool = True) -> Transition:
    return Transition(frozenset(sources), target, office)


_OPEN = [s for s in STATES if s not in FINAL and s != "draft"]
TRANSITIONS: dict[str, Transition] = {
    "submit": _t(["draft"], "submitted", office=False),
    "accept": _t(["submitted"], "accepted"),
    "reject": _t(["submitted"], "rejected"),
    "merge": _t(["submitted", "accepted"], "merged"),
    "assign": _t(["accepted", "assigned", "reopened"], "assigned"),
    "answer": _t(["assigned", "reopened"], "answered"),
    "rate": _t(["answered"], "rated", office=False),
    "dissatisfied": _t(["answered"], "reopened", office=False),
    "close": _t(["answered", "rated"], "closed"),
    "key": _t(_OPEN, None),
    "lead": _t(_OPEN, None),
    "cosign": _t(_OPEN, None, office=False),
    "decline": _t(_OPEN, None, office=False),
}


def not_found(number: str) -> str:
    """The answer to a number that does not exist, and to one the asker may not read."""
    return f"没有找到编号为 {number} 的提案，请核对编号。"


class TransitionRefused(UserFacingError):
    """An action the proposal's current state does not allow."""


@dataclass(frozen=True, slots=True)
class Step:
    """What an office action records besides its comment."""

    comment: str = ""
    unit: str = ""
    co_units: tuple[str, ...] = ()
    classification: str = ""  # the configured entry, e.g. "A 已解决/采纳"
    level: str = ""  # satisfied|basic|unsatisfied
    into: str = ""
    leader: str = ""
    convert: str = ""  # report|letter


def allowed_actions(state: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if state in t.sources and t.target is not None]


def check_transition(action: str, proposal: Proposal) -> Transition:
    transition = TRANSITIONS[action]
    if proposal.state not in transition.sources:
        options = "、".join(
            ACTION_NAMES[a]
            for a in allowed_actions(proposal.state)
            if TRANSITIONS[a].office and a != "merge"
        )
        hint = f"现在可以：{options}。" if options else "流程已结束。"
        if proposal.state == "answered" and not options.startswith("办结"):
            hint = "现在等待提案人评价满意度，或由秘书办结。"
        raise TransitionRefused(
            f"{proposal.number}目前为「{STATE_NAMES[proposal.state]}」，"
            f"不能{ACTION_NAMES[action]}。{hint}"
        )
    return transition


def classification_of(code: str | None, cfg: ProposalsConfig) -> str | None:
    """``A`` (or ``a``, or the entry's name) → the configured ``A 已解决/采纳``."""
    if not code:
        return None
    for entry in cfg.classifications:
        short, _, name = entry.partition(" ")
        if code.upper() == short.upper() or code == name or code in name.split("/"):
            return entry
    return None


def check_details(action: str, step: Step, cfg: ProposalsConfig) -> None:
    """Refuse an office action missing what it must record."""
    example = "TA-2025-0001"
    if action == "reject" and not step.comment:
        raise UserFacingError(
            f"请写明不予立案的理由，例如「不予立案 {example} 属于个案诉求 转为社情民意」。"
        )
    if action == "merge" and not step.into:
        raise UserFacingError(f"请写明并入哪件提案，例如「并案 TA-2025-0003 并入 {example}」。")
    if action == "assign" and not step.unit:
        raise UserFacingError(
            f"请写明主办单位，例如「交办 {example} 市交通运输局 协办：市商务局」。"
        )
    if action == "answer" and (not step.comment or not step.classification):
        codes = "、".join(cfg.classifications)
        raise UserFacingError(
            f"请写明答复的类别（{codes}）和内容，例如「答复 {example} A 已安排专项资金……」。"
        )
    if action == "lead" and not step.leader:
        raise UserFacingError(f"请写明领办的领导，例如「领办 {example} 王副主席」。")


def due_after(state: str, now: datetime, cfg: ProposalsConfig) -> datetime | None:
    if state not in DUE:
        return None
    return now + timedelta(days=getattr(cfg, DUE[state][1]))


async def apply_action(
    tx: Tx,
    proposal: Proposal,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    cfg: ProposalsConfig,
    step: Step = Step(),
) -> tuple[ProposalHistory, list[Send]]:
    """Move ``proposal`` by ``action`` (refused unless the table allows it); record, notify."""
    from storage.models_proposals import ProposalHistory

    transition = check_transition(action, proposal)
    target = transition.target or proposal.state
    detail = await _effects(tx, proposal, action, step, actor, now)
    entry = await tx.proposals.add_history(
        ProposalHistory(
            proposal_id=proposal.id,
            action=action,
            from_state=proposal.state,
            to_state=target,
            actor=actor.label,
            actor_id=actor.member.id if actor.member else None,
            at=now,
            comment=step.comment,
            level=step.classification or step.level,
            target=detail,
        )
    )
    if transition.target is not None:
        keep = action == "assign" and proposal.state == "assigned"  # 重新交办: same deadline
        proposal.state, proposal.state_since = target, now
        if not keep:
            proposal.due_at = due_after(target, now, cfg)
    proposal.updated_at = now
    notes = await notifications(tx, proposal, entry, actor)
    if transition.office:
        await tx.audit.step("proposal", proposal.number, entry, len(notes))
    return entry, notes


async def _effects(
    tx: Tx, proposal: Proposal, action: str, step: Step, actor: Actor, now: datetime
) -> str:
    """What an action changes besides the state; the history's ``target``."""
    if action == "assign":
        proposal.lead_unit, proposal.co_units = step.unit, "、".join(step.co_units)
        return step.unit + (f"（协办：{proposal.co_units}）" if step.co_units else "")
    if action == "answer":
        proposal.classification = step.classification
        return step.unit or proposal.lead_unit
    if action in ("rate", "dissatisfied"):
        proposal.satisfaction = step.level
        return ""
    if action == "merge":
        await _check_merge(tx, proposal, step.into)
        proposal.merged_into = step.into
        return step.into
    if action == "key":
        proposal.key = True
        return ""
    if action == "lead":
        proposal.leader = step.leader
        return step.leader
    if action == "reject" and step.convert:
        proposal.converted_to = await _convert(tx, proposal, step.convert, now)
        return proposal.converted_to
    return ""


async def _check_merge(tx: Tx, proposal: Proposal, into: str) -> None:
    other = await tx.proposals.by_seq(*year_seq(into))
    if other is None:
        raise UserFacingError(not_found(into))
    if other.id == proposal.id:
        raise UserFacingError("不能把提案并入它自己。")
    if other.state in FINAL:
        raise UserFacingError(f"{other.number}已{STATE_NAMES[other.state]}，不能再并入。")


async def _convert(tx: Tx, proposal: Proposal, to: str, now: datetime) -> str:
    """不予立案 转为社情民意: a report with the proposal's text, its proposer and confirmed
    co-proposers; 转来信: recorded (letters are handled outside Lüzhi)."""
    if to == "letter":
        return "来信"
    signers = await tx.proposals.signers(proposal.id)
    lead = next(m for m, s in signers if s.role == "lead")
    cosigners = [m for m, s in signers if s.role == "co" and s.confirmed_at is not None]
    content = "\n".join(
        x
        for x in (
            proposal.situation,
            f"建议：{proposal.suggestion}" if proposal.suggestion else "",
        )
        if x
    )
    report, _ = await submit_report(
        tx,
        submitter=lead,
        title=proposal.title,
        category=suggest_category(proposal.title, content),
        content=content or proposal.title,
        cosigners=cosigners,
        attachments=[],
        now=now,
    )
    return report.number


async def submit_proposal(
    tx: Tx,
    *,
    submitter: Member,
    title: str,
    situation: str,
    suggestion: str,
    cosigners: Sequence[Member],
    attachments: Sequence[dict[str, Any]],
    now: datetime,
    cfg: ProposalsConfig,
) -> tuple[Proposal, list[Send]]:
    """Number and store a proposal (draft → submitted) in the caller's transaction; the
    co-proposers are asked for their 附议."""
    from storage.models_proposals import Proposal, ProposalAttachment

    seq = await tx.proposals.next_seq(now.year)
    proposal = Proposal(
        number=format_number(cfg.number_format, now.year, seq),
        year=now.year,
        seq=seq,
        title=title,
        situation=situation,
        suggestion=suggestion,
        submitter_id=submitter.id,
        sector=submitter.sector,
        state="draft",
        state_since=now,
        submitted_at=now,
        updated_at=now,
    )
    roles = [(submitter.id, "lead")] + [(m.id, "co") for m in cosigners if m.id != submitter.id]
    await tx.proposals.add(proposal, roles)
    for item in attachments:
        await tx.proposals.add_attachment(
            ProposalAttachment(
                proposal_id=proposal.id,
                stage="submit",
                kind=str(item["kind"]),
                media_id=str(item["media_id"]),
                filename=str(item.get("filename", "")),
                received_at=datetime.fromisoformat(str(item["at"])),
            )
        )
    entry, notes = await apply_action(
        tx, proposal, "submit", actor=Actor.of(submitter), now=now, cfg=cfg
    )
    for member in cosigners:
        if member.active and member.id != submitter.id:
            address = member_address(member)
            notes.append(
                Send(
                    f"proposal:{proposal.id}:{entry.id}:{address}",
                    Outgoing(cosign_request(proposal, submitter.name), to_member=address),
                )
            )
    return proposal, notes


def cosign_request(proposal: Proposal, lead: str) -> str:
    return (
        f"【提案联名】{lead}提交了提案《{proposal.title}》（{proposal.number}），"
        f"将您列为联名提案人。同意请回复「附议 {proposal.number}」，"
        f"不同意请回复「不附议 {proposal.number}」。"
    )


def change_text(proposal: Proposal, entry: ProposalHistory, actor_name: str) -> str:
    """What a proposer is told about one step, in Chinese."""
    head = f"【提案】《{proposal.title}》（{proposal.number}）"
    comment = f"：{entry.comment}" if entry.comment else "。"
    match entry.action:
        case "accept":
            return f"{head}已立案{comment}"
        case "reject":
            text = f"{head}不予立案，理由{comment}"
            if entry.target == "来信":
                return text + "\n已转来信办理。"
            if entry.target:
                return (
                    text + f"\n已转为社情民意 {entry.target}，可发送「查询 {entry.target}」查看。"
                )
            return text
        case "merge":
            return f"{head}已并入提案 {entry.target} 办理{comment}"
        case "assign":
            return f"{head}已交{entry.target}办理{comment}"
        case "answer":
            return (
                f"{head}收到{entry.target or '承办单位'}的答复（{entry.level}）{comment}\n"
                f"请评价办理结果：回复「满意 {proposal.number}」「基本满意 {proposal.number}」"
                f"或「不满意 {proposal.number} 理由」。"
            )
        case "rate":
            return f"{head}提案人评价：{LEVELS.get(entry.level, entry.level)}。"
        case "dissatisfied":
            return f"{head}提案人评价：不满意{comment}\n已转重新办理。"
        case "close":
            return f"{head}已办结{comment}"
        case "key":
            return f"{head}已列为重点提案{comment}"
        case "lead":
            return f"{head}由{entry.target}领办{comment}"
        case "cosign":
            return f"{head}{actor_name}已附议（同意联名）。"
        case "decline":
            return f"{head}{actor_name}不同意联名，已从联名人中移除。"
    return f"{head}状态更新为「{STATE_NAMES[entry.to_state]}」。"


async def notifications(
    tx: Tx, proposal: Proposal, entry: ProposalHistory, actor: Actor
) -> list[Send]:
    if entry.action == "submit":
        return []  # the proposer got the reply; co-proposers get the 附议 request
    acting = actor.member.id if actor.member else None
    text = change_text(proposal, entry, actor.member.name if actor.member else "")
    return [
        Send(
            f"proposal:{proposal.id}:{entry.id}:{member_address(member)}",
            Outgoing(text, to_member=member_address(member)),
        )
        for member, signer in await tx.proposals.signers(proposal.id)
        if member.active and member.id != acting and signer.confirmed_at is not None
    ]
