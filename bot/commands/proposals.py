"""``lvzhi proposals …``: proposals (提案) from the command line.

``list [--state S] [--year Y]``, ``show NUMBER``, and ``act NUMBER ACTION [WORDS…]``: the
same state machine as the secretaries' chat commands, read as the chat reads them
(``act TA-2025-0001 交办 市水务局 协办：市财政局``, ``act TA-2025-0001 答复 A 已安排资金``);
the proposers are told through the outbox, sent by the running server.
"""

from __future__ import annotations

import argparse

from bot.commands.common import fail
from bot.config import Config
from bot.delivery.outbox import queue_all
from bot.errors import UserFacingError
from bot.runtime import command_database
from handlers.proposals.parse import REVIEW_VERBS, find_number, parse_review, year_seq
from handlers.proposals.workflow import (
    STATE_NAMES,
    STATES,
    Step,
    apply_action,
    check_details,
    classification_of,
)
from handlers.reports.workflow import Actor, attachment_line

ENGLISH = {action: verb for verb, action in reversed(REVIEW_VERBS)}


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="proposals_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list proposals")
    listing.add_argument("--state", choices=STATES)
    listing.add_argument("--year", type=int)
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", help="one proposal and its history")
    show.add_argument("number")
    show.set_defaults(run=run_show)
    act = actions.add_parser("act", help="move a proposal on, by the chat's rules (立案, 交办 …)")
    act.add_argument("number")
    act.add_argument(
        "action", help="as in chat: 立案 不予立案 并案 交办 答复 办结 重点提案 领办 (or accept …)"
    )
    act.add_argument("words", nargs="*", help="the rest, as in chat: 市水务局 / A 已安排资金 …")
    act.set_defaults(run=run_act)


async def run_list(config: Config, args: argparse.Namespace) -> int:
    async with command_database(config) as db, db.read() as tx:
        lines = []
        for p in await tx.proposals.listing(state=args.state, year=args.year):
            lead = await tx.members.get(p.submitter_id)
            unit = p.lead_unit or "—"
            lines.append(
                f"{p.number}\t{STATE_NAMES[p.state]}\t{lead.name if lead else '?'}\t"
                f"{unit}\t{p.title}"
            )
    print("\n".join(lines) if lines else "没有符合条件的提案。")
    return 0


async def run_show(config: Config, args: argparse.Namespace) -> int:
    found = find_number(args.number)
    if found is None:
        return fail(f"看不懂编号「{args.number}」，例如 TA-2025-0001。")
    async with command_database(config) as db, db.read() as tx:
        p = await tx.proposals.by_seq(*year_seq(found[0]))
        if p is None:
            return fail(f"没有提案 {found[0]}。")
        signers = await tx.proposals.signers(p.id)
        names = "、".join(
            m.name + ("" if s.role == "lead" else "（联名）" if s.confirmed_at else "（待附议）")
            for m, s in signers
        )
        print(f"{p.number}《{p.title}》")
        print(f"状态：{STATE_NAMES[p.state]}　提案人：{names}")
        print(f"案据：{p.situation}\n办法：{p.suggestion}")
        for entry in await tx.proposals.history(p.id):
            at = entry.at.astimezone(config.time.zone).strftime("%Y-%m-%d %H:%M")
            extra = " ".join(x for x in (entry.target, entry.level, entry.comment) if x)
            print(f"{at}\t{entry.action}\t{entry.to_state}\t{entry.actor}\t{extra}")
        for item in await tx.proposals.attachments(p.id):
            stage = "答复" if item.stage == "answer" else "提交"
            print(f"附件 {item.id}（{stage}）：{attachment_line(item)}")
        return 0


async def run_act(config: Config, args: argparse.Namespace) -> int:
    verb = ENGLISH.get(args.action, args.action)
    command = parse_review(" ".join([verb, args.number, *args.words]))
    if command is None or command.number is None or command.action == "list":
        verbs = "、".join(dict.fromkeys(v for v, _ in REVIEW_VERBS))
        return fail(f"看不懂「{args.action} {args.number}」。可用：{verbs}（或其英文名）。")
    cfg = config.proposals
    number = command.number
    async with command_database(config) as db:
        now = args.clock.now().astimezone(config.time.zone)
        async with db.transaction() as tx:
            proposal = await tx.proposals.by_seq(*year_seq(number), lock=True)
            if proposal is None:
                return fail(f"没有提案 {number}。")
            classification = classification_of(command.classification, cfg) or ""
            step = Step(
                comment=command.comment or "",
                unit=command.unit or "",
                co_units=command.co_units,
                classification=classification,
                into=command.into or "",
                leader=command.leader or "",
                convert=command.convert or "",
            )
            try:
                check_details(command.action, step, cfg)
                _, notes = await apply_action(
                    tx,
                    proposal,
                    command.action,
                    actor=Actor("cli"),
                    now=now,
                    cfg=cfg,
                    step=step,
                )
            except UserFacingError as exc:
                return fail(exc.message)
            await queue_all(tx, notes, now=now)
            print(f"{proposal.number} → {STATE_NAMES[proposal.state]}；已通知 {len(notes)} 人。")
            return 0
