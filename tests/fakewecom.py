"""A fake WeCom API on loopback, for the tests and the benchmarks (never for production).

It serves what Lüzhi calls — ``gettoken``, ``message/send``, ``appchat/create``,
``appchat/send``, the group robot's ``webhook/send?key=``, an AI bot's ``response_url`` and
the web login's ``auth/getuserinfo`` (codes from :meth:`FakeWeCom.login_code`) — with WeCom's
behaviour where it matters to delivery:

- tokens that expire (``token_ttl``, real seconds, whatever ``expires_in`` claims) and can be
  revoked (:meth:`FakeWeCom.revoke_tokens`): 42001 for an expired one, 40014 for an unknown or
  revoked one; ``gettoken`` hands out the same token while it is valid, as WeCom does;
- real rate limits over rolling windows: a robot refuses its 21st message in any 60 s with
  45009; a member's 31st message in any 60 s from the app is accepted (errcode 0) and
  **dropped silently**, as WeCom does — counted in ``counts["dropped"]`` so a test can assert
  that nothing was; window lengths are parameters so tests can scale time down;
- ``message/send``'s duplicate check: a request identical to one accepted within its
  ``duplicate_check_interval`` answers 0 and is not delivered again
  (``counts["duplicate_suppressed"]``);
- injectable faults, one per call, in order, per endpoint (:meth:`FakeWeCom.inject`): an
  errcode (-1, 40014, 42001, 45009, 45033, 60020, 81013 …), :class:`HttpError`,
  :class:`Delay` (the call is then handled normally: a client that timed out may still have
  been served, as with the real thing), :class:`Revoke`, or ``None`` for "no fault this time";
- a record of every message delivered (``accepted``) and of every well-formed message request
  (``received``, including suppressed and dropped ones), with the target, content and time.

Usage::

    async with FakeWeCom(robot_window=1.0) as fake:
        config = ... api_base=fake.url, corp_id=fake.corp_id, secret=fake.secret ...
        fake.inject("message/send", -1, None, 45009)
        ...
        assert [a.content for a in fake.accepted] == [...]
        assert fake.counts["dropped"] == 0

Times are ``time.monotonic()`` seconds.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import hashlib
import itertools
import json
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fake_wechat import ENDPOINTS as WECHAT_ENDPOINTS
from tests.fake_wechat import FakeWeChat

ENDPOINTS = (
    "gettoken",
    "message/send",
    "message/update_template_card",
    "media/get",
    "appchat/create",
    "appchat/send",
    "webhook/send",
    "aibot/response",
    *WECHAT_ENDPOINTS,  # the 公众号 and 客户群 endpoints (tests.fake_wechat)
)


@dataclass(frozen=True, slots=True)
class HttpError:
    """Answer with this HTTP status and no JSON (a gateway error, say)."""

    status: int = 502


@dataclass(frozen=True, slots=True)
class Delay:
    """Wait this long, then handle the call normally."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Revoke:
    """Revoke every token, then handle the call (which is then refused with 40014)."""


Fault = int | HttpError | Delay | Revoke | None


@dataclass(frozen=True, slots=True)
class Accepted:
    """One message as the fake saw it."""

    endpoint: str
    target: str  # userid, chat id, robot key or response code
    msgtype: str
    content: str
    at: float  # time.monotonic()
    mentions: tuple[str, ...] = ()


@dataclass(slots=True)
class _Token:
    value: str
    issued: float
    revoked: bool = False


@dataclass(slots=True)
class _Window:
    """A rolling window of accepted sends for one limited target."""

    limit: int
    seconds: float
    times: collections.deque[float] = field(default_factory=collections.deque)

    def full(self, now: float) -> bool:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return len(self.times) >= self.limit

    def add(self, now: float) -> None:
        self.times.append(now)


Handler = Callable[[web.Request, dict[str, Any]], Awaitable[dict[str, Any]]]


# Callback credentials the fake never checks, but without which ``[wecom]`` is not "configured"
# (and the runtime would fall back to sandbox mode): a token and a 43-character AES key.
CALLBACK_TOKEN = "fake-callback-token"
CALLBACK_AES_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"


class FakeWeCom:
    def __init__(
        self,
        *,
        corp_id: str = "wwfakecorp0001",
        secret: str = "fake-corp-secret-0001",
        agent_id: int = 1000002,
        token_ttl: float = 7200.0,
        expires_in: int | None = None,
        latency: float = 0.0,
        robot_limit: int = 20,
        robot_window: float = 60.0,
        member_limit: int = 30,
        member_window: float = 60.0,
        appchat_limit: int = 200,
        appchat_window: float = 60.0,
        robot_keys: Iterable[str] | None = None,
        invalid_users: Iterable[str] = (),
    ) -> None:
        """``expires_in`` is what gettoken claims (default: the real remaining lifetime);
        ``latency`` is added to every call; ``robot_keys`` None accepts any key."""
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.token_ttl = token_ttl
        self.expires_in = expires_in
        self.latency = latency
        self.robot_limit, self.robot_window = robot_limit, robot_window
        self.member_limit, self.member_window = member_limit, member_window
        self.appchat_limit, self.appchat_window = appchat_limit, appchat_window
        self.robot_keys = None if robot_keys is None else set(robot_keys)
        self.invalid_users = set(invalid_users)

        self.accepted: list[Accepted] = []
        self.received: list[Accepted] = []
        self.media: dict[str, tuple[bytes, str, str]] = {}  # media id → data, type, file name
        self.dropped: list[Accepted] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.tokens_issued: list[str] = []
        self.chats: dict[str, list[str]] = {}
        self.login_codes: dict[str, str] = {}  # web-login code → userid (or "openid:…")

        self._faults: dict[str, collections.deque[Fault]] = collections.defaultdict(
            collections.deque
        )
        self._token: _Token | None = None
        self._known_tokens: dict[str, _Token] = {}
        self._windows: dict[tuple[str, str], _Window] = {}
        self._seen_requests: dict[str, float] = {}
        self._used_response_codes: set[str] = set()
        self._used_card_codes: set[str] = set()
        self._serial = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.wechat = FakeWeChat(self)  # the 公众号 and 客户群 endpoints

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeWeCom:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_get("/cgi-bin/auth/getuserinfo", self._getuserinfo)
        routes: dict[str, Handler] = {
            "message/send": self._message_send,
            "message/update_template_card": self._update_template_card,
            "appchat/create": self._appchat_create,
            "appchat/send": self._appchat_send,
            "webhook/send": self._webhook_send,
            "aibot/response": self._aibot_response,
        }
        for name, handler in routes.items():
            app.router.add_post(f"/cgi-bin/{name}", self._json_endpoint(name, handler))
        self.wechat.add_routes(app, self._json_endpoint)
        # No access log: its lines would carry tokens and keys, like any URL here.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- what tests use ----------------------------------------------------------------------

    def wecom_settings(self, **overrides: Any) -> dict[str, Any]:
        """A ``[wecom]`` config table pointing at this fake (for ``build_config``)."""
        return {
            "corp_id": self.corp_id,
            "agent_id": self.agent_id,
            "secret": self.secret,
            "token": CALLBACK_TOKEN,
            "encoding_aes_key": CALLBACK_AES_KEY,
            "api_base": self.url,
            **overrides,
        }

    def inject(self, endpoint: str, *faults: Fault) -> None:
        """Queue faults for the next calls of ``endpoint``, one per call, in order."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        self._faults[endpoint].extend(faults)

    def pending_faults(self, endpoint: str) -> int:
        return len(self._faults[endpoint])

    def add_media(
        self, media_id: str, data: bytes, content_type: str = "image/jpeg", filename: str = ""
    ) -> None:
        """A file a member sent: ``media/get`` serves it until :meth:`expire_media`."""
        self.media[media_id] = (data, content_type, filename)

    def expire_media(self, media_id: str) -> None:
        self.media.pop(media_id, None)

    def revoke_tokens(self) -> None:
        """WeCom's early revocation: every token issued so far is refused from now on."""
        for token in self._known_tokens.values():
            token.revoked = True

    def login_code(self, userid: str) -> str:
        """A web-login code (网页授权 / 扫码登录) that ``auth/getuserinfo`` answers with
        ``userid`` once; ``"openid:…"`` stands for someone outside the corp."""
        code = f"fake-code-{next(self._serial)}-{secrets.token_hex(8)}"
        self.login_codes[code] = userid
        return code

    def response_url(self, code: str) -> str:
        """A one-shot AI-bot response URL served by this fake."""
        return f"{self.url}/cgi-bin/aibot/response?response_code={code}"

    def delivered(self, endpoint: str | None = None, target: str | None = None) -> list[Accepted]:
        return [
            a
            for a in self.accepted
            if (endpoint is None or a.endpoint == endpoint)
            and (target is None or a.target == target)
        ]

    def peak(self, endpoint: str, target: str, window: float) -> int:
        """The most messages delivered to ``target`` within any rolling ``window`` seconds."""
        times = [a.at for a in self.delivered(endpoint, target)]
        best, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -- plumbing ----------------------------------------------------------------------------

    def _deliver(self, endpoint: str, target: str, msgtype: str, content: str) -> None:
        """Record one message as received and delivered (for endpoints without limits)."""
        item = Accepted(endpoint, target, msgtype, content, time.monotonic())
        self.received.append(item)
        self.accepted.append(item)

    def _json_endpoint(self, name: str, handler: Handler) -> Callable[..., Any]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            self.counts[name] += 1
            # The whole request is in before any fault: a delayed call is still served after
            # its client gave up, like a real one that was slow after receiving it.
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
            fault = await self._apply_fault(name)
            if isinstance(fault, web.StreamResponse):
                return fault
            if not isinstance(body, dict):
                return web.json_response(_err(47001, "data format error"))
            if isinstance(fault, int):
                self.counts["injected"] += 1
                answer = _err(fault, "injected")
                if fault == 81013 and name == "message/send":
                    answer["invaliduser"] = str(body.get("touser", ""))
                return web.json_response(answer)
            return web.json_response(await handler(request, body))

        return endpoint

    async def _apply_fault(self, name: str) -> web.StreamResponse | int | None:
        if self.latency:
            await asyncio.sleep(self.latency)
        queue = self._faults[name]
        fault = queue.popleft() if queue else None
        if isinstance(fault, Delay):
            await asyncio.sleep(fault.seconds)
            return None
        if isinstance(fault, Revoke):
            self.revoke_tokens()
            return None
        if isinstance(fault, HttpError):
            self.counts["injected"] += 1
            return web.Response(status=fault.status, text="bad gateway")
        return fault

    def _check_token(self, request: web.Request) -> dict[str, Any] | None:
        token = self._known_tokens.get(request.query.get("access_token", ""))
        if token is None or token.revoked:
            return _err(40014, "invalid access_token")
        if time.monotonic() - token.issued >= self.token_ttl:
            return _err(42001, "access_token expired")
        return None

    def _window(self, kind: str, target: str, limit: int, seconds: float) -> _Window:
        key = (kind, target)
        if key not in self._windows:
            self._windows[key] = _Window(limit, seconds)
        return self._windows[key]

    # -- endpoints ---------------------------------------------------------------------------

    async def _media_get(self, request: web.Request) -> web.StreamResponse:
        """The file itself with its name in Content-Disposition, or JSON errcode 40007."""
        self.counts["media/get"] += 1
        fault = await self._apply_fault("media/get")
        if isinstance(fault, web.StreamResponse):
            return fault
        if isinstance(fault, int):
            return web.json_response(_err(fault, "injected"))
        refused = self._check_token(request)
        if refused is not None:
            return web.json_response(refused)
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return web.json_response(_err(40007, "invalid media_id"))
        data, content_type, filename = found
        headers = {}
        if filename:
            quoted = urllib.parse.quote(filename)
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quoted}"
        return web.Response(body=data, content_type=content_type, headers=headers)

    async def _gettoken(self, request: web.Request) -> web.StreamResponse:
        self.counts["gettoken"] += 1
        fault = await self._apply_fault("gettoken")
        if isinstance(fault, web.StreamResponse):
            return fault
        if isinstance(fault, int):
            self.counts["injected"] += 1
            return web.json_response(_err(fault, "injected"))
        if request.query.get("corpid") != self.corp_id:
            return web.json_response(_err(40013, "invalid corpid"))
        if request.query.get("corpsecret") != self.secret:
            return web.json_response(_err(40001, "invalid credential"))
        now = time.monotonic()
        token = self._token
        if token is None or token.revoked or now - token.issued >= self.token_ttl:
            token = _Token(f"fake-token-{next(self._serial)}-{secrets.token_hex(8)}", now)
            self._token = token
            self._known_tokens[token.value] = token
            self.tokens_issued.append(token.value)
        remaining = max(1, int(self.token_ttl - (now - token.issued)))
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "access_token": token.value,
                "expires_in": self.expires_in if self.expires_in is not None else remaining,
            }
        )

    async def _message_send(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        refused = self._check_token(request)
        if refused is not None:
            return refused
        if body.get("agentid") != self.agent_id:
            return _err(40056, "invalid agentid")
        msgtype, content = _content(body)
        if msgtype is None:
            return _err(40008, "invalid message type")
        if len(content.encode("utf-8")) > 2048:
            return _err(45002, "content size out of limit")
        users = [u for u in str(body.get("touser", "")).split("|") if u]
        invalid = [u for u in users if u in self.invalid_users]
        if not users or len(invalid) == len(users):
            refusal = _err(81013, "user & party & tag all invalid")
            return {**refusal, "invaliduser": "|".join(users)}
        now = time.monotonic()
        for user in users:
            self.received.append(Accepted("message/send", user, msgtype, content, now))
        if body.get("enable_duplicate_check") == 1:
            canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
            interval = float(body.get("duplicate_check_interval", 1800))
            seen = self._seen_requests.get(canonical)
            if seen is not None and now - seen < interval:
                self.counts["duplicate_suppressed"] += 1
                return _ok(invaliduser="|".join(invalid))
            self._seen_requests[canonical] = now
        for user in users:
            if user in invalid:
                continue
            item = Accepted("message/send", user, msgtype, content, now)
            window = self._window("member", user, self.member_limit, self.member_window)
            if window.full(now):
                # WeCom's answer is still 0: the excess simply never reaches the member.
                self.counts["dropped"] += 1
                self.dropped.append(item)
                continue
            window.add(now)
            self.accepted.append(item)
        return _ok(invaliduser="|".join(invalid), msgid=f"msg{next(self._serial)}")

    async def _update_template_card(
        self, request: web.Request, body: dict[str, Any]
    ) -> dict[str, Any]:
        """One update per click: a response code used twice is refused (WeCom documents the
        one-use rule, not its errcode; 40009 here is the fake's own)."""
        refused = self._check_token(request)
        if refused is not None:
            return refused
        if body.get("agentid") != self.agent_id:
            return _err(40056, "invalid agentid")
        code = str(body.get("response_code") or "")
        button = body.get("button")
        users = [str(u) for u in body.get("userids") or ()]
        if not code or code in self._used_card_codes:
            return _err(40009, "invalid response_code")
        if not isinstance(button, dict) or not button.get("replace_name") or not users:
            return _err(40058, "invalid parameter")
        self._used_card_codes.add(code)
        now = time.monotonic()
        for user in users:
            label = str(button["replace_name"])
            item = Accepted("message/update_template_card", user, "update", label, now)
            self.received.append(item)
            self.accepted.append(item)
        return _ok()

    async def _appchat_create(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        refused = self._check_token(request)
        if refused is not None:
            return refused
        users = body.get("userlist")
        if not isinstance(users, list) or not 2 <= len(users) <= 2000:
            return _err(40058, "userlist must hold 2 to 2000 members")
        chatid = str(body.get("chatid") or f"wrfake{next(self._serial):08d}")
        if chatid in self.chats:
            # The fake's choice of code: a duplicate chat id is a bad parameter.
            return _err(40058, "chatid exists")
        self.chats[chatid] = [str(u) for u in users]
        return _ok(chatid=chatid)

    async def _appchat_send(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        refused = self._check_token(request)
        if refused is not None:
            return refused
        chatid = str(body.get("chatid", ""))
        if chatid not in self.chats:
            return _err(86003, "chat not found")  # the fake's code for an unknown chat
        msgtype, content = _content(body)
        if msgtype is None:
            return _err(40008, "invalid message type")
        if len(content.encode("utf-8")) > 2048:
            return _err(45002, "content size out of limit")
        now = time.monotonic()
        item = Accepted("appchat/send", chatid, msgtype, content, now)
        self.received.append(item)
        window = self._window("appchat", chatid, self.appchat_limit, self.appchat_window)
        if window.full(now):
            self.counts["dropped"] += 1
            self.dropped.append(item)
            return _ok()
        window.add(now)
        self.accepted.append(item)
        return _ok()

    async def _webhook_send(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        key = request.query.get("key", "")
        if not key or (self.robot_keys is not None and key not in self.robot_keys):
            return _err(93000, "invalid webhook url")
        msgtype, content = _robot_image(body) if body.get("msgtype") == "image" else _content(body)
        if msgtype is None:
            return _err(40008, "invalid message type")
        limit = 4096 if msgtype == "markdown" else 2048
        if len(content.encode("utf-8")) > limit:
            return _err(40058, "content exceeds limit")
        section = body[msgtype]
        mentions: tuple[str, ...] = ()
        if msgtype == "text":
            mentions = tuple(str(m) for m in section.get("mentioned_list") or ())
        elif "mentioned_list" in section:
            self.counts["markdown_mentions_ignored"] += 1  # WeCom ignores them silently
        now = time.monotonic()
        item = Accepted("webhook/send", key, msgtype, content, now, mentions)
        self.received.append(item)
        window = self._window("robot", key, self.robot_limit, self.robot_window)
        if window.full(now):
            self.counts["rate_limited"] += 1
            return _err(45009, "api freq out of limit")
        window.add(now)
        self.accepted.append(item)
        return _ok()

    async def _aibot_response(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        code = request.query.get("response_code", "")
        if not code or code in self._used_response_codes:
            # One use per code (WeCom's rule); the errcode is the fake's choice.
            return _err(40058, "response_code invalid or used")
        msgtype, content = _content(body)
        if msgtype != "markdown":
            return _err(40008, "invalid message type")
        self._used_response_codes.add(code)
        item = Accepted("aibot/response", code, msgtype, content, time.monotonic())
        self.received.append(item)
        self.accepted.append(item)
        return _ok()

    async def _getuserinfo(self, request: web.Request) -> web.StreamResponse:
        """``auth/getuserinfo``: a code from :meth:`login_code`, usable once (WeCom: 40029
        for an unknown, used or expired code)."""
        self.counts["auth/getuserinfo"] += 1
        refused = self._check_token(request)
        if refused is not None:
            return web.json_response(refused)
        who = self.login_codes.pop(request.query.get("code", ""), None)
        if who is None:
            return web.json_response(_err(40029, "invalid code"))
        if who.startswith("openid:"):
            return web.json_response(_ok(openid=who.removeprefix("openid:")))
        return web.json_response(_ok(userid=who, user_ticket=secrets.token_hex(8)))


def _content(body: dict[str, Any]) -> tuple[str | None, str]:
    """The message's type and what a test reads: the text, or a template card as JSON."""
    msgtype = body.get("msgtype")
    section = body.get(msgtype) if isinstance(msgtype, str) else None
    if not isinstance(section, dict):
        return None, ""
    if msgtype == "template_card" and body.get("agentid") is not None:
        if not _card_ok(section):
            return None, ""
        return msgtype, json.dumps(section, ensure_ascii=False)
    if msgtype not in ("text", "markdown"):
        return None, ""
    return msgtype, str(section.get("content", ""))


def _card_ok(card: dict[str, Any]) -> bool:
    """WeCom's rules for an interactive card: a type, a title, and for button cards a task id
    and 1–6 buttons, each with a key."""
    title = card.get("main_title")
    if not isinstance(title, dict) or not title.get("title"):
        return False
    if card.get("card_type") != "button_interaction":
        return card.get("card_type") in ("text_notice", "news_notice", "vote_interaction")
    buttons = card.get("button_list")
    return (
        bool(card.get("task_id"))
        and isinstance(buttons, list)
        and 1 <= len(buttons) <= 6
        and all(isinstance(b, dict) and b.get("key") and b.get("text") for b in buttons)
    )


def _robot_image(body: dict[str, Any]) -> tuple[str | None, str]:
    """A robot's picture: valid base64 of at most 2 MB whose md5 matches; what a test reads
    is that md5."""
    section = body.get("image")
    if not isinstance(section, dict):
        return None, ""
    try:
        data = base64.b64decode(str(section.get("base64", "")), validate=True)
    except (binascii.Error, ValueError):
        return None, ""
    md5 = hashlib.md5(data).hexdigest()
    if not data or len(data) > 2 * 1024 * 1024 or section.get("md5") != md5:
        return None, ""
    return "image", md5


def _ok(**extra: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", **extra}


def _err(code: int, message: str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": message}
