"""What the planner sends for 社情民意: review nudges to the secretaries, and draft expiry.

* Review nudges (审核提醒): a report submitted or under review for longer than
  ``[reports] review_nudge_hours`` is brought to every secretary (admins when there is no
  secretary) once per report per day, at ``review_nudge_time`` or the first tick after it.
  Occurrence key ``report-nudge:{report id}:{date}``.
* Drafts: the draft is a dialog row with ``expires_at``. A warning goes to the member
  ``[reports] draft_warning_minutes`` before it expires, and once it has expired the row is
  deleted and the member is told. Both keys carry the expiry being warned about, so a draft
  renewed by a reply gets a fresh warning later and a stale one sends nothing. (Chosen over
  "tell them at their next message": a member who walked away never sends one.) If the member
  writes after expiry but before the planner's tick, the dispatcher drops the draft itself and
  ``确认提交`` answers that there is no draft (possibly expired).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta

from bot.messages import Outgoing, Send
from bot.planner import Occurrence, PlanEnv, privately
from handlers.reports.dialog import DIALOG
from handlers.reports.workflow import PENDING_REVIEW, STATE_NAMES, waited
from storage import Tx

KEY_LIMIT = 150  # planner_marks.key is 160 characters


def _nudge_time(value: str) -> time:
    hour, _, minute = value.partition(":")
    return time(int(hour), int(minute))


class ReviewNudgeSource:
    name = "report-nudge"

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        settings = env.config.reports
        found: list[Occurrence] = []
        for day in env.days():
            at = datetime.combine(day, _nudge_time(settings.review_nudge_time), tzinfo=env.zone)
            end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=env.zone)
            if not (at <= env.now and env.open_after < end_of_day):
                continue
            cutoff = env.now - timedelta(hours=settings.review_nudge_hours)
            found.extend(
                Occurrence(
                    f"report-nudge:{report.id}:{day.isoformat()}",
                    at,
                    self.name,
                    {"report": report.id},
                    expires_at=end_of_day,
                    push="office",
                )
                for report in await tx.reports.in_states(PENDING_REVIEW, since_before=cutoff)
            )
        return found

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        report = await tx.reports.get(occurrence.args["report"])
        if report is None or report.state not in PENDING_REVIEW:
            return []
        lead = await tx.members.get(report.submitter_id)
        text = (
            f"【审核提醒】社情民意 {report.number}《{report.title}》"
            f"（{lead.name if lead else ''}，{STATE_NAMES[report.state]}）"
            f"已等待{waited(env.now - report.state_since)}，请及时处理：\n"
            f"发送「查询 {report.number}」查看全文，"
            f"「采用 / 退回 / 不予采用 {report.number}」审核。"
        )
        office = await tx.members.by_role("secretary") or await tx.members.by_role("admin")
        return privately(occurrence.key, text, office)


def _draft_key(prefix: str, chat: str, userid: str, expires_at: datetime) -> str:
    stamp = expires_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    key = f"{prefix}:{chat}:{userid}:{stamp}"
    if len(key) <= KEY_LIMIT:
        return key
    return f"{prefix}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


class DraftExpirySource:
    name = "report-draft"

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        warn = timedelta(minutes=env.config.reports.draft_warning_minutes)
        found = []
        for dialog in await tx.dialogs.expiring(env.now + warn):
            if dialog.kind != DIALOG:
                continue
            args = {
                "chat": dialog.chat,
                "userid": dialog.userid,
                "expires": dialog.expires_at.isoformat(),
            }
            if dialog.expires_at <= env.now:
                key = _draft_key(
                    "report-draft-expired", dialog.chat, dialog.userid, dialog.expires_at
                )
                found.append(
                    Occurrence(
                        key,
                        dialog.expires_at,
                        self.name,
                        {**args, "kind": "expired"},
                        push="dialog",
                    )
                )
            # The warning is listed until marked, also once the draft has expired (its
            # expires_at keeps a late one from going out): the planner decides, not the gap
            # between two ticks.
            if warn:
                key = _draft_key(
                    "report-draft-warn", dialog.chat, dialog.userid, dialog.expires_at
                )
                found.append(
                    Occurrence(
                        key,
                        dialog.expires_at - warn,
                        self.name,
                        {**args, "kind": "warn"},
                        expires_at=dialog.expires_at,
                        push="dialog",
                    )
                )
        return found

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        args = occurrence.args
        dialog = await tx.dialogs.get(args["chat"], args["userid"], env.now)
        if (
            dialog is None
            or dialog.kind != DIALOG
            or dialog.expires_at != datetime.fromisoformat(args["expires"])
        ):
            return []  # submitted, cancelled or renewed since
        title = str(dialog.data.get("title") or "")
        named = f"《{title}》" if title else ""
        if args["kind"] == "warn":
            left = max(1, round((dialog.expires_at - env.now).total_seconds() / 60))
            text = (
                f"您的社情民意草稿{named}将在约 {left} 分钟后作废。"
                "继续填写请直接回复；已填好可回复「确认提交」。"
            )
        else:
            await tx.dialogs.end(args["chat"], args["userid"])
            minutes = env.config.dialog.timeout_minutes
            text = (
                f"您的社情民意草稿{named}超过 {minutes} 分钟没有回复，已作废。"
                "需要时请发送「提交社情民意」重新填写。"
            )
        return [
            Send(f"{occurrence.key}:{args['userid']}", Outgoing(text, to_member=args["userid"]))
        ]
