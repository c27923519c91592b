"""The Official Account's side of its callback: requests built as WeChat's servers build them.

Signing and encryption use wechatpy (``WeChatSigner`` for the plain ``signature``,
``wechatpy.crypto.WeChatCrypto(token, key, appid)`` for compatible and safe modes), not the
bot's own code, so every test through here also checks that the two agree.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner, check_signature

from tests.wecom_client import Callback, Timestamp, cdata, unix


@dataclass(frozen=True, slots=True)
class OfficialAccount:
    """A 公众号 as its admin console shows it (test values only)."""

    app_id: str
    token: str
    encoding_aes_key: str
    original_id: str = "gh_0a1b2c3d4e5f"
    path: str = "/wechat/callback"


def plain_signature(token: str, timestamp: str, nonce: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    signature = signer.signature
    check_signature(token, signature, timestamp, nonce)  # wechatpy agrees with itself
    return signature


def text_xml(
    account: OfficialAccount, *, openid: str, content: str, msg_id: int, create_time: Timestamp
) -> str:
    return (
        f"<xml><ToUserName>{cdata(account.original_id)}</ToUserName>"
        f"<FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{unix(create_time)}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(account: OfficialAccount, *, openid: str, event: str, create_time: Timestamp) -> str:
    return (
        f"<xml><ToUserName>{cdata(account.original_id)}</ToUserName>"
        f"<FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{unix(create_time)}</CreateTime>"
        f"<MsgType>{cdata('event')}</MsgType>"
        f"<Event>{cdata(event)}</Event></xml>"
    )


def callback(
    account: OfficialAccount,
    xml: str,
    *,
    mode: str,
    timestamp: Timestamp,
    openid: str,
    nonce: str | None = None,
) -> Callback:
    """The POST WeChat makes for ``xml`` in ``mode`` (plain, compatible or safe)."""
    ts = unix(timestamp)
    nonce = nonce or str(secrets.randbelow(10**10))
    query = {
        "signature": plain_signature(account.token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "openid": openid,
    }
    if mode == "plain":
        return Callback("POST", query, xml.encode("utf-8"), {"Content-Type": "text/xml"})
    crypto = WeChatCrypto(account.token, account.encoding_aes_key, account.app_id)
    sealed = xmltodict.parse(crypto.encrypt_message(xml, nonce, ts))["xml"]
    query |= {"encrypt_type": "aes", "msg_signature": sealed["MsgSignature"]}
    envelope = f"<Encrypt>{cdata(sealed['Encrypt'])}</Encrypt>"
    if mode == "compatible":  # the plain fields and the ciphertext side by side
        body = xml.replace("</xml>", envelope + "</xml>")
    else:
        body = f"<xml><ToUserName>{cdata(account.original_id)}</ToUserName>{envelope}</xml>"
    return Callback("POST", query, body.encode("utf-8"), {"Content-Type": "text/xml"})


def url_check(account: OfficialAccount, *, timestamp: Timestamp) -> tuple[Callback, str]:
    ts, nonce = unix(timestamp), str(secrets.randbelow(10**10))
    echo = str(secrets.randbelow(10**18))
    query = {
        "signature": plain_signature(account.token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": echo,
    }
    return Callback("GET", query), echo


def read_reply(account: OfficialAccount, body: str, *, encrypted: bool) -> dict[str, Any]:
    """The passive reply's fields, decrypted (and its signature checked) by wechatpy."""
    if encrypted:
        fields = xmltodict.parse(body)["xml"]
        crypto = WeChatCrypto(account.token, account.encoding_aes_key, account.app_id)
        body = crypto.decrypt_message(
            body, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]
        )
    parsed: dict[str, Any] = xmltodict.parse(body)["xml"]
    return parsed


def when(at: datetime) -> int:
    return int(at.timestamp())
