"""WeCom's side of the callbacks: really encrypted requests, built as WeCom's servers build them.

The sending side uses wechatpy (``WeChatCrypto(...).encrypt_message``), not our own
``bot.wecom.crypto``, so every test that goes through here also checks that the two agree.

    app = WeComApp()
    config = make_config(sqlite_url, wecom=app.config())
    xml = text_message_xml(app, sender="zhangwei", content="帮助", msg_id=1, create_time=now)
    response = await encrypted_callback(app, xml, timestamp=now).send(client, app.path)

Timestamps are explicit (a ``datetime`` or Unix seconds): the server checks them against its
clock, which in tests is a ``FakeClock``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import xmltodict
from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.enterprise.crypto import WeChatCrypto

Timestamp = datetime | int


@dataclass(frozen=True, slots=True)
class WeComApp:
    """A self-built app (自建应用) as the WeCom admin console shows it. Test values only."""

    corp_id: str = "ww5f3c0a1b2d4e6f70"
    agent_id: int = 1000002
    secret: str = "test-app-secret-not-real-0123456789abcdefghi"
    token: str = "QDG6eK"
    encoding_aes_key: str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    path: str = "/wecom/callback"

    def config(self) -> dict[str, Any]:
        """The ``[wecom]`` values for ``tests.conftest.make_config(url, wecom=...)``."""
        return {
            "corp_id": self.corp_id,
            "agent_id": self.agent_id,
            "secret": self.secret,
            "token": self.token,
            "encoding_aes_key": self.encoding_aes_key,
            "callback_path": self.path,
        }


@dataclass(frozen=True, slots=True)
class AIBot:
    """An AI bot (智能机器人) in API mode. Its receive id is "" (it belongs to no corp app)."""

    aibot_id: str = "aib-test-0001"
    token: str = "aibotTok3n"
    encoding_aes_key: str = "kWxPLVs0nZ8QmMpT4uH2yBcD6eFgA1iJ3oR5sU7vX9a"
    path: str = "/wecom/aibot"
    name: str = "履职助手"

    def config(self) -> dict[str, Any]:
        """The AI bot's ``[wecom]`` values (merge with ``WeComApp.config()`` if both)."""
        return {
            "aibot_token": self.token,
            "aibot_encoding_aes_key": self.encoding_aes_key,
            "aibot_path": self.path,
        }


@dataclass(frozen=True, slots=True)
class Callback:
    """One HTTP request as WeCom sends it: send it as often as WeCom would retry it."""

    method: str
    query: Mapping[str, str]
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """``path?query``, percent-encoded (so '+' stays '+')."""
        encoded = "&".join(f"{k}={quote(v, safe='')}" for k, v in self.query.items())
        return f"{path}?{encoded}"

    def with_query(self, **changes: str) -> Callback:
        return Callback(self.method, {**self.query, **changes}, self.body, self.headers)

    def with_body(self, body: bytes | str) -> Callback:
        data = body.encode("utf-8") if isinstance(body, str) else body
        return Callback(self.method, self.query, data, self.headers)

    async def send(self, client: TestClient[Any, Any], path: str) -> ClientResponse:
        # A file-like body: aiohttp warns (an error under pytest) about large raw bytes.
        data = io.BytesIO(self.body) if self.body else None
        return await client.request(
            self.method, self.url(path), data=data, headers=dict(self.headers)
        )

    async def send_to(self, http: ClientSession, base_url: str, path: str) -> tuple[int, str]:
        """Send to a server at ``base_url`` (another process, say): (status, body)."""
        data = io.BytesIO(self.body) if self.body else None
        async with http.request(
            self.method, base_url + self.url(path), data=data, headers=dict(self.headers)
        ) as response:
            return response.status, await response.text()


# -- the self-built app's plaintext XML ------------------------------------------------------


def text_message_xml(
    app: WeComApp,
    *,
    sender: str,
    content: str,
    msg_id: int | str,
    create_time: Timestamp,
) -> str:
    return message_xml(
        app, "text", sender=sender, msg_id=msg_id, create_time=create_time, Content=content
    )


def message_xml(
    app: WeComApp,
    msg_type: str,
    *,
    sender: str,
    msg_id: int | str,
    create_time: Timestamp,
    **fields: str | int,
) -> str:
    """Any message type: ``message_xml(app, "image", ..., PicUrl=..., MediaId=...)``."""
    return _xml(
        ToUserName=app.corp_id,
        FromUserName=sender,
        CreateTime=unix(create_time),
        MsgType=msg_type,
        **fields,
        MsgId=msg_id,
        AgentID=app.agent_id,
    )


def event_xml(
    app: WeComApp, event: str, *, sender: str, create_time: Timestamp, **fields: str | int
) -> str:
    """An event, e.g. ``event_xml(app, "enter_agent", sender=..., create_time=...)``."""
    return _xml(
        ToUserName=app.corp_id,
        FromUserName=sender,
        CreateTime=unix(create_time),
        MsgType="event",
        Event=event,
        **fields,
        AgentID=app.agent_id,
    )


# -- sealing ---------------------------------------------------------------------------------


def encrypted_callback(
    app: WeComApp,
    xml: str,
    *,
    timestamp: Timestamp,
    nonce: str | None = None,
    token: str | None = None,
    receive_id: str | None = None,
) -> Callback:
    """The POST WeCom makes for ``xml``. ``token`` / ``receive_id`` forge a wrong one."""
    encrypted, signature, ts, nonce = seal(
        xml,
        token=token or app.token,
        encoding_aes_key=app.encoding_aes_key,
        receive_id=app.corp_id if receive_id is None else receive_id,
        timestamp=timestamp,
        nonce=nonce,
    )
    body = (
        f"<xml><ToUserName>{cdata(app.corp_id)}</ToUserName>"
        f"<Encrypt>{cdata(encrypted)}</Encrypt>"
        f"<AgentID>{cdata(str(app.agent_id))}</AgentID></xml>"
    )
    return Callback(
        "POST",
        {"msg_signature": signature, "timestamp": ts, "nonce": nonce},
        body.encode("utf-8"),
        {"Content-Type": "text/xml"},
    )


def url_verification(
    app: WeComApp | AIBot,
    *,
    timestamp: Timestamp,
    echo: str | None = None,
    nonce: str | None = None,
) -> tuple[Callback, str]:
    """The GET WeCom makes when the admin saves the callback URL, and the expected answer."""
    echo = echo or str(secrets.randbelow(10**18))
    encrypted, signature, ts, nonce = seal(
        echo,
        token=app.token,
        encoding_aes_key=app.encoding_aes_key,
        receive_id=_receive_id(app),
        timestamp=timestamp,
        nonce=nonce,
    )
    query = {"msg_signature": signature, "timestamp": ts, "nonce": nonce, "echostr": encrypted}
    return Callback("GET", query), echo


def aibot_callback(
    bot: AIBot,
    payload: Mapping[str, Any] | str,
    *,
    timestamp: Timestamp,
    nonce: str | None = None,
    token: str | None = None,
) -> Callback:
    """The POST WeCom makes to the AI bot: ``{"encrypt": "…"}`` around the JSON ``payload``."""
    plaintext = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    encrypted, signature, ts, nonce = seal(
        plaintext,
        token=token or bot.token,
        encoding_aes_key=bot.encoding_aes_key,
        receive_id="",
        timestamp=timestamp,
        nonce=nonce,
    )
    return Callback(
        "POST",
        {"msg_signature": signature, "timestamp": ts, "nonce": nonce},
        json.dumps({"encrypt": encrypted}).encode("utf-8"),
        {"Content-Type": "application/json"},
    )


def aibot_text_payload(
    bot: AIBot,
    *,
    sender: str,
    content: str,
    msg_id: str,
    chat_id: str | None = None,
    response_url: str = "http://127.0.0.1:1/aibot/response?code=test",
) -> dict[str, Any]:
    """A text message to the AI bot; with ``chat_id`` it is an @mention in that group."""
    payload: dict[str, Any] = {
        "msgid": msg_id,
        "aibotid": bot.aibot_id,
        "chattype": "group" if chat_id else "single",
        "from": {"userid": sender},
        "response_url": response_url,
        "msgtype": "text",
        "text": {"content": f"@{bot.name} {content}" if chat_id else content},
    }
    if chat_id:
        payload["chatid"] = chat_id
    return payload


def seal(
    plaintext: str,
    *,
    token: str,
    encoding_aes_key: str,
    receive_id: str,
    timestamp: Timestamp,
    nonce: str | None = None,
) -> tuple[str, str, str, str]:
    """Encrypt and sign with wechatpy: (encrypted, signature, timestamp, nonce)."""
    ts = unix(timestamp)
    nonce = nonce or str(secrets.randbelow(10**10))
    envelope = WeChatCrypto(token, encoding_aes_key, receive_id).encrypt_message(
        plaintext, nonce, ts
    )
    fields = xmltodict.parse(envelope)["xml"]
    return fields["Encrypt"], fields["MsgSignature"], ts, nonce


def frame(
    message: bytes, receive_id: bytes, *, length: int | None = None, prefix: bytes | None = None
) -> bytes:
    """WeCom's plaintext frame: 16 random bytes, the 4-byte big-endian ``length`` (the
    message's own unless forged), the message, the receive id. Not padded."""
    prefix = secrets.token_bytes(16) if prefix is None else prefix
    size = len(message) if length is None else length
    return prefix + size.to_bytes(4, "big") + message + receive_id


def pkcs7(data: bytes, block: int = 32) -> bytes:
    """PKCS#7 padding to ``block`` bytes (WeCom pads to 32)."""
    pad = block - len(data) % block
    return data + bytes([pad]) * pad


def seal_frame(plaintext: bytes, encoding_aes_key: str) -> str:
    """AES-256-CBC (IV = key[:16]) over ``plaintext`` exactly as given, base64: to reach the
    decrypted-frame checks with frames no honest sender builds. ``plaintext`` must be a
    whole number of AES blocks (pad it with :func:`pkcs7`, or don't, to test the padding)."""
    key = base64.b64decode(encoding_aes_key + "=")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plaintext) + encryptor.finalize()).decode()


def signed_envelope(
    app: WeComApp, encrypted: str, *, timestamp: Timestamp, nonce: str = "424242"
) -> Callback:
    """A POST whose ``Encrypt`` is ``encrypted`` as it is, correctly signed with the app's
    token: whatever goes wrong afterwards is the decryption's business, not the signature's."""
    ts = unix(timestamp)
    body = (
        f"<xml><ToUserName>{cdata(app.corp_id)}</ToUserName><Encrypt>{cdata(encrypted)}"
        f"</Encrypt><AgentID>{app.agent_id}</AgentID></xml>"
    )
    signature = sign(app.token, ts, nonce, encrypted)
    query = {"msg_signature": signature, "timestamp": ts, "nonce": nonce}
    return Callback("POST", query, body.encode("utf-8"), {"Content-Type": "text/xml"})


def sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """WeCom's msg_signature, written out independently of both wechatpy and the bot."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def unix(at: Timestamp) -> str:
    return str(int(at.timestamp()) if isinstance(at, datetime) else at)


def cdata(value: str) -> str:
    """A CDATA section holding ``value`` (a ``]]>`` inside is split, as WeCom does)."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml(**fields: str | int) -> str:
    inner = "".join(
        f"<{name}>{value if isinstance(value, int) else cdata(value)}</{name}>"
        for name, value in fields.items()
    )
    return f"<xml>{inner}</xml>"


def _receive_id(target: WeComApp | AIBot) -> str:
    return target.corp_id if isinstance(target, WeComApp) else ""
