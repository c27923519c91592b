"""How features add themselves to the console: pages, overview panels, templates, logins.

A feature owns a module under ``bot/console/`` with an ``install(console)`` function, listed in
:func:`bot.console.features.install_features` (as ``handlers/__init__.py`` lists routers)::

    def install(console: ConsoleRegistry) -> None:
        console.register_page(
            "reports", "社情民意", get=reports_page, post=review_action, order=20
        )
        console.register_panel("reports", "待审社情民意", load_pending, "panels/reports.html")

- A page handler receives a :class:`bot.console.server.View` (the signed-in account, the runtime,
  the CSRF-checked form, ``render``) and returns a response. The console has already refused
  anyone signed out (redirect to login), anyone whose role the page does not allow (403), and
  any POST without the session's CSRF token (403); the handler still asks the same permission
  questions the chat commands ask, and writes its actions to the audit log.
- A panel loader ``async (tx, now, config) -> dict | None`` runs in a read transaction when the
  overview is shown (``now`` is aware, in the configured zone); its dict is the context of its
  template
  (as ``data``), and None hides the panel (nothing to show). A loader that fails shows as
  "加载失败" without taking the overview down.
- ``add_template_dir`` lets a feature keep its templates beside its module.
- ``register_login`` is the extension point for WeCom web login (网页授权 / 扫码登录): a
  provider adds its own routes (its start URL and the OAuth callback), named
  ``"console.public.<provider>…"`` so that they are reachable signed out, and, once WeCom has
  told it the userid, calls :func:`bot.console.auth.open_session_for` and
  :func:`bot.console.server.begin_session` for the console account linked to that member
  (``console_users.member_id``); the login page shows its button.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.labels import OFFICE_ROLES
from storage import Tx

if TYPE_CHECKING:
    from bot.config import Config
    from bot.console.server import View


PageHandler = Callable[["View"], Awaitable[web.StreamResponse]]
PanelLoader = Callable[[Tx, datetime, "Config"], Awaitable[Mapping[str, Any] | None]]
PublicRoutes = Callable[[web.Application], None]


@dataclass(frozen=True, slots=True)
class Page:
    """A page at ``/console/<path>``; ``nav`` pages appear in the menu, in ``order``."""

    path: str
    title: str
    get: PageHandler | None
    post: PageHandler | None
    roles: frozenset[str]
    nav: bool
    order: int

    @property
    def name(self) -> str:
        return "console.page." + (self.path.replace("/", "_").replace("-", "_") or "index")


@dataclass(frozen=True, slots=True)
class Panel:
    """An overview panel (概览面板)."""

    name: str
    title: str
    load: PanelLoader
    template: str
    roles: frozenset[str]
    order: int


@dataclass(frozen=True, slots=True)
class LoginProvider:
    """Another way to sign in (WeCom web login): a button on the login page."""

    name: str
    label: str  # e.g. "企业微信扫码登录"
    start_path: str  # a public route the provider added, e.g. "/console/login/wecom"
    add_routes: PublicRoutes
    # Whether this configuration offers it (WeCom login needs [wecom]); off: no routes, no button.
    enabled: Callable[[Config], bool] = lambda _: True


@dataclass
class ConsoleRegistry:
    pages: list[Page] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    template_dirs: list[Path] = field(default_factory=list)
    logins: list[LoginProvider] = field(default_factory=list)

    def register_page(
        self,
        path: str,
        title: str,
        *,
        get: PageHandler | None = None,
        post: PageHandler | None = None,
        roles: frozenset[str] = OFFICE_ROLES,
        nav: bool = True,
        order: int = 100,
    ) -> Page:
        """Serve ``/console/<path>`` (GET and/or POST) to the signed-in ``roles``."""
        path = path.strip("/")
        if any(page.path == path for page in self.pages):
            raise ValueError(f"console page {path!r} registered twice")
        if not roles <= OFFICE_ROLES:
            raise ValueError("console pages are for secretaries and admins only")
        page = Page(path, title, get, post, roles, nav, order)
        self.pages.append(page)
        return page

    def register_panel(
        self,
        name: str,
        title: str,
        load: PanelLoader,
        template: str,
        *,
        roles: frozenset[str] = OFFICE_ROLES,
        order: int = 100,
    ) -> Panel:
        if any(panel.name == name for panel in self.panels):
            raise ValueError(f"console panel {name!r} registered twice")
        panel = Panel(name, title, load, template, roles, order)
        self.panels.append(panel)
        return panel

    def add_template_dir(self, directory: Path) -> None:
        self.template_dirs.append(directory)

    def register_login(self, provider: LoginProvider) -> None:
        self.logins.append(provider)

    def nav(self, role: str) -> list[Page]:
        return sorted(
            (p for p in self.pages if p.nav and p.get is not None and role in p.roles),
            key=lambda p: (p.order, p.path),
        )

    def logins_for(self, config: Config) -> list[LoginProvider]:
        return [provider for provider in self.logins if provider.enabled(config)]

    def panels_for(self, role: str) -> list[Panel]:
        return sorted((p for p in self.panels if role in p.roles), key=lambda p: (p.order, p.name))
