"""The console's HTTP edge: a sub-application under ``/console/`` with its middlewares.

Every request passes, in order:

1. ``headers``: security headers on every answer (a strict Content-Security-Policy: scripts
   and styles only from ``/console/static/``, no framing, no caching of pages).
2. ``authenticate``: the session cookie must name a live session of an account that still has
   console access; otherwise a GET is redirected to the login page and anything else gets 303
   to it as well (public routes: the login page and the static files).
3. ``check_csrf``: every POST must carry the session's CSRF token (form field ``csrf_token``,
   compared in constant time) or is refused with 403 before any handler runs. For a file
   upload (multipart) the token must be the first field, so it is checked before the file is
   read; the handler continues with the same reader (:attr:`View.multipart`).

Handlers are thin: they receive a :class:`View` and call storage and the runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import BodyPartReader, MultipartReader, web
from multidict import MultiDictProxy
from yarl import URL

from bot.appkeys import RUNTIME
from bot.config import Config
from bot.console import auth
from bot.console.registry import ConsoleRegistry, Page
from bot.console.security import CookiePolicy, Passwords, client_ip, new_token, same_token
from bot.labels import ROLE_LABELS
from bot.runtime import Runtime
from storage import Tx

log = logging.getLogger(__name__)

PREFIX = "/console"
HERE = Path(__file__).parent
# Routes named "console.public.…" are reachable signed out (login providers name theirs so).
PUBLIC = "console.public."
LOGIN_ROUTE = PUBLIC + "login"
STATIC_ROUTE = PUBLIC + "static"
CSRF_FIELD = "csrf_token"

CONSOLE_CONFIG = web.AppKey("console_config", Config)
REGISTRY = web.AppKey("console_registry", ConsoleRegistry)
TEMPLATES = web.AppKey("console_templates", jinja2.Environment)
PASSWORDS = web.AppKey("console_passwords", Passwords)
SIGNED = web.RequestKey("console_signed", auth.Signed)
FORM = web.RequestKey("console_form", MultiDictProxy[Any])
MULTIPART = web.RequestKey("console_multipart", MultipartReader)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class View:
    """What a page handler works with."""

    request: web.Request
    identity: auth.Identity
    runtime: Runtime
    config: Config
    registry: ConsoleRegistry
    templates: jinja2.Environment = field(repr=False)
    csrf_token: str = field(repr=False)
    form: MultiDictProxy[Any] | None = field(default=None, repr=False)
    multipart: MultipartReader | None = None

    @property
    def now(self) -> datetime:
        """Now, aware, in the configured zone (as handlers' ``ctx.now``)."""
        return self.runtime.clock.now().astimezone(self.config.time.zone)

    @property
    def ip(self) -> str:
        return remote_ip(self.request)

    def render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        return render(self.templates, template, status=status, view=self, **context)

    async def audit(
        self,
        tx: Tx,
        action: str,
        *,
        entity: str,
        entity_id: str | int = "",
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Write this account's action to the audit log (操作记录), in ``tx``."""
        await tx.audit.record(
            at=self.runtime.real_now(),
            actor=self.identity.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail={**(detail or {}), "ip": self.ip},
        )


def render(
    templates: jinja2.Environment,
    template: str,
    *,
    status: int = 200,
    view: View | None = None,
    **context: Any,
) -> web.Response:
    if view is not None:
        context.setdefault("user", view.identity)
        context.setdefault("csrf_token", view.csrf_token)
        context.setdefault("nav", view.registry.nav(view.identity.role))
        context.setdefault("sandbox", view.runtime.sandbox is not None)
        context.setdefault("current", view.request.path)
    html = templates.get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def build_templates(registry: ConsoleRegistry, zone: ZoneInfo) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader([str(HERE / "templates"), *map(str, registry.template_dirs)])]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,  # every template is HTML: escape everything not marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value is not None else "—"

    env.filters["local"] = local
    env.globals["role_label"] = lambda role: ROLE_LABELS.get(role, role)
    env.globals["prefix"] = PREFIX
    return env


# -- middlewares --------------------------------------------------------------------------------


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(request, exc)
        raise
    _secure(request, response)
    return response


def _secure(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if _route_name(request) != STATIC_ROUTE:
        response.headers["Cache-Control"] = "no-store"


def _route_name(request: web.Request) -> str:
    return request.match_info.route.name or ""


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _route_name(request).startswith(PUBLIC):
        return await handler(request)
    config = request.config_dict[CONSOLE_CONFIG]
    runtime = request.config_dict[RUNTIME]
    policy = CookiePolicy.of(config.console)
    token = request.cookies.get(policy.session_name, "")
    now = runtime.real_now()
    signed = await auth.session_of(runtime.db, token, now) if token else None
    if signed is None:
        target = URL(f"{PREFIX}/login")
        if request.method == "GET" and request.path.startswith(PREFIX + "/"):
            target = target.with_query(next=request.path_qs)
        response = web.HTTPSeeOther(target)
        if token:  # an expired or revoked session: drop the stale cookie
            policy.clear(response, policy.session_name)
        raise response
    request[SIGNED] = signed
    return await handler(request)


@web.middleware
async def check_csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in ("GET", "HEAD", "OPTIONS") or _route_name(request) == LOGIN_ROUTE:
        return await handler(request)  # the login form checks its own double-submit token
    signed = request[SIGNED]
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        first = await reader.next()
        given = None
        if isinstance(first, BodyPartReader) and first.name == CSRF_FIELD:
            given = (await first.read_chunk(256)).decode("utf-8", "replace")
        if not same_token(given, signed.csrf_token):
            raise forbidden(request, "表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试。")
        request[MULTIPART] = reader
    else:
        form = await request.post()
        given_value = form.get(CSRF_FIELD)
        if not isinstance(given_value, str) or not same_token(given_value, signed.csrf_token):
            raise forbidden(request, "表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试。")
        request[FORM] = form
    return await handler(request)


def forbidden(request: web.Request, message: str) -> web.HTTPForbidden:
    templates = request.config_dict[TEMPLATES]
    html = templates.get_template("error.html").render(
        title="无法完成",
        message=message,
        user=None,
        nav=[],
        csrf_token="",
        sandbox=False,
        current="",
    )
    return web.HTTPForbidden(text=html, content_type="text/html")


# -- pages --------------------------------------------------------------------------------------


def view_of(request: web.Request) -> View:
    signed = request[SIGNED]
    return View(
        request=request,
        identity=signed.identity,
        runtime=request.config_dict[RUNTIME],
        config=request.config_dict[CONSOLE_CONFIG],
        registry=request.config_dict[REGISTRY],
        csrf_token=signed.csrf_token,
        form=request.get(FORM),
        multipart=request.get(MULTIPART),
        templates=request.config_dict[TEMPLATES],
    )


def page_route(page: Page, method: str) -> Handler:
    handler = page.get if method == "GET" else page.post
    assert handler is not None

    async def route(request: web.Request) -> web.StreamResponse:
        view = view_of(request)
        if view.identity.role not in page.roles:
            raise forbidden(request, "您的账号无权访问此页面。")
        return await handler(view)

    return route


def safe_next(raw: str | None) -> str:
    """Where to go after login: only a path inside the console (no open redirect), and always
    a value a ``Location`` header can carry: a control character (CR/LF: header injection,
    and aiohttp refuses to send it) gives the default, anything else non-ASCII is
    percent-encoded."""
    if not raw or "\\" in raw or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        return f"{PREFIX}/"
    raw = quote(raw, safe="/?&=%:#+@!$'()*,;~-._[]")
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not raw.startswith(PREFIX + "/") or "\\" in raw:
        return f"{PREFIX}/"
    return raw


async def login_page(request: web.Request) -> web.StreamResponse:
    if request.method == "POST":
        return await login_submit(request)
    return login_form(request, error=None, status=200)


def login_form(
    request: web.Request, *, error: str | None, status: int, username: str = ""
) -> web.Response:
    config = request.config_dict[CONSOLE_CONFIG]
    policy = CookiePolicy.of(config.console)
    token = new_token()
    response = render(
        request.config_dict[TEMPLATES],
        "login.html",
        status=status,
        login_csrf=token,
        error=error,
        username=username,
        next=safe_next(request.query.get("next")),
        providers=request.config_dict[REGISTRY].logins_for(config),
        user=None,
        nav=[],
        csrf_token="",
        sandbox=False,
        current="",
    )
    policy.set(response, policy.login_csrf_name, token, 3600)
    return response


async def login_submit(request: web.Request) -> web.StreamResponse:
    config = request.config_dict[CONSOLE_CONFIG]
    runtime = request.config_dict[RUNTIME]
    policy = CookiePolicy.of(config.console)
    form = await request.post()
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not same_token(
        given, request.cookies.get(policy.login_csrf_name)
    ):
        raise forbidden(request, "登录表单已失效（CSRF 校验失败），请刷新页面后重新登录。")
    username, password = form.get("username"), form.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return login_form(request, error="请输入用户名和密码。", status=400)
    result = await auth.log_in(
        runtime.db,
        request.config_dict[PASSWORDS],
        config.console,
        username=username,
        password=password[:1024],
        ip=remote_ip(request),
        now=runtime.real_now(),
    )
    if result.outcome is not auth.LoginOutcome.OK or result.token is None:
        status = {auth.LoginOutcome.LOCKED: 429, auth.LoginOutcome.NO_ACCESS: 403}.get(
            result.outcome, 401
        )
        message = auth.LOGIN_MESSAGES[result.outcome]
        return login_form(request, error=message, status=status, username=username.strip()[:64])
    old = request.cookies.get(policy.session_name)
    if old:  # never keep a session id chosen before the login (session fixation)
        previous = await auth.session_of(runtime.db, old, runtime.real_now())
        if previous is not None:
            await auth.log_out(runtime.db, previous, ip=remote_ip(request), now=runtime.real_now())
    return begin_session(request, result.token, form.get("next"))


def remote_ip(request: web.Request) -> str:
    """The client's address, believing X-Forwarded-For only from ``[console] trusted_proxies``."""
    return client_ip(request, request.config_dict[CONSOLE_CONFIG].console.trusted_proxies)


def begin_session(request: web.Request, token: str, next_path: object = None) -> web.Response:
    """Set the session cookie and go on; login providers call this after ``open_session_for``."""
    policy = CookiePolicy.of(request.config_dict[CONSOLE_CONFIG].console)
    response = see_other(safe_next(next_path if isinstance(next_path, str) else None))
    policy.set(response, policy.session_name, token, policy.max_age)
    policy.clear(response, policy.login_csrf_name)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    runtime = request.config_dict[RUNTIME]
    policy = CookiePolicy.of(request.config_dict[CONSOLE_CONFIG].console)
    await auth.log_out(runtime.db, request[SIGNED], ip=remote_ip(request), now=runtime.real_now())
    response = see_other(f"{PREFIX}/login")
    policy.clear(response, policy.session_name)
    return response


def build_console_app(config: Config, registry: ConsoleRegistry) -> web.Application:
    console = web.Application(middlewares=[headers, authenticate, check_csrf])
    console[CONSOLE_CONFIG] = config
    console[REGISTRY] = registry
    console[TEMPLATES] = build_templates(registry, config.time.zone)
    console[PASSWORDS] = Passwords()
    console.router.add_route("*", "/login", login_page, name=LOGIN_ROUTE)
    console.router.add_post("/logout", logout, name="console.logout")
    console.router.add_static("/static", HERE / "static", name=STATIC_ROUTE)
    for page in registry.pages:
        resource = console.router.add_resource("/" + page.path, name=page.name)
        if page.get is not None:
            resource.add_route("GET", page_route(page, "GET"))
        if page.post is not None:
            resource.add_route("POST", page_route(page, "POST"))
    for provider in registry.logins_for(config):
        provider.add_routes(console)
    return console
