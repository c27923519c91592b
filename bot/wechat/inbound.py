"""Decrypted Official Account callbacks → :class:`bot.messages.Incoming` (pure).

The XML (公众号 普通消息 / 事件推送): ToUserName (the account's original id, gh_…),
FromUserName (the follower's OpenID), CreateTime, MsgType, then Content + MsgId for text,
Recognition for voice (when speech recognition is on), or Event (subscribe, unsubscribe,
CLICK, VIEW, SCAN, LOCATION, TEMPLATESENDJOBFINISH …) for events, which carry no MsgId.

Deduplication keys: ``mp:{appid}:{openid}:{msgid}`` for messages; events carry no id and a
retry is byte-identical once decrypted, so ``mpevent:`` + sha256 of the payload.

A picture, voice or video message's ``MediaId`` comes as ``Incoming.media``, as WeCom's does.

The sender is the OpenID until the pipeline has found the member it is bound to.
"""

from __future__ import annotations

import hashlib

from bot.messages import Incoming
from bot.wecom.crypto import parse_xml
from bot.wecom.inbound import (
    MAX_DEDUP_KEY,
    MAX_MSG_TYPE,
    MalformedMessage,
    _optional_text,
    _text_field,
    _unix_time,
    _userid,
    media_of,
)


def from_mp_xml(plaintext: str, *, app_id: str) -> Incoming:
    fields = parse_xml(plaintext)
    msg_type = _text_field(fields, "MsgType").lower()
    openid = _userid(_text_field(fields, "FromUserName"))
    sent_at = _unix_time(_text_field(fields, "CreateTime"))
    if msg_type == "event":
        event = _text_field(fields, "Event").lower()
        digest = hashlib.sha256(plaintext.encode("utf-8")).hexdigest()
        return Incoming(
            channel="wechat",
            sender=openid,
            text="",
            sent_at=sent_at,
            dedup_key=f"mpevent:{digest}",
            msg_type=f"event:{event}"[:MAX_MSG_TYPE],
            wechat_openid=openid,
            raw=plaintext,
        )
    msg_id = _text_field(fields, "MsgId")
    if msg_type == "text":
        text = _optional_text(fields, "Content")
    elif msg_type == "voice":
        text = _optional_text(fields, "Recognition")
    else:
        text = ""
    key = f"mp:{app_id}:{openid}:{msg_id}"
    if len(key) > MAX_DEDUP_KEY:
        raise MalformedMessage("MsgId too long")
    return Incoming(
        channel="wechat",
        sender=openid,
        text=text,
        sent_at=sent_at,
        dedup_key=key,
        msg_type=msg_type[:MAX_MSG_TYPE],
        msg_id=msg_id,
        wechat_openid=openid,
        media=media_of(msg_type, fields),
        raw=plaintext,
    )


def reply_fields(plaintext: str) -> tuple[str, str]:
    """(the follower's OpenID, the account's original id) of a message, for a passive reply."""
    fields = parse_xml(plaintext)
    return _text_field(fields, "FromUserName"), _text_field(fields, "ToUserName")
