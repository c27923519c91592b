"""A year (2025) of generated duty facts for N members, written straight into the tables the
features use, with a ledger of what each member did, kept by the generator itself.

The ledger is the test's independent account: it is counted while the rows are made, from the
definitions in docs/domain.md §4 / :mod:`handlers.duty.facts`'s docstring, never by calling the
code under test. Shared by tests/test_duty.py and bench/bench_export.py.

Shape: members in study groups of 30, each group with a weekly campaign (no holiday skipping,
so every week of 2025 is required; some campaigns start in March; one stopped on 1 September),
check-ins with a per-member habit, personal study records, 社情民意 with co-submitters and
histories (some adopted, some endorsed), notices with acknowledgments after a random delay,
meetings with 回执, tasks done on time, late or not at all, 提案 with co-proposers (some not
yet confirmed), histories and ratings, and 履职登记 of several kinds (confirmed, pending or
returned) — plus facts of 2024 and 2026 that must not count.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from storage import Database
from storage.models import Campaign, CheckIn, Group, GroupMember, Member
from storage.models_notices import (
    Meeting,
    MeetingInvitee,
    Notice,
    NoticeRecipient,
    Task,
    TaskAssignee,
)
from storage.models_proposals import Activity, Proposal, ProposalHistory, ProposalSigner
from storage.models_reports import Report, ReportHistory, ReportSubmitter

SECTORS = ("中共界", "民革界", "经济界", "教育界", "医药卫生界", "少数民族界")
COMMITTEES = ("提案委", "经济委", "文化文史和学习委", "社会法制委")
GROUP_SIZE = 30
YEAR = 2025
NOW = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai, after the year
STOP_DAY = date(2025, 9, 1)  # the last group's campaign stopped that Monday
SHANGHAI = timedelta(hours=8)


def at(*args: int) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return (datetime(*args) - SHANGHAI).replace(tzinfo=UTC)  # type: ignore[misc]


@dataclass
class Ledger:
    """member id → fact → value, as the generator counted it."""

    facts: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(_zero))
    names: dict[int, str] = field(default_factory=dict)
    sectors: dict[int, str] = field(default_factory=dict)
    committees: dict[int, str] = field(default_factory=dict)

    def add(self, member: int, fact: str, n: int = 1) -> None:
        self.facts[member][fact] += n


def _zero() -> dict[str, int]:
    return defaultdict(int)


def _mondays(first: date, closes_by: date) -> list[date]:
    """Mondays of weeks that start in 2025, from ``first``, ending before ``closes_by``."""
    day = first + timedelta(days=(7 - first.weekday()) % 7)
    found = []
    while day.year == YEAR and day + timedelta(days=6) < closes_by:
        found.append(day)
        day += timedelta(days=7)
    return found


async def generate(db: Database, members: int, seed: int = 7) -> Ledger:
    rng = random.Random(seed)
    ledger = Ledger()
    rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    groups = -(-members // GROUP_SIZE)
    _people(rows, ledger, members)
    for g in range(1, groups + 1):
        _campaign(rows, ledger, rng, g, members, last_group=g == groups and groups > 1)
    ids = list(range(1, members + 1))
    _reports(rows, ledger, rng, ids)
    _notices(rows, ledger, rng, ids)
    _meetings(rows, ledger, rng, ids)
    _tasks(rows, ledger, rng, ids)
    more = random.Random(seed + 1)  # its own stream: the facts above stay as they were
    _proposals(rows, ledger, more, ids)
    _activities(rows, ledger, more, ids)
    order = (
        Member, Group, GroupMember, Campaign, CheckIn, Report, ReportSubmitter, ReportHistory,
        Notice, NoticeRecipient, Meeting, MeetingInvitee, Task, TaskAssignee,
        Proposal, ProposalSigner, ProposalHistory, Activity,
    )  # fmt: skip
    async with db.write_engine.begin() as conn:
        for model in order:
            batch = rows[model]
            for start in range(0, len(batch), 2000):
                await conn.execute(insert(model), batch[start : start + 2000])
    return ledger


def _people(rows: dict[Any, list[dict[str, Any]]], ledger: Ledger, members: int) -> None:
    for i in range(1, members + 3):
        secretary = i > members  # two secretaries: in the roster, not in the record
        name = f"秘书{i}" if secretary else f"委员{i:04d}"
        rows[Member].append(
            {
                "id": i,
                "userid": f"u{i}",
                "name": name,
                "sector": SECTORS[i % len(SECTORS)],
                "committee": COMMITTEES[i % len(COMMITTEES)],
                "role": "secretary" if secretary else "member",
                "active": True,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        if not secretary:
            ledger.names[i] = name
            ledger.sectors[i] = SECTORS[i % len(SECTORS)]
            ledger.committees[i] = COMMITTEES[i % len(COMMITTEES)]


def _campaign(
    rows: dict[Any, list[dict[str, Any]]],
    ledger: Ledger,
    rng: random.Random,
    g: int,
    members: int,
    *,
    last_group: bool,
) -> None:
    starts_on = date(2024, 11, 4) if g % 2 else date(2025, 3, 3)
    closes_by = STOP_DAY if last_group else date(YEAR + 1, 1, 1)
    rows[Group].append(
        {"id": g, "name": f"第{g}学习小组", "kind": "study_group", "created_at": NOW}
    )
    rows[Campaign].append(
        {
            "id": g,
            "group_id": g,
            "cadence": "weekly",
            "reminders": [{"offset_days": -2, "time": "20:00"}],
            "summary": {"offset_days": 1, "time": "09:00"},
            "skip_holidays": False,
            "makeup_days": 3,
            "makeup_per_month": 2,
            "active": not last_group,
            "starts_on": starts_on,
            "created_at": NOW,
            "updated_at": at(2025, 9, 1, 10, 0) if last_group else at(2024, 11, 1, 9, 0),
        }
    )
    weeks = _mondays(max(starts_on, date(YEAR, 1, 1)), closes_by)
    for m in range((g - 1) * GROUP_SIZE + 1, min(g * GROUP_SIZE, members) + 1):
        rows[GroupMember].append({"group_id": g, "member_id": m})
        habit = (0.95, 0.8, 0.5, 0.2, 0.0)[m % 5]
        checked = [w for w in weeks if rng.random() < habit]
        for w in checked:
            minutes = rng.choice((0, 20, 30, 45, 60))
            _checkin(rows, g, m, w, minutes, makeup=rng.random() < 0.1)
            ledger.add(m, "study_minutes", minutes)
        ledger.add(m, "checkins", len(checked))
        ledger.add(m, "checkins_due", len(weeks))
        ledger.add(m, "on_due", len(checked))
        ledger.add(m, "checkin_streak", _longest_run(weeks, set(checked)))
        if habit and rng.random() < 0.5:  # last year's week, and a personal record
            _checkin(rows, g, m, date(2024, 12, 30), 30, makeup=False)
            _checkin(rows, None, m, date(YEAR, 6, 6), 25, makeup=False)
            ledger.add(m, "study_minutes", 25)


def _star(member: int) -> bool:
    """One member in ten does everything, so that the top grades are reached too."""
    return member % 10 == 5


def _invited(rng: random.Random, ids: list[int], share: int) -> list[int]:
    return sorted(set(rng.sample(ids, k=len(ids) // share)) | {m for m in ids if _star(m)})


def _longest_run(weeks: list[date], checked: set[date]) -> int:
    best = run = 0
    for w in weeks:
        run = run + 1 if w in checked else 0
        best = max(best, run)
    return best


def _checkin(
    rows: dict[Any, list[dict[str, Any]]],
    campaign: int | None,
    member: int,
    start: date,
    minutes: int,
    *,
    makeup: bool,
) -> None:
    length = 6 if campaign is not None else 0
    when = at(start.year, start.month, start.day, 20, 0)
    rows[CheckIn].append(
        {
            "campaign_id": campaign,
            "member_id": member,
            "period_start": start,
            "period_end": start + timedelta(days=length),
            "titles": ["乡土中国"],
            "minutes": minutes,
            "notes": [],
            "entries": [],
            "makeup": makeup,
            "first_at": when,
            "last_at": when,
        }
    )


def _reports(
    rows: dict[Any, list[dict[str, Any]]], ledger: Ledger, rng: random.Random, ids: list[int]
) -> None:
    seq = {YEAR - 1: 0, YEAR: 0}
    history_id = 0
    for m in ids:
        for _ in range(rng.choice((3, 4) if _star(m) else (0, 0, 1, 1, 2, 3))):
            year = YEAR if rng.random() < 0.9 else YEAR - 1
            seq[year] += 1
            rid = len(rows[Report]) + 1
            sent = at(year, rng.randint(1, 12), rng.randint(1, 28), 10, 0)
            co = rng.sample([x for x in ids if x != m], k=rng.choice((0, 0, 1, 2)))
            paths = (
                ["submit"], ["submit", "adopt"], ["submit", "adopt", "forward", "endorse"],
                ["submit", "reject"], ["submit", "adopt", "forward", "endorse", "endorse"],
            )  # fmt: skip
            path = rng.choice(paths[1:3] if _star(m) else paths)
            state = {"submit": "submitted", "adopt": "adopted", "reject": "rejected",
                     "forward": "forwarded", "endorse": "endorsed"}  # fmt: skip
            rows[Report].append(
                {
                    "id": rid,
                    "number": f"SQ-{year}-{seq[year]:04d}",
                    "year": year,
                    "seq": seq[year],
                    "title": f"关于第{rid}件事的建议",
                    "category": "其他",
                    "content": "基本情况……",
                    "submitter_id": m,
                    "sector": ledger.sectors[m],
                    "state": state[path[-1]],
                    "state_since": sent + timedelta(days=len(path)),
                    "submitted_at": sent,
                    "updated_at": sent + timedelta(days=len(path)),
                }
            )
            rows[ReportSubmitter].append({"report_id": rid, "member_id": m, "role": "lead"})
            for c in co:
                rows[ReportSubmitter].append({"report_id": rid, "member_id": c, "role": "co"})
            previous = "submitted"
            for n, action in enumerate(path):
                history_id += 1
                rows[ReportHistory].append(
                    {
                        "id": history_id,
                        "report_id": rid,
                        "action": action,
                        "from_state": "draft" if n == 0 else previous,
                        "to_state": state[action],
                        "actor": f"user:u{m}" if n == 0 else "cli",
                        "actor_id": m if n == 0 else None,
                        "at": sent + timedelta(days=n),
                        "comment": "",
                        "level": "市领导" if action == "endorse" else "",
                        "target": "",
                    }
                )
                previous = state[action]
            if year == YEAR:
                ledger.add(m, "reports_submitted")
                ledger.add(m, "reports_adopted", "adopt" in path)
                ledger.add(m, "reports_endorsed", "endorse" in path)
                for c in co:
                    ledger.add(c, "reports_cosigned")


def _notices(
    rows: dict[Any, list[dict[str, Any]]], ledger: Ledger, rng: random.Random, ids: list[int]
) -> None:
    delays = (0.5, 2, 5, 23, 25, 49, 72)  # hours; never exactly 24
    sends = [at(YEAR, month, day, 9, 0) for month in range(1, 13) for day in (3, 17)]
    sends.append(at(YEAR + 1, 1, 2, 9, 0))  # next year's: not in the record
    for n, send_at in enumerate(sends, start=1):
        needs_ack = n % 7 != 0
        counted = needs_ack and send_at.year == YEAR
        rows[Notice].append(
            {
                "id": n,
                "text": f"通知{n}",
                "group_ids": [],
                "needs_ack": needs_ack,
                "send_at": send_at,
                "chase_at": None,
                "created_at": send_at,
            }
        )
        for m in _invited(rng, ids, 2):
            delay = 0.5 if _star(m) else rng.choice(delays) if rng.random() < 0.8 else None
            acked = send_at + timedelta(hours=delay) if delay is not None else None
            rows[NoticeRecipient].append(
                {"notice_id": n, "member_id": m, "acked_at": acked, "ack_via": "text"}
            )
            if counted:
                ledger.add(m, "notices")
                ledger.add(m, "notices_acked", delay is not None)
                ledger.add(m, "notices_acked_24h", delay is not None and delay <= 24)


def _meetings(
    rows: dict[Any, list[dict[str, Any]]], ledger: Ledger, rng: random.Random, ids: list[int]
) -> None:
    starts = [at(YEAR, month, 15, 15, 0) for month in range(1, 13)] + [at(YEAR + 1, 1, 3, 9, 0)]
    for n, starts_at in enumerate(starts, start=1):
        rows[Meeting].append(
            {
                "id": n,
                "kind": "专题协商会",
                "text": f"会议{n}",
                "place": "三楼会议室",
                "starts_at": starts_at,
                "reply_by": starts_at - timedelta(days=2),
                "group_ids": [],
                "created_at": starts_at - timedelta(days=7),
            }
        )
        for m in _invited(rng, ids, 3):
            answer = "attend" if _star(m) else rng.choice(("attend", "attend", "leave", None))
            rows[MeetingInvitee].append(
                {
                    "meeting_id": n,
                    "member_id": m,
                    "answer": answer,
                    "reason": "出差" if answer == "leave" else "",
                    "answered_at": starts_at - timedelta(days=3) if answer else None,
                }
            )
            if starts_at.year == YEAR:
                ledger.add(m, "meetings")
                key = {"attend": "meetings_attended", "leave": "meetings_excused"}
                ledger.add(m, key.get(answer or "", "meetings_missed"))


def _tasks(
    rows: dict[Any, list[dict[str, Any]]], ledger: Ledger, rng: random.Random, ids: list[int]
) -> None:
    deadlines = [at(YEAR, month, 10, 23, 59) for month in range(2, 13, 2)]
    deadlines.append(at(YEAR + 1, 1, 20, 23, 59))  # next year's: not in the record
    for n, deadline in enumerate(deadlines, start=1):
        rows[Task].append(
            {
                "id": n,
                "text": f"请于{deadline.month}月10日前提交材料",
                "deadline": deadline,
                "has_time": False,
                "group_ids": [],
                "created_at": deadline - timedelta(days=20),
            }
        )
        for m in _invited(rng, ids, 4):
            outcome = (
                "on_time" if _star(m) else rng.choice(("on_time", "on_time", "late", "not_done"))
            )
            done = {"on_time": deadline - timedelta(days=1), "late": deadline + timedelta(days=2)}
            rows[TaskAssignee].append(
                {"task_id": n, "member_id": m, "done_at": done.get(outcome), "done_by": ""}
            )
            if deadline.year == YEAR:
                ledger.add(m, "tasks")
                ledger.add(m, f"tasks_{outcome}")


_PATHS = (
    ("submit",),
    ("submit", "accept"),
    ("submit", "reject"),
    ("submit", "accept", "assign", "answer"),
    ("submit", "accept", "assign", "answer", "rate"),
    ("submit", "accept", "assign", "answer", "dissatisfied", "assign", "answer", "rate", "close"),
)
_TO = {
    "submit": "submitted", "accept": "accepted", "reject": "rejected", "assign": "assigned",
    "answer": "answered", "rate": "rated", "dissatisfied": "reopened", "close": "closed",
}  # fmt: skip


def _proposals(
    rows: dict[Any, list[dict[str, Any]]], ledger: Ledger, rng: random.Random, ids: list[int]
) -> None:
    seq = {YEAR - 1: 0, YEAR: 0}
    for m in ids:
        for _ in range(rng.choice((0, 1, 1, 2))):
            year = YEAR if rng.random() < 0.85 else YEAR - 1
            seq[year] += 1
            pid = len(rows[Proposal]) + 1
            sent = at(year, rng.randint(1, 11), rng.randint(1, 28), 10, 0)
            path = rng.choice(_PATHS)
            rating = rng.choice(("satisfied", "basic", "unsatisfied")) if "rate" in path else ""
            if rating == "unsatisfied":
                rating = "basic"  # a final rating after 重新办理 is never 不满意 here
            key = "accept" in path and rng.random() < 0.3
            rows[Proposal].append(
                {
                    "id": pid, "number": f"TA-{year}-{seq[year]:04d}", "year": year,
                    "seq": seq[year], "title": f"关于第{pid}件提案的建议", "situation": "……",
                    "suggestion": "……", "submitter_id": m, "sector": ledger.sectors[m],
                    "state": _TO[path[-1]], "state_since": sent + timedelta(days=len(path)),
                    "due_at": None, "key": key, "leader": "", "lead_unit": "",
                    "co_units": "", "classification": "", "satisfaction": rating,
                    "merged_into": "", "converted_to": "", "submitted_at": sent,
                    "updated_at": sent + timedelta(days=len(path)),
                }
            )  # fmt: skip
            rows[ProposalSigner].append(
                {"proposal_id": pid, "member_id": m, "role": "lead", "confirmed_at": sent}
            )
            co = rng.sample([x for x in ids if x != m], k=rng.choice((0, 1, 2)))
            confirmed = [c for c in co if rng.random() < 0.7]
            for c in co:
                when = sent + timedelta(hours=2) if c in confirmed else None
                rows[ProposalSigner].append(
                    {"proposal_id": pid, "member_id": c, "role": "co", "confirmed_at": when}
                )
            previous = "draft"
            for n, action in enumerate(path):
                rows[ProposalHistory].append(
                    {
                        "id": len(rows[ProposalHistory]) + 1, "proposal_id": pid,
                        "action": action, "from_state": previous, "to_state": _TO[action],
                        "actor": "cli", "actor_id": None, "at": sent + timedelta(days=n),
                        "comment": "", "level": "", "target": "",
                    }
                )  # fmt: skip
                previous = _TO[action]
            if year == YEAR:
                ledger.add(m, "proposals")
                ledger.add(m, "proposals_accepted", "accept" in path)
                ledger.add(m, "proposals_key", key)
                ledger.add(m, "proposals_satisfied", rating in ("satisfied", "basic"))
                for c in confirmed:
                    ledger.add(c, "proposals_cosigned")


ACTIVITY_KINDS = ("调研", "视察", "界别活动", "培训")


def _activities(
    rows: dict[Any, list[dict[str, Any]]], ledger: Ledger, rng: random.Random, ids: list[int]
) -> None:
    for m in ids:
        for _ in range(rng.choice((0, 1, 2, 3, 5))):
            year = rng.choice((YEAR, YEAR, YEAR, YEAR - 1, YEAR + 1))
            day = date(year, rng.randint(1, 12), rng.randint(1, 28))
            kind = rng.choice(ACTIVITY_KINDS)
            state = rng.choice(("confirmed", "confirmed", "pending", "returned"))
            rows[Activity].append(
                {
                    "id": len(rows[Activity]) + 1, "member_id": m, "kind": kind, "day": day,
                    "text": f"参加{kind}", "state": state, "source": "import",
                    "meeting_id": None, "attachments": [], "created_at": at(YEAR, 1, 1, 9, 0),
                    "reviewed_at": None, "reviewer": "", "comment": "",
                }
            )  # fmt: skip
            if year == YEAR and state == "confirmed":
                ledger.add(m, "activities")
                ledger.add(m, f"activities.{kind}")
