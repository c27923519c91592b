"""The WeCom sender: one part to one resolved address, and WeCom's answer as an Outcome.

The delivery worker has already split the text, passed the rate gate and leased the delivery;
this module only talks to WeCom and translates ``errcode`` (never ``errmsg``) per
docs/wecom-protocol.md:

=================  =========================================================================
0                  Sent (``invaliduser`` / ``unlicenseduser`` → ``Sent.invalid_recipients``)
-1, 45033          Retry (system busy; too many concurrent calls) — the worker backs off
45009              Throttled (frequency limit; the robot's 20/min): the target cools down
40014, 42001       the token is dead: invalidate it, fetch once, call once more; then Retry
60020 40001 48002  Failed(alert=True): IP not trusted, bad secret, no permission — an
                   operator must fix the configuration; retrying cannot help
81013              Failed: no valid recipient (the userid is named in the error)
93000              Failed(alert=True): the robot's webhook key is no longer valid
other codes        Retry: unknown is not proof of permanent, and attempts are bounded
HTTP 5xx, timeout  Retry
=================  =========================================================================

A timeout is the one ambiguous case: WeCom may have accepted the message. Retrying it is still
right (nothing is lost), and for members ``enable_duplicate_check`` makes WeCom drop the
identical second request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp

from bot.clock import Clock
from bot.config import WeComConfig
from bot.delivery.base import Address, Failed, Outcome, Retry, Sent, Throttled
from bot.delivery.text import part_limit
from bot.wecom.api import (
    TOKEN_ERRCODES,
    Reply,
    WeComApi,
    WeComCallError,
    WeComTransportError,
)
from bot.wecom.tokens import AccessTokens, TokenError
from storage import Database

log = logging.getLogger(__name__)

RETRY_ERRCODES = frozenset({-1, 45033})
THROTTLED_ERRCODES = frozenset({45009})
# Configuration errors: alert and stop. 40013 (bad corp id) and 40091 (bad secret) are what
# gettoken answers for the same mistakes as 40001.
CONFIG_ERRCODES = frozenset({60020, 40001, 48002, 40013, 40091})
NO_RECIPIENT_ERRCODE = 81013
ROBOT_GONE_ERRCODE = 93000  # webhook key invalid: the robot was removed from its group


def outcome_of(reply: Reply, address: Address) -> Outcome:
    """Translate WeCom's answer for ``address`` into the worker's vocabulary (pure)."""
    code = reply.errcode
    what = f"{address.label}: {reply.describe()}"
    if code == 0:
        invalid = _split_ids(reply.body.get("invaliduser")) + _split_ids(
            reply.body.get("unlicenseduser")
        )
        return Sent(invalid_recipients=invalid)
    if code in RETRY_ERRCODES or code in TOKEN_ERRCODES:
        return Retry(what)
    if code in THROTTLED_ERRCODES:
        return Throttled(what)
    if code in CONFIG_ERRCODES:
        return Failed(what, alert=True)
    if code == NO_RECIPIENT_ERRCODE:
        invalid = _split_ids(reply.body.get("invaliduser"))
        if not invalid and address.kind == "member":
            invalid = tuple(address.value.split("|"))
        named = ", ".join(invalid) or "unknown"
        return Failed(f"{what}: no valid recipient (invalid: {named})")
    if code == ROBOT_GONE_ERRCODE and address.kind == "robot":
        return Failed(f"{what}: the robot's webhook key is not valid", alert=True)
    return Retry(what)


class WeComSender:
    """Implements :class:`bot.delivery.base.Sender` against ``[wecom] api_base``."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        config: WeComConfig,
        db: Database,
        clock: Clock,
        *,
        owner: str,
        refresh_margin: timedelta = timedelta(minutes=5),
    ) -> None:
        self.config = config
        self.api = WeComApi(http, config.api_base, timeout=config.request_timeout_seconds)
        self.tokens = AccessTokens(
            self.api,
            db,
            clock,
            app=f"{config.corp_id}:{config.agent_id}",
            corp_id=config.corp_id,
            secret=config.secret,
            owner=owner,
            refresh_margin=refresh_margin,
            # Long enough for one gettoken to time out and the answer to be stored.
            refresh_lease=timedelta(seconds=2 * config.request_timeout_seconds + 5),
        )

    async def send(self, address: Address, message: dict[str, Any]) -> Outcome:
        if message.get("msgtype") == "image":
            return await self._send_image(address, message)
        msgtype = "markdown" if message.get("msgtype") == "markdown" else "text"
        content = str(message.get("content", ""))
        mentions = tuple(str(m) for m in message.get("mentions", ()))
        card = message.get("card") if address.kind == "member" else None
        limit = part_limit(address.kind, msgtype)
        size = len(content.encode("utf-8"))
        if size > limit and card is None and address.kind != "card_update":
            # The worker splits before sending; reaching this is a bug, not a WeCom answer.
            return Failed(f"{address.label}: a part of {size} bytes exceeds the {limit} limit")
        try:
            match address.kind:
                case "member":
                    return await self._with_token(
                        address,
                        lambda token: self.api.send_message(
                            token,
                            agent_id=self.config.agent_id,
                            touser=address.value,
                            msgtype=msgtype,
                            content=content,
                            duplicate_check_seconds=self.config.duplicate_check_seconds,
                            card=card,
                        ),
                    )
                case "card_update":
                    return await self._with_token(
                        address,
                        lambda token: self.api.update_template_card(
                            token,
                            agent_id=self.config.agent_id,
                            userids=[str(u) for u in message.get("userids", ())],
                            response_code=address.value,
                            button_text=content,
                        ),
                    )
                case "appchat":
                    return await self._with_token(
                        address,
                        lambda token: self.api.send_appchat(
                            token, chatid=address.value, msgtype=msgtype, content=content
                        ),
                    )
                case "robot":
                    reply = await self.api.send_robot(
                        address.value, msgtype=msgtype, content=content, mentions=mentions
                    )
                    return outcome_of(reply, address)
                case "response_url":
                    reply = await self.api.send_response(address.value, content=content)
                    return outcome_of(reply, address)
                case "group":
                    # A group with neither an app chat nor a robot: only the sandbox reaches
                    # it. An operator has to attach a channel; retrying cannot help.
                    return Failed(
                        f"{address.label} has no channel (attach an app chat or a robot)",
                        alert=True,
                    )
        except WeComTransportError as exc:
            return Retry(f"{address.label}: {exc}")
        except TokenError as exc:
            if exc.errcode in CONFIG_ERRCODES:
                return Failed(f"{address.label}: {exc}", alert=True)
            return Retry(f"{address.label}: {exc}")
        return Failed(f"{address.label}: unknown address kind {address.kind!r}")

    async def _send_image(self, address: Address, message: dict[str, Any]) -> Outcome:
        """A picture (base64 + md5) reaches a group through its robot only: app chats and
        members would need the file uploaded as temporary media first, which we do not."""
        image = message.get("image")
        if not isinstance(image, dict) or not image.get("base64") or not image.get("md5"):
            return Failed(f"{address.label}: an image message without its image")
        if address.kind != "robot":
            return Failed(f"{address.label}: images are sent to groups through a group robot")
        try:
            reply = await self.api.send_robot_image(
                address.value, base64=str(image["base64"]), md5=str(image["md5"])
            )
        except WeComTransportError as exc:
            return Retry(f"{address.label}: {exc}")
        return outcome_of(reply, address)

    async def create_appchat(
        self, *, name: str, owner: str, userlist: list[str], chatid: str | None = None
    ) -> str:
        """Create an app chat (群聊会话, 2–2000 members) and return its chat id.

        Raises :class:`WeComCallError` with WeCom's errcode (a :class:`TokenError` when no token
        could be had) or :class:`WeComTransportError`.
        """
        reply = await self._call_with_token(
            lambda token: self.api.create_appchat(
                token, name=name, owner=owner, userlist=userlist, chatid=chatid
            )
        )
        found = reply.body.get("chatid")
        if not reply.ok or not isinstance(found, str) or not found:
            raise WeComCallError(reply.describe(), reply.errcode)
        return found

    async def call(self, call: Callable[[str], Awaitable[Reply]]) -> Reply:
        """Any API call with the app's token (customer groups, say); raises like
        :meth:`create_appchat` when no answer or no token could be had."""
        return await self._call_with_token(call)

    async def _with_token(
        self, address: Address, call: Callable[[str], Awaitable[Reply]]
    ) -> Outcome:
        return outcome_of(await self._call_with_token(call), address)

    async def _call_with_token(self, call: Callable[[str], Awaitable[Reply]]) -> Reply:
        """Call with the app's token; on 40014/42001 drop it, fetch once and call once more."""
        token = await self.tokens.get()
        reply = await call(token)
        if reply.errcode in TOKEN_ERRCODES:
            log.info("WeCom refused the access token (%s); fetching a new one", reply.errcode)
            await self.tokens.invalidate(token)
            token = await self.tokens.get()
            reply = await call(token)
        return reply


def _split_ids(value: object) -> tuple[str, ...]:
    if not isinstance(value, str):
        return ()
    return tuple(part for part in value.split("|") if part)
