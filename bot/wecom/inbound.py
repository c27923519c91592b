"""Decrypted WeCom callbacks → :class:`bot.messages.Incoming` (pure: no I/O, no clock).

Two shapes arrive:

- the self-built app (自建应用): XML with ToUserName, FromUserName, CreateTime, MsgType, and
  Content/MsgId/AgentID for a text message; other types (image, voice, video, file, location,
  link) and events (``MsgType`` event, ``Event`` enter_agent, click, template_card_event, …);
- the AI bot (智能机器人): JSON with msgid, aibotid, chatid, chattype (single|group),
  from.userid, response_url, msgtype and a body per type (text.content, mixed.msg_item[],
  voice.content, …), or ``msgtype`` event with ``event.eventtype``.

Deduplication keys (see docs/wecom-protocol.md: WeCom's own MsgId and FromUserName + CreateTime
have both collided in real projects): ``app:{AgentID}:{FromUserName}:{MsgId}`` for app
messages, ``event:`` + sha256 of the decrypted payload for app events (they carry no id, and a
retry is byte-identical once decrypted), ``aibot:{aibotid}:{msgid}`` for the AI bot (its docs
name msgid as the key for messages and events alike).

Anything that is not a message or event WeCom would send raises :class:`MalformedMessage`.
Non-text messages and events get an empty text, so the fallback answers politely ("I only
understand text") and no parser mistakes a media id for a command. What features need of
them comes typed: an image, file, video or voice message's ``MediaId`` (and file name) as
``Incoming.media``, a click on a template card's button (``template_card_event``: its
``EventKey`` and ``ResponseCode``) as ``Incoming.action``. The whole payload stays in
``Incoming.raw`` for the inbound record only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.messages import Action, Incoming, Media
from bot.wecom.crypto import CallbackRejected, parse_xml

# The widths of the inbound table's columns: a longer value is not something WeCom sends, and
# letting it reach the database would turn bad input into a 500 (and WeCom's retries).
MAX_USERID = 64
MAX_CHAT_ID = 64
MAX_MSG_TYPE = 32
MAX_DEDUP_KEY = 160
MAX_RESPONSE_URL = 1024
# A media id or file name longer than this is not WeCom's (a draft keeps them in its JSON).
MAX_MEDIA_FIELD = 200
MAX_ACTION_NAME = 32
MAX_ACTION_VALUE = 64
MAX_RESPONSE_CODE = 256

# In a group, the AI bot only hears messages that @ it, and the mention comes first:
# "@履职助手 打卡 …". WeCom separates a mention with a space, often U+2005 (which \s matches).
_LEADING_MENTION = re.compile(r"^\s*@\S+(?:\s+|$)")


class MalformedMessage(CallbackRejected):
    """A decrypted payload that is not a message or event WeCom sends: 400."""


def from_app_xml(plaintext: str, *, agent_id: int) -> Incoming:
    """Translate the decrypted XML of a self-built app callback.

    ``agent_id`` is this app's AgentId: a message for another app (one callback URL shared by
    two apps with the same token and key) is refused rather than answered from the wrong app.
    """
    fields = parse_xml(plaintext)
    msg_type = _text_field(fields, "MsgType").lower()
    sender = _userid(_text_field(fields, "FromUserName"))
    sent_at = _unix_time(_text_field(fields, "CreateTime"))
    agent = fields.get("AgentID")
    if agent is not None and _text_field(fields, "AgentID") != str(agent_id):
        raise MalformedMessage(f"AgentID {agent!r} is not this app's ({agent_id})")
    if msg_type == "event":
        event = _text_field(fields, "Event").lower()
        digest = hashlib.sha256(plaintext.encode("utf-8")).hexdigest()
        return Incoming(
            channel="app",
            sender=sender,
            text="",
            sent_at=sent_at,
            dedup_key=f"event:{digest}",
            msg_type=_bounded_type(f"event:{event}"),
            action=card_action(event, fields),
            raw=plaintext,
        )
    if agent is None:
        raise MalformedMessage("message without AgentID")
    msg_id = _text_field(fields, "MsgId")
    if msg_type == "text":
        text = _optional_text(fields, "Content")
    elif msg_type == "voice":
        # Present only when the app has speech recognition switched on.
        text = _optional_text(fields, "Recognition")
    else:
        text = ""
    return Incoming(
        channel="app",
        sender=sender,
        text=text,
        sent_at=sent_at,
        dedup_key=_bounded_key("app", str(agent_id), sender, msg_id),
        msg_type=_bounded_type(msg_type),
        msg_id=msg_id,
        media=media_of(msg_type, fields),
        raw=plaintext,
    )


def from_aibot_json(plaintext: str, *, received_at: datetime) -> Incoming | None:
    """Translate the decrypted JSON of an AI bot callback; None for what needs no action.

    AI bot messages carry no creation time, so ``received_at`` (aware) stands in; events carry
    ``create_time``. A ``stream`` refresh is WeCom polling for a streamed answer: we never
    answer with a stream, so there is nothing to record.
    """
    try:
        payload = json.loads(plaintext)
    except (ValueError, RecursionError):
        raise MalformedMessage("not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedMessage("not a JSON object")
    msg_type = _json_str(payload, "msgtype").lower()
    if msg_type == "stream":
        return None
    msg_id = _json_str(payload, "msgid")
    aibot_id = _json_str(payload, "aibotid")
    sender_info = payload.get("from")
    if not isinstance(sender_info, dict):
        raise MalformedMessage("missing from")
    sender = _userid(_json_str(sender_info, "userid"))
    chat_type = payload.get("chattype") or "single"
    if chat_type not in ("single", "group"):
        raise MalformedMessage(f"unknown chattype {chat_type!r}")
    chat_id: str | None = None
    if chat_type == "group":
        chat_id = _json_str(payload, "chatid")
        if len(chat_id) > MAX_CHAT_ID:
            raise MalformedMessage("chatid too long")
    sent_at = _unix_time(payload["create_time"]) if "create_time" in payload else received_at
    if msg_type == "event":
        event = payload.get("event")
        if not isinstance(event, dict):
            raise MalformedMessage("event without its body")
        text, kind = "", f"event:{_json_str(event, 'eventtype').lower()}"
    else:
        text, kind = _aibot_text(payload, msg_type), msg_type
        if chat_id is not None:
            text = _LEADING_MENTION.sub("", text, count=1)
    return Incoming(
        channel="aibot",
        sender=sender,
        text=text,
        sent_at=sent_at,
        dedup_key=_bounded_key("aibot", aibot_id, msg_id),
        msg_type=_bounded_type(kind),
        chat_id=chat_id,
        msg_id=msg_id,
        response_url=_response_url(payload),
        raw=plaintext,
    )


# -- helpers ---------------------------------------------------------------------------------


def media_of(msg_type: str, fields: Mapping[str, Any]) -> Media | None:
    """The media of an XML message (image, voice, video, file: a ``MediaId``, and the file's
    ``FileName`` or ``Title``); None for a message without one. The 公众号's XML is the same."""
    media_id = fields.get("MediaId")
    if not isinstance(media_id, str) or not media_id.strip():
        return None
    name = fields.get("FileName") or fields.get("Title") or ""
    return Media(
        kind=_bounded_type(msg_type),
        media_id=storable(media_id.strip()[:MAX_MEDIA_FIELD]),
        filename=storable(name[:MAX_MEDIA_FIELD]) if isinstance(name, str) else "",
    )


def card_action(event: str, fields: Mapping[str, Any]) -> Action | None:
    """A template card's button click (``template_card_event``): its ``EventKey``
    ``{name}:{value}`` and ``ResponseCode``; None for any other event or a click without a key.
    Which names exist is the features' business (:meth:`bot.dispatcher.Router.action`)."""
    if event != "template_card_event":
        return None
    key = fields.get("EventKey")
    if not isinstance(key, str) or not key.strip():
        return None
    name, _, value = key.strip().partition(":")
    code = fields.get("ResponseCode")
    return Action(
        name=storable(name[:MAX_ACTION_NAME]),
        value=storable(value[:MAX_ACTION_VALUE]),
        response_code=storable(code[:MAX_RESPONSE_CODE]) if isinstance(code, str) else "",
    )


def _aibot_text(payload: Mapping[str, Any], msg_type: str) -> str:
    if msg_type == "text":
        return _json_str(_json_obj(payload, "text"), "content", required=False)
    if msg_type == "voice":  # WeCom transcribes voice for the AI bot
        return _json_str(_json_obj(payload, "voice"), "content", required=False)
    if msg_type == "mixed":  # text and images interleaved: keep the text
        items = _json_obj(payload, "mixed").get("msg_item", [])
        if not isinstance(items, list):
            raise MalformedMessage("mixed.msg_item is not a list")
        texts = [
            _json_str(_json_obj(item, "text"), "content", required=False)
            for item in items
            if isinstance(item, dict) and item.get("msgtype") == "text"
        ]
        return "\n".join(t for t in texts if t)
    # Media, and types WeCom adds later: no text, so the fallback answers politely instead of
    # the callback being refused (and retried) until we learn the new type.
    return ""


def _response_url(payload: Mapping[str, Any]) -> str | None:
    url = payload.get("response_url")
    if url is None or url == "":
        return None
    # The delivery worker will POST our answer there: only ever an http(s) URL of sane size.
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise MalformedMessage("response_url is not an http(s) URL")
    if len(url) > MAX_RESPONSE_URL:
        raise MalformedMessage("response_url too long")
    return storable(url)


def _text_field(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise MalformedMessage(f"missing {name}")
    return value.strip()


def _optional_text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedMessage(f"{name} is not text")
    return value


def _json_obj(payload: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = payload.get(name)
    if not isinstance(value, dict):
        raise MalformedMessage(f"missing {name}")
    return value


def _json_str(payload: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = payload.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise MalformedMessage(f"missing {name}")
    return storable(value)


# JSON escapes can carry what XML cannot: "\u0000", which PostgreSQL refuses in text, and lone
# surrogates ("\ud800"), which no UTF-8 encoder accepts. Either in a message made storing it
# fail, so the callback answered 500 and WeCom retried a message that could never be stored.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value: str) -> str:
    """``value`` as a database can keep it: NUL removed, lone surrogates made U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _LONE_SURROGATE.sub("\ufffd", value)


def _userid(value: str) -> str:
    if len(value) > MAX_USERID:
        raise MalformedMessage("userid too long")
    return value


def _unix_time(value: Any) -> datetime:
    if isinstance(value, bool):
        raise MalformedMessage("time is not Unix seconds")
    try:
        seconds = int(value)
        return datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise MalformedMessage("time is not Unix seconds") from None


def _bounded_type(msg_type: str) -> str:
    return msg_type[:MAX_MSG_TYPE]


def _bounded_key(prefix: str, *parts: str) -> str:
    """``prefix:part:part…``, hashed when it would not fit the unique column."""
    key = ":".join((prefix, *parts))
    if len(key) <= MAX_DEDUP_KEY:
        return key
    return f"{prefix}:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"
