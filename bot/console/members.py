"""名册与群组: the roster (search, import by upload), the groups and their channels, the
check-in campaigns.

Roster import is the same as ``lvzhi members import`` (:func:`bot.roster.read.read_roster`, then
``tx.roster.apply_roster``), audited as the console account. A roster row is also who may sign
in (WeCom login finds office staff by userid), so a secretary's import that would change office
staff beyond what a secretary may do (:func:`storage.repos.roster.staff_rule`: any change to an
admin, making or unmaking staff, a secretary's userid or mobile) is refused whole, before
anything is written, naming the rows.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiohttp import BodyPartReader, web

from bot.console.registry import ConsoleRegistry
from bot.console.server import View
from bot.delivery.routing import group_channel
from bot.errors import UserFacingError
from bot.labels import GROUP_KIND_LABELS, ROLE_LABELS, mask_secret
from bot.roster.columns import FIELD_LABELS
from bot.roster.read import EXCEL_SUFFIXES, Rejection, RosterFile, read_roster
from handlers.checkin.rules import PushSpec, describe_push
from handlers.text.periods import CADENCE_NAMES, as_cadence
from storage.repos.roster import ImportReport, RowRejection

LISTING_LIMIT = 500
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a 3,000-member roster is a few hundred kilobytes
UPLOAD_SUFFIXES = (*EXCEL_SUFFIXES, ".csv")


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes
    dry_run: bool


# -- roster -------------------------------------------------------------------------------------


async def members_page(view: View) -> web.StreamResponse:
    query = view.request.query.get("q", "").strip()[:64]
    async with view.runtime.db.read() as tx:
        members, total = await tx.console.search_members(query, LISTING_LIMIT)
        study_groups = await tx.members.study_groups()
    return view.render(
        "members.html",
        members=members,
        total=total,
        limit=LISTING_LIMIT,
        query=query,
        study_groups=study_groups,
        max_upload_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
    )


async def import_roster(view: View) -> web.StreamResponse:
    try:
        upload = await read_upload(view)
        roster = await asyncio.to_thread(_read_roster_file, upload)
        report = await _apply(view, roster, upload.dry_run)
    except UserFacingError as exc:
        return view.render("import_report.html", status=400, error=exc.message, roster=None)
    rejections: list[Rejection | RowRejection] = [*roster.rejections, *report.rejected]
    rejections.sort(key=lambda rejection: rejection.row_number)
    return view.render(
        "import_report.html",
        error=None,
        roster=roster,
        report=report,
        rejections=rejections,
        field_labels=FIELD_LABELS,
        shown=display_value,
    )


async def read_upload(view: View) -> Upload:
    """The file and options of the import form; the CSRF token was its first field."""
    reader = view.multipart
    if reader is None:
        raise UserFacingError("请通过页面上的表单上传名册文件。")
    filename, data, dry_run = "", b"", False
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file" and part.filename:
            filename = Path(part.filename.replace("\\", "/")).name[:120]
            chunks, size = [], 0
            while chunk := await part.read_chunk(64 * 1024):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise UserFacingError(
                        f"文件过大（超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB）。"
                    )
                chunks.append(chunk)
            data = b"".join(chunks)
        elif part.name == "dry_run":
            dry_run = (await part.text()).strip() in ("1", "on", "true")
        else:
            await part.release()
    if not filename or not data:
        raise UserFacingError("请选择要导入的名册文件（.xlsx 或 .csv）。")
    if not filename.lower().endswith(UPLOAD_SUFFIXES) or "\x00" in filename:
        raise UserFacingError(f"只能导入 .xlsx 或 .csv 文件：{filename}")
    return Upload(filename, data, dry_run)


def _read_roster_file(upload: Upload) -> RosterFile:
    """``read_roster`` wants a path (it tells .xlsx from .csv by the name and quotes the name in
    its messages): the upload goes to a private temporary directory under its own name."""
    with tempfile.TemporaryDirectory(prefix="lvzhi-roster-") as directory:
        path = Path(directory) / upload.filename
        path.write_bytes(upload.data)
        return read_roster(path)


async def _apply(view: View, roster: RosterFile, dry_run: bool) -> ImportReport:
    db = view.runtime.db
    now = view.runtime.clock.now()
    async with db.transaction() as tx:
        is_admin = view.identity.is_admin
        planned = await tx.roster.apply_roster(
            roster.rows, now=now, actor=view.identity.actor, dry_run=True, actor_is_admin=is_admin
        )
        refused = [r for r in planned.rejected if r.needs_admin]
        if refused:
            rows = "；".join(f"第{r.row_number}行：{r.reason}" for r in refused[:10])
            more = f"等{len(refused)}行" if len(refused) > 10 else ""
            raise UserFacingError(
                f"该名册会修改管理员或秘书的角色或身份信息，只有管理员可以导入（{rows}{more}）。"
                "请删去这些行，或请管理员导入。"
            )
        report = (
            planned
            if dry_run
            else await tx.roster.apply_roster(
                roster.rows,
                now=now,
                actor=view.identity.actor,
                dry_run=False,
                actor_is_admin=is_admin,
            )
        )
        await view.audit(
            tx,
            "console.roster_import",
            entity="roster",
            detail={
                "file": roster.source,
                "dry_run": dry_run,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": len(roster.rejections) + len(report.rejected),
            },
        )
    return report


def display_value(value: object) -> str:
    """A changed value as the import report shows it (roles in Chinese, lists joined)."""
    if value in (None, ""):
        return "（空）"
    if isinstance(value, list | tuple | set):
        return "、".join(map(str, value)) or "（空）"
    return ROLE_LABELS.get(str(value), str(value))


# -- groups and campaigns -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupRow:
    name: str
    kind: str
    members: int
    channel: str


@dataclass(frozen=True, slots=True)
class CampaignRow:
    group: str
    cadence: str
    reminders: str
    summary: str
    skip_holidays: bool
    makeup: str
    active: bool
    starts_on: str


async def groups_page(view: View) -> web.StreamResponse:
    async with view.runtime.db.read() as tx:
        groups = await tx.groups.all()
        counts = await tx.groups.member_counts()
        campaigns = await tx.campaigns.all()
    names = {group.id: group.name for group in groups}
    group_rows = [
        GroupRow(
            group.name,
            GROUP_KIND_LABELS.get(group.kind, group.kind),
            counts.get(group.id, 0),
            _channel_label(group.app_chat_id, group.robot_key, group_channel(group)),
        )
        for group in groups
    ]
    campaign_rows = [
        CampaignRow(
            group=names.get(c.group_id, "?"),
            cadence=CADENCE_NAMES.get(c.cadence, c.cadence),
            reminders="、".join(_when(c.cadence, r) for r in c.reminders) or "—",
            summary=_when(c.cadence, c.summary) if c.summary else "—",
            skip_holidays=c.skip_holidays,
            makeup=f"{c.makeup_days}天内，每月最多{c.makeup_per_month}次",
            active=c.active,
            starts_on=c.starts_on.isoformat(),
        )
        for c in campaigns
    ]
    return view.render("groups.html", groups=group_rows, campaigns=campaign_rows)


def _channel_label(app_chat_id: str | None, robot_key: str | None, channel: str | None) -> str:
    if channel == "app_chat":
        return f"应用群聊 {app_chat_id}"
    if channel == "robot" and robot_key:
        return f"群机器人 {mask_secret(robot_key)}"  # a robot key is a secret: only masked
    return "未绑定"


def _when(cadence: str, rule: object) -> str:
    """A reminder or summary rule as the chat says it (周五20:00, 下周一09:00, 月底前3天20:00)."""
    if not isinstance(rule, dict):
        return "?"
    return describe_push(as_cadence(cadence), PushSpec.of(rule))


def install(console: ConsoleRegistry) -> None:
    console.register_page("members", "名册", get=members_page, order=50)
    console.register_page("members/import", "导入名册", post=import_roster, nav=False)
    console.register_page("groups", "群组与打卡", get=groups_page, order=60)
