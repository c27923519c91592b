"""导出: the office's spreadsheets (履职档案 and its parts) for a chosen year, as downloads.

The spreadsheets belong to the duty-record feature: :data:`handlers.exports.EXPORTS` (keyed
"members", "checkins", "reports", "meetings"), the same builders ``lvzhi export`` uses; each
:class:`~handlers.exports.Export` has a Chinese ``title``, a ``filename(year)`` and
``await build(db, config, year)`` returning the .xlsx bytes. A download is a POST with the
CSRF token (it hands out personal data, so it is an audited action like any other) and is
named with RFC 6266's ``filename*`` (RFC 5987 encoding), which browsers use for the Chinese
name, and an ASCII ``filename`` for those that do not.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from aiohttp import web

from bot.console.common import field
from bot.console.registry import ConsoleRegistry
from bot.console.server import View
from handlers.exports import EXPORTS

log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YEARS_BACK = 5


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with the real (Chinese) name as RFC 5987 ``filename*`` and an ASCII
    ``fallback``; quotes, backslashes and line breaks can never reach the header."""
    ascii_name = "".join(c for c in fallback if c.isascii() and c.isprintable() and c not in '"\\')
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def years(now_year: int) -> list[int]:
    return list(range(now_year, now_year - YEARS_BACK, -1))


async def exports_page(view: View) -> web.StreamResponse:
    return _render(view, error=None)


async def download(view: View) -> web.StreamResponse:
    export = EXPORTS.get(field(view, "key", 32))
    year_text = field(view, "year", 4)
    year = int(year_text) if year_text.isdigit() else 0
    if export is None or year not in years(view.now.year):
        return _render(view, error="请选择要导出的表格和年度。", status=400)
    try:
        data = await export.build(view.runtime.db, view.config, year)
    except Exception:
        log.exception("export %s for %s failed", export.key, year)
        return _render(view, error=f"导出「{export.title}」失败，详情见服务日志。", status=500)
    filename = export.filename(year)
    async with view.runtime.db.transaction() as tx:
        await view.audit(
            tx,
            "console.export",
            entity="export",
            entity_id=export.key,
            detail={"year": year, "file": filename, "bytes": len(data)},
        )
    return web.Response(
        body=data,
        content_type=XLSX,
        headers={
            "Content-Disposition": content_disposition(filename, f"lvzhi-{export.key}-{year}.xlsx")
        },
    )


def _render(view: View, *, error: str | None, status: int = 200) -> web.Response:
    return view.render(
        "exports.html",
        status=status,
        exports=list(EXPORTS.values()),
        years=years(view.now.year),
        year=view.now.year,
        error=error,
    )


def install(console: ConsoleRegistry) -> None:
    console.register_page("exports", "导出", get=exports_page, order=70)
    console.register_page("exports/download", "下载导出", post=download, nav=False)
