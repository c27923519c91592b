"""The fake WeCom's Official Account (公众号) and customer-group (客户群) endpoints.

Part of :class:`tests.fakewecom.FakeWeCom` (``fake.wechat``), on the same loopback server, with
the same fault injection (``fake.inject("message/custom/send", 45015)``) and the same record of
delivered messages (``fake.accepted``):

- ``GET /cgi-bin/token?grant_type=client_credential&appid&secret``: the account's own tokens;
- ``message/custom/send`` (客服消息): refused with 45015 for a follower whose window a test
  closed (:meth:`FakeWeChat.close_window`), 43004 for one who unfollowed;
- ``message/template/send`` / ``message/subscribe/bizsend``: template values longer than 20
  characters are refused with 47003, as WeChat refuses long ``thing`` values;
- ``externalcontact/add_msg_template`` (chat_type group): creates a task and delivers nothing
  until a test plays the group owner and calls :meth:`FakeWeChat.confirm_group_send`; a
  customer group receives at most 4 group-sends a month — the 5th confirmed send gets status
  3 (超过上限), as WeCom does;
- ``externalcontact/get_groupmsg_send_result`` and ``cancel_groupmsg_send``.
"""

from __future__ import annotations

import collections
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakewecom import FakeWeCom

ENDPOINTS = (
    "message/custom/send",
    "message/template/send",
    "message/subscribe/bizsend",
    "externalcontact/add_msg_template",
    "externalcontact/get_groupmsg_send_result",
    "externalcontact/cancel_groupmsg_send",
)
GROUP_MONTHLY_CAP = 4
TEMPLATE_VALUE_CHARS = 20
WECHAT_AES_KEY = "bWFpbGZha2Vfd2VjaGF0X2Flc19rZXlfMzJieXRlcyE"


@dataclass(slots=True)
class GroupSend:
    """One add_msg_template task: its chats and, per chat, 0 (waiting), 1 (sent) or 3."""

    msgid: str
    sender: str
    content: str
    status: dict[str, int]
    send_time: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False


class FakeWeChat:
    def __init__(
        self,
        owner: FakeWeCom,
        *,
        app_id: str = "wxfake0a1b2c3d4e5f",
        app_secret: str = "fake-mp-secret-0001",
        token: str = "fakeMpToken",
    ) -> None:
        self.owner = owner
        self.app_id = app_id
        self.app_secret = app_secret
        self.token = token
        self.tokens_issued: list[str] = []
        self.closed_windows: set[str] = set()
        self.unfollowed: set[str] = set()
        self.group_sends: dict[str, GroupSend] = {}
        self._month_counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self._serial = itertools.count(1)

    # -- what tests use ----------------------------------------------------------------------

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """A ``[wechat]`` config table pointing at this fake (safe mode by default)."""
        return {
            "app_id": self.app_id,
            "app_secret": self.app_secret,
            "token": self.token,
            "encoding_aes_key": WECHAT_AES_KEY,
            "api_base": self.owner.url,
            **overrides,
        }

    def close_window(self, openid: str) -> None:
        """The follower's 48-hour window ends: custom messages get 45015 from now on."""
        self.closed_windows.add(openid)

    def pending_group_sends(self) -> list[GroupSend]:
        return [s for s in self.group_sends.values() if 0 in s.status.values() and not s.cancelled]

    def confirm_group_send(self, msgid: str | None = None) -> list[str]:
        """Play the group owner tapping 发送 in WeCom; the chat ids that received the message."""
        sends = [self.group_sends[msgid]] if msgid else self.pending_group_sends()
        reached: list[str] = []
        month = datetime.now(UTC).strftime("%Y-%m")
        for send in sends:
            for chat_id, status in send.status.items():
                if status != 0 or send.cancelled:
                    continue
                if self._month_counts[(chat_id, month)] >= GROUP_MONTHLY_CAP:
                    send.status[chat_id] = 3  # 因客户已经收到其他群发消息导致发送失败
                    continue
                self._month_counts[(chat_id, month)] += 1
                send.status[chat_id] = 1
                send.send_time[chat_id] = int(time.time())
                self.owner._deliver(
                    "externalcontact/add_msg_template", chat_id, "text", send.content
                )
                reached.append(chat_id)
        return reached

    # -- plumbing ----------------------------------------------------------------------------

    def add_routes(self, app: web.Application, endpoint: Callable[..., Any]) -> None:
        """Register the endpoints; ``endpoint(name, handler)`` wraps a handler with faults."""
        app.router.add_get("/cgi-bin/token", self._token)
        handlers = {
            "message/custom/send": self._custom_send,
            "message/template/send": self._template_send,
            "message/subscribe/bizsend": self._template_send,
            "externalcontact/add_msg_template": self._add_msg_template,
            "externalcontact/get_groupmsg_send_result": self._send_result,
            "externalcontact/cancel_groupmsg_send": self._cancel,
        }
        for name, handler in handlers.items():
            app.router.add_post(f"/cgi-bin/{name}", endpoint(name, handler))

    def _check_mp_token(self, request: web.Request) -> dict[str, Any] | None:
        if request.query.get("access_token") not in self.tokens_issued:
            return _err(40001, "invalid credential, access_token is invalid or not latest")
        return None

    # -- endpoints ---------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.StreamResponse:
        self.owner.counts["token"] += 1
        if request.query.get("grant_type") != "client_credential":
            return web.json_response(_err(40002, "invalid grant_type"))
        if request.query.get("appid") != self.app_id:
            return web.json_response(_err(40013, "invalid appid"))
        if request.query.get("secret") != self.app_secret:
            return web.json_response(_err(40125, "invalid appsecret"))
        if not self.tokens_issued:
            self.tokens_issued.append(f"fake-mp-token-{next(self._serial)}")
        # No errcode on success, as WeChat answers.
        return web.json_response({"access_token": self.tokens_issued[-1], "expires_in": 7200})

    async def _custom_send(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        refused = self._check_mp_token(request)
        if refused is not None:
            return refused
        openid = str(body.get("touser", ""))
        text = body.get("text")
        if body.get("msgtype") != "text" or not isinstance(text, dict):
            return _err(40008, "invalid message type")
        if openid in self.unfollowed:
            return _err(43004, "require subscribe")
        if openid in self.closed_windows:
            return _err(45015, "response out of time limit or subscription is canceled")
        content = str(text.get("content", ""))
        if len(content.encode("utf-8")) > 2048:
            return _err(45002, "content size out of limit")
        self.owner._deliver("message/custom/send", openid, "text", content)
        return _ok()

    async def _template_send(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        refused = self._check_mp_token(request)
        if refused is not None:
            return refused
        openid = str(body.get("touser", ""))
        data = body.get("data")
        if not body.get("template_id") or not isinstance(data, dict):
            return _err(40037, "invalid template_id")
        values = {k: str(v.get("value", "")) for k, v in data.items() if isinstance(v, dict)}
        if any(len(v) > TEMPLATE_VALUE_CHARS for v in values.values()):
            return _err(47003, "argument invalid! data.thing.value exceeds limit")
        if openid in self.unfollowed:
            return _err(43004, "require subscribe")
        content = json.dumps(values, ensure_ascii=False, sort_keys=True)
        self.owner._deliver("message/template/send", openid, "template", content)
        return _ok(msgid=next(self._serial))

    async def _add_msg_template(
        self, request: web.Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        refused = self.owner._check_token(request)
        if refused is not None:
            return refused
        chats = body.get("chat_id_list")
        text = body.get("text")
        if body.get("chat_type") != "group" or not body.get("sender"):
            return _err(40058, "sender is required for chat_type group")
        if not isinstance(chats, list) or not chats or not isinstance(text, dict):
            return _err(40058, "invalid parameter")
        content = str(text.get("content", ""))
        if len(content.encode("utf-8")) > 4000:
            return _err(40058, "text.content exceeds 4000 bytes")
        msgid = f"msgGCfake{next(self._serial):06d}"
        self.group_sends[msgid] = GroupSend(
            msgid, str(body["sender"]), content, {str(c): 0 for c in chats}
        )
        return _ok(msgid=msgid, fail_list=[])

    async def _send_result(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        refused = self.owner._check_token(request)
        if refused is not None:
            return refused
        send = self.group_sends.get(str(body.get("msgid", "")))
        if send is None or body.get("userid") != send.sender:
            return _ok(send_list=[], next_cursor="")
        send_list = [
            {"chat_id": chat, "userid": send.sender, "status": status}
            | ({"send_time": send.send_time[chat]} if chat in send.send_time else {})
            for chat, status in send.status.items()
        ]
        return _ok(send_list=send_list, next_cursor="")

    async def _cancel(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        refused = self.owner._check_token(request)
        if refused is not None:
            return refused
        send = self.group_sends.get(str(body.get("msgid", "")))
        if send is None:
            return _err(41063, "msgid not found")  # the fake's own code
        send.cancelled = True
        return _ok()


def _ok(**extra: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", **extra}


def _err(code: int, message: str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": message}
