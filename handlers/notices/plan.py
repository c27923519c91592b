"""What the planner sends for notices: the one reminder to those who have not acknowledged,
and recurring notices (定期通知) with the check-in holiday policy.

Occurrence keys: ``notice:{id}:chase`` and ``noticerule:{rule}:{date}``; each delivery adds its
recipient. A recurring notice is recorded as an ordinary :class:`Notice` (``rule_id``,
``occasion``; unique together) when its occurrence is expanded, so it is acknowledged, shown
and chased like any other.

Holiday policy (as check-in reminders, :mod:`handlers.checkin.rules`): with ``skip_holidays``
a weekly or daily notice that falls on a statutory holiday is not sent (members are on
holiday); 每个工作日 follows the working calendar, 调休 workdays included; 每月第一个工作日 is
the first working day of the month (2025-10: the 9th, after 国庆). A year nobody entered yet
follows the provisional calendar (:mod:`bot.workcalendar`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from bot.errors import UserFacingError
from bot.messages import Outgoing, Send, member_address
from bot.planner import Occurrence, PlanEnv
from bot.workcalendar import WorkCalendar
from handlers.notices import create_notice
from handlers.notices.common import mention_posts, number, preview
from storage import Tx
from storage.models_notices import NoticeRule

log = logging.getLogger(__name__)
CHASE_GRACE = timedelta(hours=12)  # a reminder missed by an outage is sent this late at most
RULE_GRACE = timedelta(hours=6)  # a recurring notice likewise


def rule_fires_on(rule: NoticeRule, day: date, calendar: WorkCalendar) -> bool:
    """Whether a recurring notice is sent on ``day`` (pure; see the module docstring)."""
    if rule.cadence == "workdays":
        return calendar.is_workday(day)
    if rule.cadence == "monthly_first_workday":
        first = day.replace(day=1)
        earlier = (first + timedelta(days=n) for n in range((day - first).days))
        return calendar.is_workday(day) and not any(calendar.is_workday(d) for d in earlier)
    if rule.cadence == "weekly" and day.weekday() != rule.weekday:
        return False
    return not (rule.skip_holidays and calendar.is_statutory_holiday(day))


def rule_time(rule: NoticeRule, day: date, env: PlanEnv) -> datetime:
    hour, minute = (int(x) for x in rule.at.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=env.zone)


class NoticeSource:
    name = "notices"

    async def due(self, tx: Tx, env: PlanEnv) -> list[Occurrence]:
        found = [
            Occurrence(
                f"notice:{n.id}:chase",
                n.chase_at,
                self.name,
                {"kind": "chase", "notice": n.id},
                expires_at=n.chase_at + CHASE_GRACE,
            )
            for n in await tx.notices.chase_due(env.open_after - CHASE_GRACE, env.now)
            if n.chase_at is not None
        ]
        today = env.now.date()
        for rule in await tx.notices.active_rules():
            for day in (today - timedelta(days=1), today):
                at = rule_time(rule, day, env)
                if not (rule.created_at <= at <= env.now and env.open_after < at + RULE_GRACE):
                    continue
                if rule_fires_on(rule, day, env.calendar):
                    found.append(
                        Occurrence(
                            f"noticerule:{rule.id}:{day}",
                            at,
                            self.name,
                            {"kind": "rule", "rule": rule.id, "day": day.isoformat()},
                            expires_at=at + RULE_GRACE,
                        )
                    )
        return found

    async def expand(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        if occurrence.args["kind"] == "rule":
            return await self._recurring(tx, occurrence, env)
        notice = await tx.notices.get(occurrence.args["notice"])
        if notice is None:
            return []
        rows = await tx.notices.recipients(notice.id)
        waiting = {m.id for m, r in rows if r.acked_at is None}
        if not waiting:
            return []
        no = number("notice", notice.id)
        groups = await tx.notices.groups_by_ids(notice.group_ids)
        by_group = await tx.notices.members_of_groups([g.id for g in groups])
        head = f"【通知提醒】通知 {no}「{preview(notice.text)}」还未确认，请阅后回复「收到」："
        planned = mention_posts(occurrence.key, head, groups, by_group, waiting)
        planned += [
            Send(
                f"{occurrence.key}:member:{member_address(m)}",
                _private(m.name, no, notice.text, member_address(m)),
            )
            for m, r in rows
            if r.acked_at is None and m.active
        ]
        return planned

    async def _recurring(self, tx: Tx, occurrence: Occurrence, env: PlanEnv) -> list[Send]:
        rule = await tx.notices.get_rule(occurrence.args["rule"])
        if rule is None or not rule.active:
            return []
        author = await tx.members.get(rule.author_id) if rule.author_id else None
        try:
            _, _, sends = await create_notice(
                tx,
                names_=tuple(rule.audience),
                text=rule.text,
                send_at=occurrence.due_at,
                needs_ack=rule.needs_ack,
                author=author,
                now=env.now,
                ack_reminder=timedelta(hours=env.config.notices.ack_reminder_hours),
                rule=rule,
            )
        except UserFacingError as exc:  # a group renamed or emptied since: skip, say why
            log.warning("recurring notice %s not sent: %s", rule.id, exc.message)
            return []
        return sends


def _private(name: str, no: str, text: str, userid: str) -> Outgoing:
    return Outgoing(
        f"{name}您好，通知 {no}「{preview(text, 30)}」您还没有确认，请阅后回复「收到」。",
        to_member=userid,
    )
