"""What the console's action pages share: reading a form, who acts, and where to go next.
What a feature function returns (:class:`bot.messages.Send` values) is queued with
:func:`bot.delivery.outbox.queue_all`, as the chat pipeline queues a handler's sends."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.console.server import PREFIX, View, see_other
from storage import Tx
from storage.models import Member


def field(view: View, name: str, limit: int = 200) -> str:
    """A text field of the (CSRF-checked) POST form, stripped and cut to ``limit``."""
    value = view.form.get(name, "") if view.form is not None else ""
    return value.strip()[:limit] if isinstance(value, str) else ""


def fields(view: View, name: str, limit: int = 200) -> list[str]:
    """Every value of a repeated field (checkboxes), stripped, empty ones left out."""
    if view.form is None:
        return []
    values = (v.strip()[:limit] for v in view.form.getall(name, []) if isinstance(v, str))
    return [v for v in values if v]


def query_int(view: View, name: str) -> int | None:
    raw = view.request.query.get(name, "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


def to_page(path: str, **query: str | int) -> web.Response:
    """303 to a console page (after a POST: reloading it does not repeat the action)."""
    target = f"{PREFIX}/{path}"
    shown = {k: str(v) for k, v in query.items() if v not in ("", None)}
    return see_other(target + ("?" + urlencode(shown) if shown else ""))


async def acting_member(tx: Tx, view: View) -> Member | None:
    """The roster member this console account is linked to (who a notice is "from"), if any."""
    userid = view.identity.member_userid
    return await tx.members.by_userid(userid) if userid else None
