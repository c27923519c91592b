"""打卡周图: a study group's check-in rate per week over the last quarter, as a PNG.

Pushed to the group with the weekly summary (:mod:`handlers.checkin.plan`) through the group
robot, which takes an image as base64 + md5 of at most 2 MB. The picture is drawn with
matplotlib's Agg canvas on a bare :class:`~matplotlib.figure.Figure` (no pyplot: no global
state, nothing to close) and reduced to a 64-colour palette, which keeps a chart at about
10 KB: small enough to travel inside the outbox payload (see :data:`PAYLOAD_LIMIT`), so the
image sent is exactly the one planned, whatever retries happen.

Chinese labels need a CJK font: WenQuanYi Micro Hei (Debian's ``fonts-wqy-microhei``) or
another one matplotlib can find. Without one the chart is still drawn, with English labels,
and a warning is logged once.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.messages import Image
from bot.workcalendar import WorkCalendar
from handlers.checkin.rules import is_required
from handlers.text.periods import Period, previous_period
from storage import Tx
from storage.models import Campaign, Group

if TYPE_CHECKING:
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

QUARTER_WEEKS = 13
ROBOT_IMAGE_LIMIT = 2 * 1024 * 1024  # WeCom: a robot's image is at most 2 MB before base64
# The PNG goes in the delivery's payload (base64: 4/3 of this) only below this size; a chart
# is ~10 KB. A bigger one is not queued (and logged): the outbox rows must stay small.
PAYLOAD_LIMIT = 64 * 1024
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
CJK_FAMILIES = ("WenQuanYi", "Noto Sans CJK", "Source Han Sans", "SimHei", "Microsoft YaHei")
BAR_COLOUR = "#B03A2E"  # 政协红, a muted red


@dataclass(frozen=True, slots=True)
class WeekRate:
    """One week of a group: how many of its members checked in."""

    start: date
    checked: int
    members: int

    @property
    def rate(self) -> float:
        """0–100."""
        return 100 * self.checked / self.members if self.members else 0.0


def quarter_weeks(
    last: Period, campaign: Campaign, calendar: WorkCalendar, weeks: int = QUARTER_WEEKS
) -> list[Period]:
    """The last ``weeks`` weekly periods up to ``last``, oldest first: those the campaign ran
    in and that asked for a check-in (a week of holidays only is left out, not drawn as 0)."""
    found: list[Period] = []
    period = last
    for _ in range(weeks):
        if period.end < campaign.starts_on:
            break
        if is_required(period, campaign.skip_holidays, calendar):
            found.append(period)
        period = previous_period(period)
    return found[::-1]


async def week_rates(
    tx: Tx, campaign: Campaign, group: Group, last: Period, calendar: WorkCalendar
) -> list[WeekRate]:
    weeks = quarter_weeks(last, campaign, calendar)
    if not weeks:
        return []
    counts = {
        c.period_start: c.checked
        for c in await tx.checkins.counts_by_period(campaign.id, group.id, weeks[0].start)
    }
    members = len(await tx.groups.members(group.id))
    return [WeekRate(p.start, counts.get(p.start, 0), members) for p in weeks]


# -- drawing -----------------------------------------------------------------------------------


@functools.cache
def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs, registered with matplotlib; or None."""
    from matplotlib import font_manager

    for path in CJK_FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    for entry in font_manager.fontManager.ttflist:
        if any(entry.name.startswith(family) for family in CJK_FAMILIES):
            return str(entry.name)
    log.warning(
        "no CJK font found (install fonts-wqy-microhei): check-in charts get English labels"
    )
    return None


def draw(
    group: str, weeks: Sequence[WeekRate], *, font: str | None = None
) -> tuple[Figure, BarContainer]:
    """The chart as a matplotlib figure and its bars (one per week)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [f"{w.start.month}/{w.start.day}" for w in weeks]
    bars = axes.bar(range(len(weeks)), [w.rate for w in weeks], color=BAR_COLOUR, width=0.7)
    axes.set_xticks(range(len(weeks)), labels)
    axes.bar_label(bars, labels=[f"{w.rate:.0f}%" for w in weeks], fontsize=8)
    axes.set_ylim(0, 110)
    axes.spines[["top", "right"]].set_visible(False)
    if font is not None:
        axes.set_title(f"{group} 近{len(weeks)}周学习打卡率", fontfamily=font, fontsize=13)
        axes.set_ylabel("打卡率（%）", fontfamily=font)
        axes.set_xlabel("周（起始日）", fontfamily=font)
    else:
        axes.set_title(f"Weekly check-in rate, last {len(weeks)} weeks")
        axes.set_ylabel("rate (%)")
        axes.set_xlabel("week starting")
    figure.tight_layout()
    return figure, bars


def render_png(figure: Figure) -> bytes:
    """The figure as a PNG with a 64-colour palette (a third of the size, looks the same)."""
    from PIL import Image as PILImage

    raw = io.BytesIO()
    figure.savefig(raw, format="png")
    picture = PILImage.open(io.BytesIO(raw.getvalue())).convert("RGB").quantize(colors=64)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def chart_png(group: str, weeks: Sequence[WeekRate]) -> bytes:
    figure, _ = draw(group, weeks, font=cjk_font())
    return render_png(figure)


def as_image(png: bytes) -> Image:
    """What a group robot takes: base64 of the file and the md5 of the file itself."""
    return Image(base64.b64encode(png).decode("ascii"), hashlib.md5(png).hexdigest())


async def weekly_chart(
    tx: Tx, campaign: Campaign, group: Group, last: Period, calendar: WorkCalendar
) -> Image | None:
    """The group's chart up to ``last`` as a robot image; None when there is nothing to draw
    or it cannot be made (the summary text goes out regardless)."""
    weeks = await week_rates(tx, campaign, group, last, calendar)
    if not weeks or not weeks[-1].members:
        return None
    try:
        # ~0.1 s of CPU: drawn in a thread so that callbacks keep being answered meanwhile
        # (each drawing has its own Figure; no pyplot state is shared).
        png = await asyncio.to_thread(chart_png, group.name, weeks)
    except Exception:  # a drawing failure must not cost the group its summary
        log.exception("check-in chart for %s could not be drawn", group.name)
        return None
    if len(png) > min(PAYLOAD_LIMIT, ROBOT_IMAGE_LIMIT):
        log.warning("check-in chart for %s is %d bytes; not sent", group.name, len(png))
        return None
    return as_image(png)
