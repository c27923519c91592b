"""提案 in chat: members submit (in one message or step by step), co-proposers 附议, proposers
rate the answer; secretaries review, assign and close.

Privacy as for reports: a proposal is shown only to its proposer, its co-proposers and the
office; anyone else asking about a number gets the answer a number that does not exist gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from bot.dispatcher import OFFICE_ROLES, Context, HandBack, ParseContext, Router
from bot.errors import UserFacingError
from bot.messages import Outgoing, member_address
from handlers.proposals.parse import (
    CONTENT_LIMIT,
    LEVELS,
    TITLE_LIMIT,
    Cosign,
    ProposalQuery,
    ProposalReview,
    ProposalStart,
    ProposalText,
    Satisfaction,
    parse_cosign,
    parse_draft_input,
    parse_names,
    parse_proposal,
    parse_query,
    parse_review,
    parse_satisfaction,
    parse_start,
    year_seq,
)
from handlers.proposals.workflow import (
    ACTION_NAMES,
    DUE,
    STATE_NAMES,
    Step,
    apply_action,
    check_details,
    classification_of,
    not_found,
    submit_proposal,
)
from handlers.reports.dialog import MAX_ATTACHMENTS, MEDIA_TYPES, media_of, resolve_cosigners
from handlers.reports.workflow import Actor, attachment_summary

if TYPE_CHECKING:
    from storage.models import DialogState
    from storage.models_proposals import Proposal, ProposalHistory

router = Router("proposals")
OFFICE = sorted(OFFICE_ROLES)
DIALOG = "proposal"
DENIED = "抱歉，审查和交办提案仅限机关秘书。您可以发送「我的提案」查看自己的提案和办理进度。"


def _proposal(text: str, _: ParseContext) -> ProposalText | None:
    return parse_proposal(text)


def _start(text: str, _: ParseContext) -> ProposalStart | None:
    return parse_start(text)


def _query(text: str, _: ParseContext) -> ProposalQuery | None:
    return parse_query(text)


def _cosign(text: str, _: ParseContext) -> Cosign | None:
    return parse_cosign(text)


def _satisfaction(text: str, _: ParseContext) -> Satisfaction | None:
    return parse_satisfaction(text)


def _review(text: str, _: ParseContext) -> ProposalReview | None:
    return parse_review(text)


async def readable(ctx: Context, number: str) -> Proposal:
    proposal = await ctx.tx.proposals.by_seq(*year_seq(number), lock=True)
    if proposal is None:
        raise UserFacingError(not_found(number))
    if not ctx.is_office and await ctx.tx.proposals.signer(proposal.id, ctx.member.id) is None:
        raise UserFacingError(not_found(number))
    return proposal


def _local(entry: ProposalHistory, ctx: Context) -> str:
    return entry.at.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M")


# -- drafting -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    title: str = ""
    situation: str = ""
    suggestion: str = ""
    cosigners: tuple[str, ...] = ()
    attachments: tuple[dict[str, Any], ...] = field(default=())

    @classmethod
    def of(cls, data: dict[str, Any]) -> Draft:
        return cls(
            str(data.get("title", "")),
            str(data.get("situation", "")),
            str(data.get("suggestion", "")),
            tuple(data.get("cosigners", ())),
            tuple(data.get("attachments", ())),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "situation": self.situation,
            "suggestion": self.suggestion,
            "cosigners": list(self.cosigners),
            "attachments": list(self.attachments),
        }

    def next_step(self) -> str:
        if not self.title:
            return "title"
        if not self.situation:
            return "situation"
        if not self.suggestion:
            return "suggestion"
        return "confirm"


PROMPTS = {
    "title": "请发送案由（提案标题），例如「关于加快农村寄递物流体系建设的建议」。",
    "situation": "请发送案据：基本情况和存在的问题。",
    "suggestion": "请发送办法：具体的意见建议。",
}
HINTS = "可随时发送「联名：张三、李四」添加联名提案人，或直接发送图片、文件作为附件。"


def preview(draft: Draft) -> str:
    lines = ["请核对您的提案：", f"案由：{draft.title}"]
    if draft.cosigners:
        lines.append(f"联名：{'、'.join(draft.cosigners)}（提交后请他们回复附议）")
    if draft.attachments:
        lines.append(f"附件：{len(draft.attachments)} 个")
    lines += [f"案据：{_cut(draft.situation)}", f"办法：{_cut(draft.suggestion)}"]
    lines.append("回复「确认提交」提交，回复「取消」放弃。" + HINTS)
    return "\n".join(lines)


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "……"


def prompt(step: str, draft: Draft) -> str:
    return PROMPTS.get(step) or preview(draft)


async def _save(ctx: Context, draft: Draft) -> str:
    step = draft.next_step()
    await ctx.start_dialog(DIALOG, step, draft.as_json())
    return step


@router.dialog(DIALOG)
async def draft_step(text: str, ctx: Context, dialog: DialogState) -> None:
    draft = Draft.of(dict(dialog.data))
    if ctx.incoming.msg_type in MEDIA_TYPES:
        media = media_of(ctx.incoming)
        if media is None:
            raise UserFacingError("没能读取这个附件，请重新发送。")
        if len(draft.attachments) >= MAX_ATTACHMENTS:
            raise UserFacingError(f"每件提案最多 {MAX_ATTACHMENTS} 个附件。")
        media["at"] = ctx.now.isoformat()
        draft = replace(draft, attachments=(*draft.attachments, media))
        step = await _save(ctx, draft)
        ctx.reply(f"已添加附件（共 {len(draft.attachments)} 个）。\n" + prompt(step, draft))
        return
    item = parse_draft_input(text)
    state = dialog.state
    if item.kind == "confirm":
        if draft.next_step() != "confirm":
            raise UserFacingError("还没有填完。" + prompt(draft.next_step(), draft))
        await submit_draft(ctx, draft)
        await ctx.end_dialog()
        return
    if item.kind == "cosigners":
        names = parse_names(item.value)
        await resolve_cosigners(ctx.tx, names, ctx.member)
        draft = replace(draft, cosigners=names)
    elif item.kind in ("title", "situation", "suggestion"):
        draft = _set(draft, item.kind, item.value)
    elif not item.value:
        ctx.reply(prompt(state, draft))
        return
    elif state in ("title", "situation", "suggestion"):
        draft = _set(draft, state, item.value)
    else:
        ctx.reply(
            "提案已填好。回复「确认提交」提交，「取消」放弃；修改请以「案由：」「案据：」「办法：」开头。"
        )
        return
    step = await _save(ctx, draft)
    done = "已记下联名人。\n" if item.kind == "cosigners" else ""
    ctx.reply(done + prompt(step, draft))


def _set(draft: Draft, part: str, value: str) -> Draft:
    if part == "title":
        return replace(draft, title=value[:TITLE_LIMIT])
    if part == "situation":
        return replace(draft, situation=value[:CONTENT_LIMIT])
    return replace(draft, suggestion=value[:CONTENT_LIMIT])


async def submit_draft(ctx: Context, draft: Draft) -> None:
    cosigners = await resolve_cosigners(ctx.tx, draft.cosigners, ctx.member)
    proposal, notes = await submit_proposal(
        ctx.tx,
        submitter=ctx.member,
        title=draft.title,
        situation=draft.situation,
        suggestion=draft.suggestion,
        cosigners=cosigners,
        attachments=draft.attachments,
        now=ctx.now,
        cfg=ctx.config.proposals,
    )
    ctx.send_all(notes)
    lines = [f"已提交提案《{proposal.title}》，编号 {proposal.number}。"]
    if cosigners:
        lines.append(f"联名：{'、'.join(m.name for m in cosigners)}（已请他们回复附议）。")
    if draft.attachments:
        lines.append(f"附件 {len(draft.attachments)} 个已保存。")
    lines.append(f"审查、交办和答复的进展会通知您，也可发送「查询 {proposal.number}」查看。")
    ctx.reply("\n".join(lines))


# -- members --------------------------------------------------------------------------------------


@router.message(_proposal)
async def submit_one(value: ProposalText, ctx: Context) -> None:
    situation = value.situation or value.content
    draft = Draft(value.title, situation, value.suggestion, value.cosigners)
    if draft.next_step() == "confirm":
        await submit_draft(ctx, draft)
        return
    step = await _save(ctx, draft)
    ctx.reply(
        "好的，我们来填写提案（随时回复「取消」可放弃）。\n"
        f"案由：{draft.title}\n" + prompt(step, draft)
    )


@router.message(_start)
async def start(_: ProposalStart, ctx: Context) -> None:
    await _save(ctx, Draft())
    ctx.reply("好的，我们来填写提案（随时回复「取消」可放弃）。\n" + PROMPTS["title"])


@router.message(_query)
async def query(value: ProposalQuery, ctx: Context) -> None:
    if value.number is None:
        await _mine(ctx)
        return
    ctx.reply(await describe(ctx, await readable(ctx, value.number)))


async def _mine(ctx: Context) -> None:
    proposals = await ctx.tx.proposals.of_member(ctx.member.id)
    if not proposals:
        ctx.reply("您还没有提案。发送「提交提案」开始填写。")
        return
    lines = [f"您的提案（最近 {len(proposals)} 件）："]
    for p in proposals:
        co = "" if p.submitter_id == ctx.member.id else "（联名）"
        lines.append(f"· {p.number}《{p.title}》{STATE_NAMES[p.state]}{co}")
    lines.append("发送「查询 编号」查看办理过程。")
    ctx.reply("\n".join(lines))


async def describe(ctx: Context, proposal: Proposal) -> str:
    signers = await ctx.tx.proposals.signers(proposal.id)
    lead = [m.name for m, s in signers if s.role == "lead"]
    co = [m.name + ("" if s.confirmed_at else "（待附议）") for m, s in signers if s.role == "co"]
    marks = "　重点提案" if proposal.key else ""
    marks += f"　领办：{proposal.leader}" if proposal.leader else ""
    lines = [
        f"{proposal.number}《{proposal.title}》",
        f"状态：{STATE_NAMES[proposal.state]}{marks}",
        f"提案人：{'、'.join(lead)}" + (f"　联名：{'、'.join(co)}" if co else ""),
    ]
    if proposal.lead_unit:
        co_units = f"　协办：{proposal.co_units}" if proposal.co_units else ""
        lines.append(f"主办单位：{proposal.lead_unit}{co_units}")
    attachments = await ctx.tx.proposals.attachments(proposal.id)
    if attachments:
        sent = [a for a in attachments if a.stage == "submit"]
        answer = [a for a in attachments if a.stage != "submit"]
        parts = [
            f"{name} {attachment_summary(items)}"
            for name, items in (("提交", sent), ("答复", answer))
            if items
        ]
        lines.append(f"附件：{'；'.join(parts)}")
    if proposal.due_at and proposal.state in DUE:
        due = proposal.due_at.astimezone(ctx.zone)
        lines.append(f"{DUE[proposal.state][0]}期限：{due.year}年{due.month}月{due.day}日")
    lines.append(f"案据：{_cut(proposal.situation, 300)}")
    if proposal.suggestion:
        lines.append(f"办法：{_cut(proposal.suggestion, 300)}")
    lines.append("办理过程：")
    for entry in await ctx.tx.proposals.history(proposal.id):
        detail = entry.target if entry.action not in ("cosign", "decline") else ""
        level = f"（{LEVELS.get(entry.level, entry.level)}）" if entry.level else ""
        comment = f"：{entry.comment}" if entry.comment else ""
        lines.append(
            f"· {_local(entry, ctx)} {ACTION_NAMES[entry.action]}{detail}{level}{comment}"
        )
    return "\n".join(lines)


@router.message(_cosign)
async def cosign(value: Cosign, ctx: Context) -> None:
    """附议: a co-proposer confirms (or refuses) being named, by their own reply."""
    waiting = await ctx.tx.proposals.unconfirmed_for(ctx.member.id)
    if value.number is None:
        if not waiting:
            raise UserFacingError("您目前没有等待附议的提案。")
        if len(waiting) > 1:
            listed = "、".join(p.number for p in waiting)
            raise UserFacingError(
                f"您有 {len(waiting)} 件提案等待附议：{listed}。请回复「附议 编号」。"
            )
        proposal = waiting[0]
    else:
        proposal = await readable(ctx, value.number)
    signer = await ctx.tx.proposals.signer(proposal.id, ctx.member.id)
    if signer is None or signer.role != "co":
        raise UserFacingError(f"您不是提案 {proposal.number} 的联名人。")
    if signer.confirmed_at is not None:
        ctx.reply(f"您已附议提案 {proposal.number}，无需重复。")
        return
    actor = Actor.of(ctx.member)
    cfg = ctx.config.proposals
    if value.agree:
        signer.confirmed_at = ctx.now
        _, notes = await apply_action(
            ctx.tx, proposal, "cosign", actor=actor, now=ctx.now, cfg=cfg
        )
        ctx.send_all(notes)
        ctx.reply(f"已附议提案 {proposal.number}《{proposal.title}》，您是联名提案人。")
        return
    await ctx.tx.proposals.remove_signer(signer)
    _, notes = await apply_action(ctx.tx, proposal, "decline", actor=actor, now=ctx.now, cfg=cfg)
    ctx.send_all(notes)
    ctx.reply(f"已记下：您不附议提案 {proposal.number}，已从联名人中移除。")


@router.message(_satisfaction)
async def rate(value: Satisfaction, ctx: Context) -> None:
    """满意度: only the proposer rates; 不满意 needs a reason and sends it back (重新办理)."""
    assert value.number is not None
    proposal = await readable(ctx, value.number)
    if proposal.submitter_id != ctx.member.id:
        raise UserFacingError(f"满意度由提案人评价，{proposal.number}的提案人不是您。")
    if value.level == "unsatisfied" and not value.reason:
        raise UserFacingError(
            f"请写明不满意的理由，例如「不满意 {proposal.number} 答复没有具体措施」。"
        )
    action = "dissatisfied" if value.level == "unsatisfied" else "rate"
    entry, notes = await apply_action(
        ctx.tx,
        proposal,
        action,
        actor=Actor.of(ctx.member),
        now=ctx.now,
        cfg=ctx.config.proposals,
        step=Step(comment=value.reason or "", level=value.level),
    )
    ctx.send_all(notes)
    await _tell_office(ctx, proposal, value, entry.id)
    if action == "dissatisfied":
        ctx.reply(f"已记下您对 {proposal.number} 的评价：不满意。提案已转重新办理，结果会通知您。")
    else:
        ctx.reply(f"已记下您对 {proposal.number} 的评价：{LEVELS[value.level]}。谢谢！")


async def _tell_office(
    ctx: Context, proposal: Proposal, value: Satisfaction, entry_id: int
) -> None:
    """The secretaries learn each rating once (key: the rating's history row)."""
    why = f"，理由：{value.reason}" if value.reason else ""
    level = LEVELS[value.level]
    text = f"【提案满意度】{proposal.number}《{proposal.title}》提案人评价：{level}{why}"
    if value.level == "unsatisfied":
        text += f"\n已转重新办理，请重新交办或答复（「交办 {proposal.number} 单位」）。"
    else:
        text += f"\n可发送「办结 {proposal.number}」办结。"
    for member in await ctx.tx.members.by_role("secretary", "admin"):
        key = f"proposal-rating:{proposal.id}:{entry_id}:{member.userid}"
        if member.userid:
            ctx.send(key, Outgoing(text, to_member=member_address(member)))


# -- the office -----------------------------------------------------------------------------------


@router.message(_review, roles=OFFICE, denied=DENIED)
async def review(value: ProposalReview, ctx: Context) -> None:
    if value.action == "list":
        ctx.reply(await pending_list(ctx))
        return
    if value.number is None:
        raise UserFacingError(f"请写明编号，例如「{ACTION_NAMES[value.action]} TA-2025-0001」。")
    proposal = await readable(ctx, value.number)
    cfg = ctx.config.proposals
    classification = classification_of(value.classification, cfg)
    if value.classification and classification is None:
        raise UserFacingError(
            f"没有「{value.classification}」这个答复类别。可选：{'、'.join(cfg.classifications)}。"
        )
    step = Step(
        comment=value.comment or "",
        unit=value.unit or "",
        co_units=value.co_units,
        classification=classification or "",
        into=value.into or "",
        leader=value.leader or "",
        convert=value.convert or "",
    )
    check_details(value.action, step, cfg)
    _, notes = await apply_action(
        ctx.tx, proposal, value.action, actor=Actor.of(ctx.member), now=ctx.now, cfg=cfg, step=step
    )
    ctx.send_all(notes)
    told = f"已通知提案人（{len(notes)} 人）。" if notes else ""
    extra = ""
    if value.action == "reject" and proposal.converted_to.startswith("SQ"):
        extra = f"已转为社情民意 {proposal.converted_to}。"
    elif value.action == "reject" and proposal.converted_to:
        extra = "已转来信办理。"
    ask = ""
    if value.action == "answer" and "附件" in (value.comment or ""):
        await ctx.start_dialog(ANSWER_DIALOG, "attach", {"proposal": proposal.id})
        ask = "\n请发送答复附件（图片或文件），发完回复「完成」。"
    ctx.reply(
        f"{proposal.number}《{proposal.title}》已{ACTION_NAMES[value.action]}，"
        f"现为「{STATE_NAMES[proposal.state]}」。{extra}{told}{ask}"
    )


ANSWER_DIALOG = "proposal_answer"
DONE_WORDS = frozenset({"完成", "好了", "没有了", "没了", "就这些", "结束"})


@router.dialog(ANSWER_DIALOG)
async def answer_attachment(text: str, ctx: Context, dialog: DialogState) -> HandBack | None:
    """The unit's answer document (答复函) and other files, sent after an 答复 that mentions
    附件: kept with the proposal (stage ``answer``)."""
    from storage.models_proposals import ProposalAttachment

    proposal = await ctx.tx.proposals.get(int(dialog.data["proposal"]))
    if proposal is None:
        await ctx.end_dialog()
        raise UserFacingError("这件提案已不存在。")
    kept = [a for a in await ctx.tx.proposals.attachments(proposal.id) if a.stage == "answer"]
    if ctx.incoming.msg_type in MEDIA_TYPES:
        media = media_of(ctx.incoming)
        if media is None:
            raise UserFacingError("没能读取这个附件，请重新发送。")
        if len(kept) >= MAX_ATTACHMENTS:
            raise UserFacingError(f"每次答复最多 {MAX_ATTACHMENTS} 个附件。")
        await ctx.tx.proposals.add_attachment(
            ProposalAttachment(
                proposal_id=proposal.id,
                stage="answer",
                kind=media["kind"],
                media_id=media["media_id"],
                filename=media["filename"],
                received_at=ctx.now,
            )
        )
        await ctx.start_dialog(ANSWER_DIALOG, "attach", {"proposal": proposal.id})
        ctx.reply(f"已添加答复附件（共 {len(kept) + 1} 个），发完回复「完成」。")
        return None
    await ctx.end_dialog()
    if text.strip(" 。.!！") in DONE_WORDS:
        ctx.reply(f"好的，{proposal.number} 的答复附件共 {len(kept)} 个。")
        return None
    ctx.reply(f"{proposal.number} 的答复附件已结束添加（共 {len(kept)} 个）。")
    return HandBack.NEW_MESSAGE  # the message is the next request: handled as such


async def pending_list(ctx: Context) -> str:
    proposals = await ctx.tx.proposals.in_states(("submitted",))
    if not proposals:
        return "目前没有待审查的提案。"
    lines = [f"待审查提案 {len(proposals)} 件："]
    for p in proposals[:30]:
        lead = await ctx.tx.members.get(p.submitter_id)
        lines.append(f"· {p.number}《{p.title}》{lead.name if lead else ''}")
    if len(proposals) > 30:
        lines.append(f"……另有 {len(proposals) - 30} 件，可用「lvzhi proposals list」查看全部。")
    lines.append("发送「查询 编号」查看全文，「立案 / 不予立案 / 并案 编号」审查。")
    return "\n".join(lines)
