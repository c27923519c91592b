"""The Official Account sender: custom messages inside the 48-hour window, templates outside.

The route was chosen by the worker (:mod:`bot.delivery.routing`) from the follower's window:
``wechat`` → ``message/custom/send`` (客服消息, full text in parts of 2048 bytes);
``wechat_template`` → the configured template (模板消息 / 订阅通知: a title and the first
words of the text, each value cut to ``template_value_chars``, since WeChat refuses longer
``thing`` values).

=================  =========================================================================
0                  Sent (a custom message counts against the window's quota)
-1                 Retry (system busy)
45009              Throttled (frequency limit)
40001 40014 42001  the token is dead (40001 is also WeChat's answer for an invalid token):
                   invalidate it, fetch once, call once more; then Retry
45015 45047        the window is closed or its quota used up (our count was wrong): noted on
                   the follower, Retry — the next attempt is routed to the template
43004              the follower unfollowed: noted, Failed
40003 43101        not a follower of this account / refused this template: Failed
40164 48001 40037  IP not whitelisted, API not authorised, bad template id: Failed, alert
40013 40125        bad appid / secret (from ``token``): Failed, alert
other codes        Retry (attempts are bounded)
=================  =========================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp

from bot.clock import Clock
from bot.config import WeChatConfig
from bot.delivery.base import Address, Failed, Outcome, Retry, Sender, Sent, Throttled
from bot.wechat.api import OfficialAccountApi
from bot.wecom.api import Reply, WeComTransportError
from bot.wecom.tokens import AccessTokens, TokenError
from storage import Database

log = logging.getLogger(__name__)

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
WINDOW_CLOSED = frozenset({45015, 45047})
UNFOLLOWED = 43004
REFUSED = frozenset({40003, 43101})
CONFIG_ERRCODES = frozenset({40164, 48001, 40037, 40013, 40125})


def mp_outcome_of(reply: Reply, address: Address) -> Outcome:
    """Translate the Official Account's answer (pure)."""
    code = reply.errcode
    what = f"{address.label}: {reply.describe()}"
    if code == 0:
        return Sent()
    if code == 45009:
        return Throttled(what)
    if code in CONFIG_ERRCODES:
        return Failed(what, alert=True)
    if code == UNFOLLOWED:
        return Failed(f"{what}: 对方已取消关注公众号")
    if code in REFUSED:
        return Failed(f"{what}: 对方不是本公众号的关注者，或已拒收该模板消息")
    if code in WINDOW_CLOSED:
        return Retry(f"{what}: 客服消息窗口已关闭，下次改发模板消息")
    return Retry(what)


def template_values(config: WeChatConfig, text: str) -> dict[str, str]:
    """The template's two values: a title and the message's first words, each cut short."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    limit = config.template_value_chars
    content = first_line if len(first_line) <= limit else first_line[: limit - 1] + "…"
    return {
        config.template_title_key: "履职助手提醒"[:limit],
        config.template_content_key: content,
    }


class WeChatSender:
    """Implements :class:`bot.delivery.base.Sender` for the ``wechat*`` address kinds."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        config: WeChatConfig,
        db: Database,
        clock: Clock,
        *,
        owner: str,
        timeout: float,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.api = OfficialAccountApi(http, config.api_base, timeout=timeout)
        self.tokens = AccessTokens(
            self.api,
            db,
            clock,
            app=f"mp:{config.app_id}",
            corp_id=config.app_id,
            secret=config.app_secret,
            owner=owner,
            refresh_lease=timedelta(seconds=2 * timeout + 5),
        )

    async def send(self, address: Address, message: dict[str, Any]) -> Outcome:
        content = str(message.get("content", ""))
        try:
            if address.kind == "wechat":
                return await self._custom(address, content)
            if address.kind == "wechat_template":
                reply = await self._with_token(
                    lambda token: self.api.send_template(
                        token,
                        api=self.config.template_api,
                        openid=address.value,
                        template_id=self.config.template_id,
                        data=template_values(self.config, content),
                        url=self.config.template_url,
                    )
                )
                return await self._noted(address, reply)
        except WeComTransportError as exc:
            return Retry(f"{address.label}: {exc}")
        except TokenError as exc:
            if exc.errcode in CONFIG_ERRCODES or exc.errcode == 40001:
                return Failed(f"{address.label}: {exc}", alert=True)
            return Retry(f"{address.label}: {exc}")
        return Failed(f"{address.label}: not a 公众号 address ({address.kind})")

    async def _custom(self, address: Address, content: str) -> Outcome:
        reply = await self._with_token(
            lambda token: self.api.send_custom(token, openid=address.value, content=content)
        )
        return await self._noted(address, reply)

    async def _noted(self, address: Address, reply: Reply) -> Outcome:
        """The outcome, after noting on the follower what WeChat told us about them."""
        outcome = mp_outcome_of(reply, address)
        app, openid, now = self.config.app_id, address.value, self.clock.now()
        async with self.db.transaction() as tx:
            if reply.ok and address.kind == "wechat":
                await tx.wechat.note_custom_sent(app, openid)
            elif reply.errcode in WINDOW_CLOSED:
                await tx.wechat.note_window_closed(app, openid, now)
            elif reply.errcode == UNFOLLOWED:
                await tx.wechat.note_unsubscribed(app, openid)
        return outcome

    async def _with_token(self, call: Callable[[str], Awaitable[Reply]]) -> Reply:
        token = await self.tokens.get()
        reply = await call(token)
        if reply.errcode in TOKEN_ERRCODES:
            log.info("WeChat refused the access token (%s); fetching a new one", reply.errcode)
            await self.tokens.invalidate(token)
            token = await self.tokens.get()
            reply = await call(token)
        return reply


class ChannelSender:
    """One sender for the worker: ``wechat*`` addresses to the Official Account, the rest to
    WeCom (or the sandbox)."""

    def __init__(self, wechat: Sender, other: Sender) -> None:
        self.wechat = wechat
        self.other = other

    async def send(self, address: Address, message: dict[str, Any]) -> Outcome:
        target = self.wechat if address.kind.startswith("wechat") else self.other
        return await target.send(address, message)
