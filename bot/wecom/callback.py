"""The WeCom callbacks over HTTP: the self-built app (XML) and the AI bot (JSON).

Two translation steps around the pipeline (slack-bolt's adapter shape): request → verified,
decrypted :class:`~bot.messages.Incoming`; the pipeline's result → an empty 200. Replies never
go back in the HTTP answer (no passive reply): the pipeline queues them in the outbox and the
delivery worker sends them, so this path does no network I/O and answers well inside WeCom's
5 s (it retries after that, and on any non-200).

:class:`CallbackEndpoint` is generic: an :class:`Envelope` says how a request proves where it
comes from and hides its payload (WeCom's ``msg_signature`` over the ciphertext here; the
Official Account's plain/compatible/safe modes in :mod:`bot.wechat.callback`), and an
:data:`Answer` turns the handled message into the HTTP answer (empty here; a passive reply for
the Official Account).

Answers:

- 200, empty: accepted (or a retry of a message already recorded — the pipeline knows);
- 403: unsigned, wrongly signed, stale, or undecryptable (wrong key or corp id);
- 400: not the XML/JSON WeCom sends, or XML with a DOCTYPE/ENTITY declaration;
- 413: a body over ``[server] max_body_bytes`` (aiohttp's ``client_max_size``);
- 500: only when the message could not be stored, so that WeCom sends it again.

No refusal stores anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from aiohttp import web

from bot.appkeys import RUNTIME
from bot.config import Config
from bot.messages import Incoming
from bot.wecom.crypto import (
    CallbackCrypto,
    CallbackRejected,
    Forbidden,
    InvalidSignature,
    MalformedXml,
    check_freshness,
    parse_xml,
)
from bot.wecom.inbound import from_aibot_json, from_app_xml

log = logging.getLogger(__name__)

# How far a callback's signed timestamp may be from our clock. WeCom retries within about
# 20 s, so minutes would do for honest traffic; three hours leaves room for a drifting clock
# while staying far below how long inbound rows are kept (retries and replays inside the window
# are deduplicated anyway). It also stays below 8 h, so a server clock set to Beijing time but
# read as UTC — the classic mistake here — shows up at once as "stale" in the log.
DEFAULT_MAX_SKEW = timedelta(hours=3)

Translate = Callable[[str, datetime], Incoming | None]
OpenEnvelope = Callable[[bytes], str]


@dataclass(frozen=True, slots=True)
class Opened:
    """A verified (and decrypted) callback: what the answer may need to seal a reply."""

    plaintext: str
    timestamp: str
    nonce: str
    encrypted: bool = True


class Envelope(Protocol):
    """How one callback URL proves a request came from WeCom/WeChat and hides its payload."""

    def url_check(self, query: Mapping[str, str]) -> tuple[str, str]:
        """(the URL check's answer, its signed timestamp); raises CallbackRejected."""
        ...

    def open(self, query: Mapping[str, str], body: bytes) -> Opened:
        """The verified payload; raises CallbackRejected."""
        ...


# The HTTP answer to a handled message: (request, opened, incoming, started) → response, where
# ``started`` is the event loop's time when the request came in.
Answer = Callable[[web.Request, Opened, Incoming, float], Awaitable[web.StreamResponse]]


async def empty_answer(
    _request: web.Request, _opened: Opened, _incoming: Incoming, _started: float
) -> web.StreamResponse:
    """WeCom's: an empty 200 (replies go through the outbox)."""
    return web.Response()


@dataclass(frozen=True, slots=True)
class EncryptedEnvelope:
    """WeCom's envelope: ``msg_signature`` over the ciphertext, AES inside."""

    crypto: CallbackCrypto
    open_body: OpenEnvelope

    def url_check(self, query: Mapping[str, str]) -> tuple[str, str]:
        signed = SignedQuery.of(query)
        # echostr is base64; a literal '+' that WeCom did not percent-encode reaches us as a
        # space (form decoding). Base64 has no spaces, so putting them back is safe — and
        # needed, since the signature covers the original.
        echostr = query.get("echostr", "").replace(" ", "+")
        if not echostr:
            raise Forbidden("missing echostr")
        plaintext = self.crypto.verify_url(
            signed.signature, signed.timestamp, signed.nonce, echostr
        )
        return plaintext, signed.timestamp

    def open(self, query: Mapping[str, str], body: bytes) -> Opened:
        signed = SignedQuery.of(query)
        encrypted = self.open_body(body)
        plaintext = self.crypto.decrypt(
            signed.signature, signed.timestamp, signed.nonce, encrypted
        )
        return Opened(plaintext, signed.timestamp, signed.nonce)


def add_callback_routes(
    app: web.Application, config: Config, *, max_skew: timedelta = DEFAULT_MAX_SKEW
) -> None:
    """Register GET (URL check) and POST (messages) for each configured callback.

    Sandbox mode has no app callback (nothing could have signed it); the AI bot's callback
    exists only when its token and key are set.
    """
    wecom = config.wecom
    if wecom.configured:
        endpoint = CallbackEndpoint(
            name="app",
            envelope=EncryptedEnvelope(
                CallbackCrypto(wecom.token, wecom.encoding_aes_key, wecom.corp_id), xml_envelope
            ),
            translate=partial(_translate_app, agent_id=wecom.agent_id),
            max_skew=max_skew,
            max_body_bytes=config.server.max_body_bytes,
        )
        endpoint.register(app, wecom.callback_path)
    if wecom.aibot_configured:
        endpoint = CallbackEndpoint(
            name="aibot",
            # The AI bot's receive id is empty (it belongs to no corp app).
            envelope=EncryptedEnvelope(
                CallbackCrypto(wecom.aibot_token, wecom.aibot_encoding_aes_key, ""), json_envelope
            ),
            translate=_translate_aibot,
            max_skew=max_skew,
            max_body_bytes=config.server.max_body_bytes,
        )
        endpoint.register(app, wecom.aibot_path)


class MalformedBody(CallbackRejected):
    """The AI bot's envelope is not ``{"encrypt": "…"}``: 400."""


def xml_envelope(body: bytes) -> str:
    """The ``Encrypt`` of ``<xml><ToUserName/><Encrypt/><AgentID/></xml>``."""
    encrypted = parse_xml(body).get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted.strip():
        raise MalformedXml("no Encrypt element")
    return encrypted.strip()


def json_envelope(body: bytes) -> str:
    """The ``encrypt`` of the AI bot's ``{"encrypt": "…"}``."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedBody("body is not JSON") from None
    encrypted = payload.get("encrypt") if isinstance(payload, dict) else None
    if not isinstance(encrypted, str) or not encrypted:
        raise MalformedBody("no encrypt field")
    return encrypted


def _translate_app(plaintext: str, _received_at: datetime, *, agent_id: int) -> Incoming:
    return from_app_xml(plaintext, agent_id=agent_id)


def _translate_aibot(plaintext: str, received_at: datetime) -> Incoming | None:
    return from_aibot_json(plaintext, received_at=received_at)


@dataclass(frozen=True, slots=True)
class SignedQuery:
    signature: str
    timestamp: str
    nonce: str

    @classmethod
    def of(cls, query: Mapping[str, str], field: str = "msg_signature") -> SignedQuery:
        values = [query.get(k, "") for k in (field, "timestamp", "nonce")]
        if not all(values):
            raise InvalidSignature(f"missing {field}, timestamp or nonce")
        return cls(*values)


@dataclass(frozen=True, slots=True)
class CallbackEndpoint:
    """One callback URL: its envelope, how to translate its payload, how to answer."""

    name: str
    envelope: Envelope
    translate: Translate
    max_skew: timedelta
    max_body_bytes: int
    answer: Answer = empty_answer
    # When set, a signed nonce is remembered this long and a second request with it is
    # refused unless it is the very same request (a retry): for envelopes whose signature does
    # not cover the body (the Official Account's plain mode), and as a rule for the others.
    nonce_window: timedelta | None = None

    def register(self, app: web.Application, path: str) -> None:
        app.router.add_get(path, self.verify_url)
        app.router.add_post(path, self.receive)

    async def verify_url(self, request: web.Request) -> web.Response:
        """WeCom's URL check: answer the decrypted ``echostr`` and nothing else."""
        runtime = request.app[RUNTIME]
        try:
            plaintext, timestamp = self.envelope.url_check(request.query)
            check_freshness(timestamp, runtime.clock.now(), self.max_skew)
        except CallbackRejected as exc:
            return self._refuse(request, exc)
        # Exactly the plaintext: no quotes, BOM or newline, or WeCom says the URL is invalid.
        return web.Response(body=plaintext.encode("utf-8"), content_type="text/plain")

    async def receive(self, request: web.Request) -> web.StreamResponse:
        runtime = request.app[RUNTIME]
        started = asyncio.get_running_loop().time()
        try:
            opened, incoming, body = await self._open(request, runtime.clock.now())
        except web.HTTPException:
            raise  # 413 from aiohttp's body limit: its answer is the right one
        except CallbackRejected as exc:
            return self._refuse(request, exc)
        except Exception:  # bad input must never become a 500 (WeCom would retry it forever)
            log.exception("%s callback: unexpected error reading the request", self.name)
            return web.Response(status=400, text="bad request")
        if self.nonce_window is not None:
            try:
                fresh = await self._first_use(request, opened, body)
            except Exception:  # the database: say 500 so that the sender retries
                log.exception("%s callback: cannot check the nonce", self.name)
                return web.Response(status=500, text="not stored, please retry")
            if not fresh:
                return self._refuse(request, Forbidden("nonce reused with another request"))
        if incoming is None:
            return web.Response()
        try:
            handled = await runtime.pipeline.handle(incoming)
        except Exception:
            # The pipeline's transaction failed, so probably nothing was stored. Say 500 only
            # if so: WeCom retries a 500, and the retry is what stores the message.
            log.exception("%s callback: pipeline failed for %s", self.name, incoming.dedup_key)
            if not await self._stored(request, incoming.dedup_key):
                return web.Response(status=500, text="not stored, please retry")
            return web.Response()
        if handled.duplicate:
            log.debug("%s callback: retry of %s, already recorded", self.name, incoming.dedup_key)
        return await self.answer(request, opened, incoming, started)

    async def _first_use(self, request: web.Request, opened: Opened, body: bytes) -> bool:
        runtime = request.app[RUNTIME]
        assert self.nonce_window is not None
        async with runtime.db.transaction() as tx:
            return await tx.inbound.first_use_of_nonce(
                endpoint=self.name,
                nonce=opened.nonce[:64],
                timestamp=opened.timestamp[:16],
                digest=hashlib.sha256(body).hexdigest(),
                now=runtime.clock.now(),
                window=self.nonce_window,
            )

    async def _open(
        self, request: web.Request, now: datetime
    ) -> tuple[Opened, Incoming | None, bytes]:
        """Read, verify, decrypt and translate; raises CallbackRejected for what we refuse."""
        limit = self.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            # Refuse before reading a byte. A chunked body (no Content-Length) is cut off by
            # request.read() itself: create_app gives aiohttp the same limit (client_max_size).
            raise web.HTTPRequestEntityTooLarge(limit, request.content_length)
        body = await request.read()
        opened = self.envelope.open(request.query, body)
        check_freshness(opened.timestamp, now, self.max_skew)
        return opened, self.translate(opened.plaintext, now), body

    async def _stored(self, request: web.Request, dedup_key: str) -> bool:
        try:
            async with request.app[RUNTIME].db.read() as tx:
                return await tx.inbound.by_key(dedup_key) is not None
        except Exception:
            log.exception("%s callback: cannot tell whether %s was stored", self.name, dedup_key)
            return False

    def _refuse(self, request: web.Request, exc: CallbackRejected) -> web.Response:
        # Never the body or the query in the log: both may carry a member's message.
        log.warning(
            "%s callback refused (%d) from %s: %s",
            self.name,
            exc.status,
            request.remote,
            exc,
        )
        return web.Response(status=exc.status, text=exc.public)
