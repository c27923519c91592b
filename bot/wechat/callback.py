"""The Official Account (公众号) callback: the WeCom callback endpoint with another envelope and
a passive reply.

The request side is :class:`bot.wecom.callback.CallbackEndpoint` (same refusals: 403 for what
is not provably from WeChat or stale, 400 for what is not its XML or carries a DTD, 413 for an
oversized body, nothing stored for any of them), with :class:`OfficialAccountEnvelope` for the
plain / compatible / safe modes.

The answer side: WeChat waits 5 s for the HTTP answer and retries otherwise. The pipeline
queues replies to a 公众号 message in the outbox, held back for ``passive_reply_seconds``; if
the pipeline finished within that time the first reply is *taken* from the outbox (marked sent
in one conditional UPDATE) and given as the passive reply (被动回复) — encrypted when the
request was — so it goes out exactly once: passively, or later by the worker through
``message/custom/send``. A retry of a message whose reply the worker has not taken yet gets it
passively as well.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from aiohttp import web

from bot.appkeys import RUNTIME
from bot.config import Config
from bot.delivery.text import part_limit
from bot.messages import Incoming
from bot.wechat.crypto import OfficialAccountEnvelope
from bot.wechat.inbound import from_mp_xml, reply_fields
from bot.wecom.callback import DEFAULT_MAX_SKEW, CallbackEndpoint, Opened
from bot.wecom.crypto import CallbackCrypto

log = logging.getLogger(__name__)

# What WeChat understands as "no passive reply" (an empty body works too).
NO_REPLY = "success"


def add_wechat_routes(app: web.Application, config: Config) -> None:
    """Register the Official Account's callback when ``[wechat]`` is configured."""
    wechat = config.wechat
    if not wechat.configured:
        return
    crypto = (
        CallbackCrypto(wechat.token, wechat.encoding_aes_key, wechat.app_id)
        if wechat.encoding_aes_key
        else None
    )
    endpoint = CallbackEndpoint(
        name="wechat",
        envelope=OfficialAccountEnvelope(wechat.mode, wechat.token, crypto),
        translate=partial(_translate, app_id=wechat.app_id),
        max_skew=DEFAULT_MAX_SKEW,
        max_body_bytes=config.server.max_body_bytes,
        answer=PassiveReply(crypto, wechat.passive_reply_seconds),
        # A (nonce, timestamp) is accepted while the timestamp is within max_skew either way.
        nonce_window=2 * DEFAULT_MAX_SKEW,
    )
    endpoint.register(app, wechat.callback_path)
    if wechat.mode == "plain":
        log.warning(
            "[wechat] mode = plain: the Official Account's message bodies are NOT authenticated "
            "(its signature covers only timestamp and nonce); set the account to 安全模式 and "
            "mode = safe"
        )


def _translate(plaintext: str, _received_at: datetime, *, app_id: str) -> Incoming:
    return from_mp_xml(plaintext, app_id=app_id)


@dataclass(frozen=True, slots=True)
class PassiveReply:
    """The answer of the Official Account's callback: the first reply, if it is ready in time."""

    crypto: CallbackCrypto | None
    limit_seconds: float

    async def __call__(
        self, request: web.Request, opened: Opened, incoming: Incoming, started: float
    ) -> web.StreamResponse:
        text = await self._take_reply(request, incoming, started)
        if text is None:
            return web.Response(text=NO_REPLY)
        openid, account = reply_fields(opened.plaintext)
        runtime = request.app[RUNTIME]
        created = str(int(runtime.clock.now().timestamp()))
        xml = text_reply_xml(to=openid, sender=account, content=text, create_time=created)
        if opened.encrypted and self.crypto is not None:
            xml = seal_reply(self.crypto, xml, timestamp=created, nonce=opened.nonce)
        return web.Response(text=xml, content_type="application/xml")

    async def _take_reply(
        self, request: web.Request, incoming: Incoming, started: float
    ) -> str | None:
        if incoming.wechat_openid is None or self.limit_seconds <= 0:
            return None
        key = f"reply:{incoming.dedup_key}:0"
        runtime = request.app[RUNTIME]
        async with runtime.db.read() as tx:
            queued = await tx.deliveries.by_key(key)
        if queued is None or queued.channel != "wechat" or queued.target != incoming.wechat_openid:
            return None
        content = str(queued.payload.get("content", ""))
        if len(content.encode("utf-8")) > part_limit("wechat", "text"):
            return None  # too long for one message: the worker splits it
        if asyncio.get_running_loop().time() - started > self.limit_seconds:
            return None  # too late: WeChat may already have given up on this request
        async with runtime.db.transaction() as tx:
            taken = await tx.wechat.claim_passive_reply(key, runtime.clock.now())
        return content if taken is not None else None


def text_reply_xml(*, to: str, sender: str, content: str, create_time: str) -> str:
    """A passive text reply (回复文本消息)."""
    return (
        f"<xml><ToUserName>{_cdata(to)}</ToUserName>"
        f"<FromUserName>{_cdata(sender)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        f"<MsgType>{_cdata('text')}</MsgType>"
        f"<Content>{_cdata(content)}</Content></xml>"
    )


def seal_reply(crypto: CallbackCrypto, xml: str, *, timestamp: str, nonce: str) -> str:
    """The reply in safe/compatible mode: ``Encrypt`` + ``MsgSignature`` + time and nonce."""
    nonce = nonce or secrets.token_hex(8)
    encrypted, signature = crypto.encrypt(xml, nonce, timestamp)
    return (
        f"<xml><Encrypt>{_cdata(encrypted)}</Encrypt>"
        f"<MsgSignature>{_cdata(signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce>{_cdata(nonce)}</Nonce></xml>"
    )


def _cdata(value: str) -> str:
    # A "]]>" inside the text would end the section: split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
