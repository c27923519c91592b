"""Importing a roster into the database (``tx.roster.apply_roster``), on SQLite and PostgreSQL:
upsert by userid then mobile, idempotent re-import, audit rows, study-group moves, conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.roster.read import RosterRow, read_roster
from storage import Database
from storage.models import AuditEntry, Group
from storage.repos.roster import ImportReport, RowRejection

NOW = datetime(2025, 11, 25, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)


def member(
    number: int,
    name: str,
    mobile: str | None,
    userid: str | None,
    study_group: str | None = None,
    *,
    sector: str | None = "经济界",
    committee: str | None = "经济委",
    role: str | None = None,
) -> RosterRow:
    return RosterRow(number, name, mobile, userid, sector, committee, study_group, role)


ROSTER = [
    member(2, "张伟", "13800138001", "zhangwei", "第1学习小组", sector="中共界", role="member"),
    member(3, "李娜", "13800138002", "lina", "第1学习小组", committee="提案委"),
    member(4, "王芳", "13800138003", None, "第2学习小组"),
    member(5, "孙丽", None, "sunli", None, sector=None, committee=None, role="secretary"),
]


async def apply(
    db: Database, rows: list[RosterRow], *, now: datetime = NOW, dry_run: bool = False
) -> ImportReport:
    async with db.transaction() as tx:
        return await tx.roster.apply_roster(rows, now=now, actor="cli", dry_run=dry_run)


async def roster_state(db: Database) -> list[tuple[Any, ...]]:
    async with db.read() as tx:
        groups = await tx.members.study_groups()
        return [
            (m.name, m.userid, m.mobile, m.sector, m.committee, groups.get(m.id), m.role)
            for m in await tx.members.all()
        ]


async def audit_rows(db: Database) -> list[tuple[str, str, str, dict[str, Any]]]:
    async with db.read() as tx:
        rows = await tx.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(a.actor, a.action, a.entity, a.detail) for a in rows]


async def test_first_import_creates_members_groups_and_audit(db: Database) -> None:
    report = await apply(db, ROSTER)
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)
    assert report.rejected == ()
    assert report.groups_created == ("第1学习小组", "第2学习小组")
    assert await roster_state(db) == [
        ("张伟", "zhangwei", "13800138001", "中共界", "经济委", "第1学习小组", "member"),
        ("李娜", "lina", "13800138002", "经济界", "提案委", "第1学习小组", "member"),
        ("王芳", None, "13800138003", "经济界", "经济委", "第2学习小组", "member"),
        ("孙丽", "sunli", None, "", "", None, "secretary"),
    ]
    async with db.read() as tx:
        groups = {g.name: g for g in await tx.groups.all()}
        counts = await tx.groups.member_counts()
    assert {name: (g.kind, counts[g.id]) for name, g in groups.items()} == {
        "第1学习小组": ("study_group", 2),
        "第2学习小组": ("study_group", 1),
    }
    audit = await audit_rows(db)
    assert [action for _, action, _, _ in audit] == [
        "group.import.create",
        "group.import.create",
        "member.import.create",
        "member.import.create",
        "member.import.create",
        "member.import.create",
    ]
    assert audit[2] == (
        "cli",
        "member.import.create",
        "member",
        {
            "name": {"old": None, "new": "张伟"},
            "userid": {"old": None, "new": "zhangwei"},
            "mobile": {"old": None, "new": "13800138001"},
            "sector": {"old": None, "new": "中共界"},
            "committee": {"old": None, "new": "经济委"},
            "role": {"old": None, "new": "member"},
            "study_group": {"old": None, "new": "第1学习小组"},
        },
    )


async def test_reimporting_the_same_roster_changes_nothing(db: Database) -> None:
    await apply(db, ROSTER)
    before_state, before_audit = await roster_state(db), await audit_rows(db)
    report = await apply(db, ROSTER, now=LATER)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert report.groups_created == ()
    assert report.changes == ()
    assert await roster_state(db) == before_state
    assert await audit_rows(db) == before_audit


async def test_a_changed_field_updates_the_member_and_is_audited(db: Database) -> None:
    await apply(db, ROSTER)
    changed = [*ROSTER]
    changed[1] = member(
        3, "李娜", "13900139002", "lina", "第1学习小组", committee="提案委", sector="教育界"
    )
    report = await apply(db, changed, now=LATER)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    assert [(c.row_number, c.name, c.changes) for c in report.changes] == [
        (3, "李娜", {"mobile": ("13800138002", "13900139002"), "sector": ("经济界", "教育界")})
    ]
    assert (await roster_state(db))[1] == (
        "李娜",
        "lina",
        "13900139002",
        "教育界",
        "提案委",
        "第1学习小组",
        "member",
    )
    async with db.read() as tx:
        entry = (await tx.audit.recent(1))[0]
        lina = await tx.members.by_userid("lina")
    assert lina is not None
    assert lina.updated_at == LATER
    assert (entry.at, entry.actor, entry.action, entry.entity, entry.entity_id) == (
        LATER,
        "cli",
        "member.import.update",
        "member",
        str(lina.id),
    )
    assert entry.detail == {
        "mobile": {"old": "13800138002", "new": "13900139002"},
        "sector": {"old": "经济界", "new": "教育界"},
    }


async def test_a_member_whose_study_group_changed_moves(db: Database) -> None:
    await apply(db, ROSTER)
    moved = [*ROSTER]
    moved[0] = member(2, "张伟", "13800138001", "zhangwei", "第3学习小组", sector="中共界")
    report = await apply(db, moved, now=LATER)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    assert report.groups_created == ("第3学习小组",)
    async with db.read() as tx:
        zhang = await tx.members.by_userid("zhangwei")
        assert zhang is not None
        assert [g.name for g in await tx.groups.groups_of(zhang.id)] == ["第3学习小组"]
        first = await tx.groups.by_name("第1学习小组")
        assert first is not None
        assert [m.name for m in await tx.groups.members(first.id)] == ["李娜"]
        entry = (await tx.audit.recent(1))[0]
    assert entry.detail == {"study_group": {"old": "第1学习小组", "new": "第3学习小组"}}


async def test_blank_values_never_erase_what_the_database_has(db: Database) -> None:
    await apply(db, ROSTER)
    async with db.transaction() as tx:
        lina = await tx.members.by_userid("lina")
        assert lina is not None
        lina.role = "admin"
    # A roster without roles, sectors, committees or study groups: nothing to change.
    sparse = [member(3, "李娜", None, "lina", sector=None, committee=None)]
    report = await apply(db, sparse, now=LATER)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert (await roster_state(db))[1] == (
        "李娜",
        "lina",
        "13800138002",
        "经济界",
        "提案委",
        "第1学习小组",
        "admin",
    )


async def test_matched_by_mobile_when_the_userid_is_new(db: Database) -> None:
    await apply(db, ROSTER)
    report = await apply(db, [member(7, "王芳", "13800138003", "wangfang", "第2学习小组")])
    assert (report.created, report.updated) == (0, 1)
    assert report.changes[0].changes == {"userid": (None, "wangfang")}
    assert (await roster_state(db))[2][:3] == ("王芳", "wangfang", "13800138003")


async def test_duplicates_within_the_file_the_later_row_is_rejected(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "姓名,手机号,企业微信账号,学习小组\n"
        "张伟,13800138001,zhangwei,第1学习小组\n"
        "张伟,13800138099,zhangwei,第2学习小组\n"
        "李娜,138-0013-8001,lina,第1学习小组\n",
        encoding="utf-8-sig",
    )
    roster = read_roster(path)
    assert [(r.row_number, r.reason) for r in roster.rejections] == [
        (3, "企业微信账号 zhangwei 与第2行重复"),
        (4, "手机号 13800138001 与第2行重复"),
    ]
    report = await apply(db, list(roster.rows))
    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    assert report.groups_created == ("第1学习小组",)
    assert await roster_state(db) == [
        ("张伟", "zhangwei", "13800138001", "", "", "第1学习小组", "member")
    ]


async def test_a_mobile_that_belongs_to_someone_else_is_rejected(db: Database) -> None:
    await apply(db, ROSTER)
    rows = [member(9, "李娜", "13800138001", "lina", "第1学习小组", committee="提案委")]
    report = await apply(db, rows, now=LATER)
    assert report.rejected == (
        RowRejection(9, "手机号 13800138001 已登记给另一位委员：张伟（zhangwei）"),
    )
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)


async def test_one_member_matched_by_two_rows_is_rejected_the_second_time(db: Database) -> None:
    await apply(db, ROSTER)
    rows = [
        member(2, "王芳", None, "wangfang"),  # new member
        member(3, "王芳", "13800138003", "wf2"),  # the existing 王芳, by mobile
        member(4, "王芳", "13800138003", None),  # the same existing 王芳 again
        member(5, "新人", "13800138050", None),
        member(6, "新人", "13800138050", "xinren"),  # matches the member row 5 creates
    ]
    report = await apply(db, rows, now=LATER)
    assert report.rejected == (
        RowRejection(4, "与第3行是同一位委员（王芳）"),
        RowRejection(6, "与第5行是同一位委员（新人）"),
    )
    assert (report.created, report.updated, report.unchanged) == (2, 1, 0)


async def test_a_mobile_given_up_by_one_row_can_be_taken_by_a_later_row(db: Database) -> None:
    await apply(db, ROSTER)
    rows = [
        member(2, "张伟", "13800138099", "zhangwei", "第1学习小组", sector="中共界"),
        member(3, "赵磊", "13800138001", "zhaolei", "第2学习小组"),  # 张伟's old mobile
    ]
    report = await apply(db, rows, now=LATER)
    assert report.rejected == ()
    assert (report.created, report.updated) == (1, 1)
    state = await roster_state(db)
    assert state[0][:3] == ("张伟", "zhangwei", "13800138099")
    assert state[4][:3] == ("赵磊", "zhaolei", "13800138001")


async def test_a_group_of_another_kind_is_not_used_as_a_study_group(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.groups.get_or_create("提案委", "committee", NOW)
    report = await apply(db, [member(2, "张伟", "13800138001", "zhangwei", "提案委")])
    assert report.rejected == (RowRejection(2, "「提案委」已是专委会群，不能用作学习小组"),)
    assert report.created == 0


async def test_dry_run_reports_and_writes_nothing(db: Database) -> None:
    report = await apply(db, ROSTER, dry_run=True)
    assert report.dry_run is True
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)
    assert report.groups_created == ("第1学习小组", "第2学习小组")
    assert await roster_state(db) == []
    assert await audit_rows(db) == []
    async with db.read() as tx:
        assert await tx.session.scalar(select(func.count()).select_from(Group)) == 0


async def test_three_thousand_rows_in_one_go(db: Database) -> None:
    rows = [
        member(n + 2, f"委员{n}", f"139{n:08d}", f"m{n}", f"第{n % 40 + 1}学习小组")
        for n in range(3000)
    ]
    first = await apply(db, rows)
    assert (first.created, len(first.groups_created)) == (3000, 40)
    again = await apply(db, rows, now=LATER)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3000)
    async with db.read() as tx:
        assert await tx.members.count() == 3000
        assert sum((await tx.groups.member_counts()).values()) == 3000
