"""企业微信登录: sign in to the console with WeCom (扫码登录 in a browser, 网页授权 inside the
WeCom client) where ``[wecom]`` is configured and ``[console] wecom_login`` is on.

1. ``/console/login/wecom`` sends the browser to WeCom: inside the WeCom client (its
   User-Agent says ``wxwork``) to the OAuth page, which signs the member in silently
   (``scope=snsapi_base``); anywhere else to the QR login page. It carries a fresh random
   ``state``, also kept in a short-lived cookie of this browser.
2. WeCom sends the browser back to ``/console/login/wecom/callback?code=…&state=…``. The
   ``state`` must equal the cookie's (compared in constant time; otherwise refused: a login
   someone else started — login CSRF — or a replayed link), then ``code`` goes to
   ``auth/getuserinfo`` through the app's access token, against ``[wecom] api_base``.
3. The userid must be an active roster member whose role is 秘书 or 管理员: members (委员) are
   refused exactly as a member's password account is. Their console account is the one linked
   to them (``console_users.member_id``), created on first use as ``wx:{userid}`` with no
   usable password, so the roster role keeps capping it (:mod:`bot.console.auth`).

The state cookie is ``SameSite=Lax``: the way back from WeCom is a cross-site navigation, on
which a Strict cookie would not be sent. For the same reason the session cookie (Strict) is
set on a small page that then moves on by itself (same-site), not on a redirect, which the
browser would still count as part of the cross-site navigation.

Failures (a wrong state, a code WeCom refuses, someone not allowed) count towards the client
address's lockout like failed passwords, and are audited.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from bot.appkeys import RUNTIME
from bot.config import Config
from bot.console import auth
from bot.console.registry import ConsoleRegistry, LoginProvider
from bot.console.security import CookiePolicy, same_token
from bot.console.server import (
    CONSOLE_CONFIG,
    PREFIX,
    PUBLIC,
    TEMPLATES,
    login_form,
    remote_ip,
    render,
    safe_next,
)
from bot.labels import OFFICE_ROLES
from bot.runtime import Runtime
from bot.wecom.api import TOKEN_ERRCODES, WeComTransportError
from bot.wecom.tokens import TokenError
from storage.models_console import ConsoleUser

log = logging.getLogger(__name__)

START_PATH = f"{PREFIX}/login/wecom"
CALLBACK_PATH = f"{PREFIX}/login/wecom/callback"
# WeCom's pages (developer.work.weixin.qq.com/document/path/98151 and 91022).
QR_LOGIN_URL = "https://login.work.weixin.qq.com/wwlogin/sso/login"
OAUTH_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
STATE_MAX_AGE = 600  # seconds: WeCom's code itself lives five minutes
MAX_CODE = 512  # WeCom: a code is at most 512 bytes
ACCOUNT_PREFIX = "wx:"


class LoginRefused(Exception):
    """Why this WeCom login gets no session: the Chinese message and the HTTP status."""

    def __init__(self, message: str, status: int, reason: str) -> None:
        super().__init__(message)
        self.message, self.status, self.reason = message, status, reason


def enabled(config: Config) -> bool:
    return config.console.wecom_login and config.wecom.configured


# -- step 1: to WeCom ---------------------------------------------------------------------------


def state_cookie_name(policy: CookiePolicy) -> str:
    return "__Host-lvzhi_wecom" if policy.secure else "lvzhi_wecom"


def callback_url(request: web.Request, config: Config) -> str:
    origin = config.console.public_url.rstrip("/") or f"{request.scheme}://{request.host}"
    return origin + CALLBACK_PATH


def authorize_url(config: Config, *, redirect_uri: str, state: str, in_wecom: bool) -> str:
    """WeCom's login page for this app, coming back to ``redirect_uri`` with ``state``."""
    wecom = config.wecom
    if in_wecom:
        query = {
            "appid": wecom.corp_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
            "agentid": str(wecom.agent_id),
        }
        return f"{OAUTH_URL}?{urlencode(query)}#wechat_redirect"
    query = {
        "login_type": "CorpApp",
        "appid": wecom.corp_id,
        "agentid": str(wecom.agent_id),
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{QR_LOGIN_URL}?{urlencode(query)}"


async def start(request: web.Request) -> web.StreamResponse:
    config = request.config_dict[CONSOLE_CONFIG]
    policy = CookiePolicy.of(config.console)
    state = secrets.token_hex(16)  # WeCom allows only [a-zA-Z0-9] in state
    next_path = safe_next(request.query.get("next"))
    in_wecom = "wxwork" in request.headers.get("User-Agent", "").lower()
    target = authorize_url(
        config, redirect_uri=callback_url(request, config), state=state, in_wecom=in_wecom
    )
    response = web.Response(status=303, headers={"Location": target})
    encoded = base64.urlsafe_b64encode(next_path.encode("utf-8")).decode("ascii")
    response.set_cookie(
        state_cookie_name(policy),
        f"{state}.{encoded}",
        max_age=STATE_MAX_AGE,
        path=policy.path,
        secure=policy.secure,
        httponly=True,
        samesite="Lax",
    )
    return response


# -- step 2 and 3: back from WeCom --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pending:
    """What the state cookie kept."""

    state: str
    next_path: str


def read_state_cookie(value: str | None) -> Pending | None:
    if not value or "." not in value or len(value) > 2048:
        return None
    state, _, encoded = value.partition(".")
    try:
        next_path = base64.urlsafe_b64decode(encoded.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        return None
    return Pending(state, safe_next(next_path))


async def callback(request: web.Request) -> web.StreamResponse:
    config = request.config_dict[CONSOLE_CONFIG]
    runtime = request.config_dict[RUNTIME]
    policy = CookiePolicy.of(config.console)
    pending = read_state_cookie(request.cookies.get(state_cookie_name(policy)))
    ip, now = remote_ip(request), runtime.real_now()
    try:
        if pending is None or not same_token(request.query.get("state"), pending.state):
            raise LoginRefused(
                "企业微信登录请求已失效或来源不明（state 校验失败），请重新登录。", 403, "state"
            )
        code = request.query.get("code", "")
        if not code:  # the member declined on WeCom's page
            raise LoginRefused("已取消企业微信登录。", 401, "declined")
        token = await sign_in(runtime, config, code=code[:MAX_CODE], ip=ip, now=now)
    except LoginRefused as refused:
        await _record_failure(runtime, refused.reason, ip, now)
        response = _refusal(request, refused)
        policy.clear(response, state_cookie_name(policy))
        return response
    response = _signed_in_page(request, pending.next_path)
    policy.set(response, policy.session_name, token, policy.max_age)
    policy.clear(response, policy.login_csrf_name)
    policy.clear(response, state_cookie_name(policy))
    return response


async def sign_in(runtime: Runtime, config: Config, *, code: str, ip: str, now: datetime) -> str:
    """The session token for the roster secretary or admin WeCom names by ``code``."""
    async with runtime.db.read() as tx:
        if await auth.locked_until(tx, config.console, username="", ip=ip, now=now):
            raise LoginRefused(auth.LOGIN_MESSAGES[auth.LoginOutcome.LOCKED], 429, "locked")
    userid = await userid_of(runtime, code)
    user_id = await account_for(runtime, userid, now)
    opened = await auth.open_session_for(
        runtime.db, user_id, config.console, ip=ip, now=now, method="wecom"
    )
    if opened is None:
        raise LoginRefused(auth.LOGIN_MESSAGES[auth.LoginOutcome.NO_ACCESS], 403, "no_access")
    return opened[0]


async def userid_of(runtime: Runtime, code: str) -> str:
    """``auth/getuserinfo`` with the app's token (fetched again once if WeCom dropped it)."""
    sender = runtime.wecom
    if sender is None:
        raise LoginRefused("企业微信登录暂不可用（未连接企业微信）。", 503, "unavailable")
    try:
        token = await sender.tokens.get()
        reply = await sender.api.get_user_info(token, code)
        if reply.errcode in TOKEN_ERRCODES:
            await sender.tokens.invalidate(token)
            reply = await sender.api.get_user_info(await sender.tokens.get(), code)
    except (WeComTransportError, TokenError) as exc:
        log.warning("WeCom web login: %s", exc)
        raise LoginRefused(
            "暂时无法连接企业微信，请稍后再试或使用账号密码登录。", 502, "wecom_unreachable"
        ) from None
    if not reply.ok:
        log.info("WeCom web login refused: %s", reply.describe())
        raise LoginRefused("企业微信登录失败（授权已过期或无效），请重新扫码。", 401, "bad_code")
    userid = reply.body.get("userid") or reply.body.get("UserId")
    if not isinstance(userid, str) or not userid:
        message = "该微信账号不是本单位企业微信成员，无法登录管理后台。"
        raise LoginRefused(message, 403, "not_member")
    return userid


async def account_for(runtime: Runtime, userid: str, now: datetime) -> int:
    """The console account of the roster member ``userid`` (created on first WeCom login);
    refused unless the member is active and a secretary or admin in the roster."""
    async with runtime.db.transaction() as tx:
        member = await tx.members.by_userid(userid)
        if member is None or not member.active or member.role not in OFFICE_ROLES:
            raise LoginRefused(auth.LOGIN_MESSAGES[auth.LoginOutcome.NO_ACCESS], 403, "no_access")
        user = await tx.console.user_by_member(member.id)
        if user is not None:
            return user.id
        # The account belongs to the member (member_id), not to the userid: a userid reused
        # after its owner moved to another one names a new account, never the old one.
        username = auth.normalise_username(ACCOUNT_PREFIX + userid)
        if await tx.console.user_by_name(username) is not None:
            username = auth.normalise_username(f"{ACCOUNT_PREFIX}{userid}#{member.id}")
            if await tx.console.user_by_name(username) is not None:
                raise LoginRefused("账号冲突，请联系管理员。", 409, "username_taken")
        user = await tx.console.add_user(
            ConsoleUser(
                username=username,
                password_hash="!wecom-login-only",  # not an argon2 hash: no password opens it
                role=member.role,
                member_id=member.id,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        await tx.audit.record(
            at=now,
            actor="console:wecom-login",
            action="console.user_add",
            entity="console_user",
            entity_id=user.id,
            detail={"username": username, "role": member.role, "member": userid},
        )
        return user.id


async def _record_failure(runtime: Runtime, reason: str, ip: str, now: datetime) -> None:
    """Count it for the address (the name key is unique, so no account is locked by it)."""
    key = "?wecom-" + hashlib.sha256(secrets.token_bytes(16)).hexdigest()[:16]
    async with runtime.db.transaction() as tx:
        if reason != "locked":
            await tx.console.record_failure(username=key, ip=ip, now=now)
        await tx.audit.record(
            at=now,
            actor="console:-",
            action="console.login_failed",
            entity="console_user",
            detail={"ip": ip, "method": "wecom", "reason": reason},
        )


def _refusal(request: web.Request, refused: LoginRefused) -> web.Response:
    """The login page with the reason (a refused state gets a plain error page: that request
    did not come from this browser's own login)."""
    if refused.reason != "state":
        return login_form(request, error=refused.message, status=refused.status)
    return render(
        request.config_dict[TEMPLATES],
        "error.html",
        status=refused.status,
        title="无法登录",
        message=refused.message,
        user=None,
        nav=[],
        csrf_token="",
        sandbox=False,
        current="",
    )


def _signed_in_page(request: web.Request, next_path: str) -> web.Response:
    return render(
        request.config_dict[TEMPLATES],
        "login_done.html",
        next=next_path,
        user=None,
        nav=[],
        csrf_token="",
        sandbox=False,
        current="",
    )


def add_routes(console: web.Application) -> None:
    console.router.add_get("/login/wecom", start, name=PUBLIC + "wecom_login")
    console.router.add_get("/login/wecom/callback", callback, name=PUBLIC + "wecom_callback")


def install(registry: ConsoleRegistry) -> None:
    registry.register_login(
        LoginProvider(
            name="wecom",
            label="企业微信登录（扫码）",
            start_path=START_PATH,
            add_routes=add_routes,
            enabled=enabled,
        )
    )
