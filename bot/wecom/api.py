"""WeCom's push APIs, as JSON over the shared aiohttp session (never wechatpy's blocking client).

One method per call Lüzhi makes: ``gettoken``, ``message/send`` (text or markdown to a member),
``appchat/create`` and ``appchat/send`` (app-created group chats), the group robot's
``webhook/send?key=`` and the AI bot's one-shot ``response_url``. Each returns a :class:`Reply`
whose ``errcode`` is what callers decide on (never ``errmsg``: its wording changes); anything
that is not a JSON answer from WeCom (a timeout, a refused connection, an HTTP error status)
raises :class:`WeComTransportError`, which is always worth a retry.

Secrets stay out of logs and exception messages: the corp secret and access token travel as
query parameters, the robot key and the response URL are secrets themselves, so errors and
log lines name the call by a label ("message/send", "webhook/send") and never show a URL, and
aiohttp's own exceptions (whose text can carry the URL) are replaced, not chained.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp

from bot.delivery.text import MARKDOWN_LIMIT

log = logging.getLogger(__name__)

# Answers WeCom gives for a token it no longer accepts: drop it, fetch once, retry once.
TOKEN_ERRCODES = frozenset({40014, 42001})

_SECRET_QUERY = re.compile(r"((?:access_token|corpsecret|key|response_code)=)[^&\s\"']+", re.I)


class WeComTransportError(Exception):
    """No usable answer from WeCom (timeout, connection error, HTTP error status, not JSON).

    The message names the call and what went wrong, never the URL or a secret.
    """


class WeComCallError(Exception):
    """WeCom answered with a non-zero errcode where the caller needs a result (a chat id, a
    token). The message is :meth:`Reply.describe`; ``errcode`` is None if WeCom gave none."""

    def __init__(self, message: str, errcode: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode


@dataclass(frozen=True, slots=True)
class Reply:
    """WeCom's JSON answer to one call. Decide on ``errcode``; ``body`` holds the rest."""

    label: str
    errcode: int
    body: Mapping[str, Any] = field(repr=False)
    hint: str = ""  # errmsg, scrubbed and cut: for operators' eyes only, never for decisions

    @property
    def ok(self) -> bool:
        return self.errcode == 0

    def describe(self) -> str:
        """One line for logs, alerts and ``last_error`` (no secrets)."""
        return f"{self.label}: errcode {self.errcode}" + (f" ({self.hint})" if self.hint else "")


def robot_key(value: str) -> str:
    """The key of a group robot, given the key itself or the whole webhook URL.

    Operators paste either; only the key is used, against ``[wecom] api_base``, so a test or a
    proxy setup reaches the same host as every other call.
    """
    if "://" in value or value.startswith("/") or "key=" in value:
        keys = parse_qs(urlsplit(value).query).get("key")
        if keys:
            return keys[0]
    return value.strip()


def message_body(
    *,
    agent_id: int,
    touser: str,
    msgtype: str,
    content: str,
    duplicate_check_seconds: int,
    card: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``message/send`` request to members: text or markdown, or a ``template_card``
    when ``card`` is given (``content`` is then unused)."""
    if card is not None:
        msgtype = "template_card"
    body: dict[str, Any] = {
        "touser": touser,
        "msgtype": msgtype,
        "agentid": agent_id,
        msgtype: dict(card) if card is not None else {"content": content},
    }
    if duplicate_check_seconds > 0:
        # WeCom drops a request identical to one it accepted within the interval: a resend
        # after a crash between its 200 and our commit does not reach the member twice.
        body["enable_duplicate_check"] = 1
        body["duplicate_check_interval"] = duplicate_check_seconds
    return body


def robot_body(msgtype: str, content: str, mentions: Sequence[str] = ()) -> dict[str, Any]:
    """The ``webhook/send`` request. ``mentioned_list`` exists only for text; markdown @s a
    member with ``<@userid>`` in the content, added only when it still fits the 4096 bytes."""
    if msgtype == "text":
        text: dict[str, Any] = {"content": content}
        if mentions:
            text["mentioned_list"] = list(mentions)
        return {"msgtype": "text", "text": text}
    if mentions:
        tagged = content + "\n" + " ".join(f"<@{userid}>" for userid in mentions)
        if len(tagged.encode("utf-8")) <= MARKDOWN_LIMIT:
            content = tagged
    return {"msgtype": "markdown", "markdown": {"content": content}}


@dataclass(frozen=True, slots=True)
class Media:
    """A media file as ``media/get`` returned it."""

    data: bytes = field(repr=False)
    content_type: str
    filename: str


_FILENAME = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.I)


def _filename(disposition: str) -> str:
    """The file name of a ``Content-Disposition`` header (percent-decoded), or ""."""
    match = _FILENAME.search(disposition)
    return unquote(match.group(1)).strip() if match else ""


class WeComApi:
    """The calls, each one HTTP request with its own timeout; no retries here (the worker and
    the token cache decide what a failure means)."""

    def __init__(self, http: aiohttp.ClientSession, api_base: str, *, timeout: float) -> None:
        self.http = http
        self.base = api_base.rstrip("/") + "/cgi-bin/"
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def get_token(self, corp_id: str, secret: str) -> Reply:
        """``gettoken``: ``access_token`` and ``expires_in`` (seconds) in the body."""
        return await self._call(
            "gettoken",
            "GET",
            self.base + "gettoken",
            params={"corpid": corp_id, "corpsecret": secret},
            secrets=(secret,),
        )

    async def send_message(
        self,
        token: str,
        *,
        agent_id: int,
        touser: str,
        msgtype: str,
        content: str,
        duplicate_check_seconds: int,
        card: Mapping[str, Any] | None = None,
    ) -> Reply:
        """``message/send`` to members (``touser`` "a|b|c"); ``invaliduser`` lists the refused."""
        body = message_body(
            agent_id=agent_id,
            touser=touser,
            msgtype=msgtype,
            content=content,
            duplicate_check_seconds=duplicate_check_seconds,
            card=card,
        )
        return await self._post_json("message/send", token, body)

    async def update_template_card(
        self,
        token: str,
        *,
        agent_id: int,
        userids: Sequence[str],
        response_code: str,
        button_text: str,
    ) -> Reply:
        """``message/update_template_card``: the clicked card's buttons become ``button_text``
        (one update per ``response_code``, within 72 hours of the click)."""
        body = {
            "userids": list(userids),
            "agentid": agent_id,
            "response_code": response_code,
            "button": {"replace_name": button_text},
        }
        return await self._post_json(
            "message/update_template_card", token, body, secrets=(response_code,)
        )

    async def create_appchat(
        self,
        token: str,
        *,
        name: str,
        owner: str,
        userlist: Sequence[str],
        chatid: str | None = None,
    ) -> Reply:
        """``appchat/create`` (2–2000 members): the new chat's id is ``body["chatid"]``."""
        body: dict[str, Any] = {"name": name, "owner": owner, "userlist": list(userlist)}
        if chatid:
            body["chatid"] = chatid
        return await self._post_json("appchat/create", token, body)

    async def send_appchat(self, token: str, *, chatid: str, msgtype: str, content: str) -> Reply:
        """``appchat/send``: a text or markdown message into an app-created group chat."""
        body = {"chatid": chatid, "msgtype": msgtype, msgtype: {"content": content}}
        return await self._post_json("appchat/send", token, body)

    async def send_robot(
        self, key: str, *, msgtype: str, content: str, mentions: Sequence[str] = ()
    ) -> Reply:
        """The group robot's ``webhook/send?key=`` (20 messages a minute per robot)."""
        key = robot_key(key)
        return await self._call(
            "webhook/send",
            "POST",
            self.base + "webhook/send",
            params={"key": key},
            body=robot_body(msgtype, content, mentions),
            secrets=(key,),
        )

    async def send_robot_image(self, key: str, *, base64: str, md5: str) -> Reply:
        """A picture through the group robot: ``base64`` of the file and the ``md5`` of the
        file itself (JPG or PNG, at most 2 MB before encoding)."""
        key = robot_key(key)
        return await self._call(
            "webhook/send",
            "POST",
            self.base + "webhook/send",
            params={"key": key},
            body={"msgtype": "image", "image": {"base64": base64, "md5": md5}},
            secrets=(key,),
        )

    async def send_response(self, response_url: str, *, content: str) -> Reply:
        """One POST to an AI bot's ``response_url`` (valid once, for an hour). It takes
        markdown (not text), so plain text goes as markdown."""
        body = {"msgtype": "markdown", "markdown": {"content": content}}
        return await self._call(
            "aibot/response",
            "POST",
            response_url,
            params=None,
            body=body,
            secrets=(response_url,),
        )

    async def get_user_info(self, token: str, code: str) -> Reply:
        """``auth/getuserinfo``: who signed in through WeCom's web login (网页授权 / 扫码登录).
        A member of the corp comes back as ``userid``; anyone else as ``openid`` only. The
        ``code`` is single-use and lives five minutes."""
        return await self._call(
            "auth/getuserinfo",
            "GET",
            self.base + "auth/getuserinfo",
            params={"access_token": token, "code": code},
            secrets=(token, code),
        )

    async def get_media(self, token: str, media_id: str, *, max_bytes: int) -> Reply | Media:
        """``media/get``: a temporary media's bytes (kept by WeCom for 3 days), or WeCom's JSON
        refusal as a :class:`Reply` (40007: no such media, or expired)."""
        label = "media/get"
        try:
            async with self.http.get(
                self.base + "media/get",
                params={"access_token": token, "media_id": media_id},
                timeout=self.timeout,
            ) as response:
                if response.status != 200:
                    raise WeComTransportError(f"{label}: HTTP {response.status}")
                if (response.content_length or 0) > max_bytes:
                    raise WeComTransportError(f"{label}: larger than {max_bytes} bytes")
                data = await response.content.read(max_bytes + 1)
                content_type = response.content_type
                disposition = response.headers.get("Content-Disposition", "")
        except TimeoutError:
            raise WeComTransportError(f"{label}: timed out") from None
        except aiohttp.ClientError as exc:
            raise WeComTransportError(f"{label}: {type(exc).__name__}") from None
        if len(data) > max_bytes:
            raise WeComTransportError(f"{label}: larger than {max_bytes} bytes")
        if content_type in ("application/json", "text/plain") and data[:1] == b"{":
            try:  # a refusal comes as JSON, the media never does
                answer = json.loads(data)
            except (UnicodeDecodeError, json.JSONDecodeError):
                answer = None
            if isinstance(answer, dict) and isinstance(answer.get("errcode"), int):
                reply = Reply(
                    label,
                    answer["errcode"],
                    answer,
                    _scrub(str(answer.get("errmsg", "")), (token, media_id)),
                )
                log.info("WeCom %s", reply.describe())
                return reply
        return Media(data, content_type, _filename(disposition))

    async def add_msg_template(
        self, token: str, *, sender: str, chat_id: str, content: str
    ) -> Reply:
        """``externalcontact/add_msg_template`` to one customer group (客户群): a task that
        ``sender`` (the group's owner) must confirm in the WeCom client; ``body["msgid"]``."""
        body = {
            "chat_type": "group",
            "sender": sender,
            "chat_id_list": [chat_id],
            "allow_select": False,
            "text": {"content": content},
        }
        return await self._post_json("externalcontact/add_msg_template", token, body)

    async def groupmsg_send_result(
        self, token: str, *, msgid: str, userid: str, cursor: str = ""
    ) -> Reply:
        """``externalcontact/get_groupmsg_send_result``: ``send_list`` of {chat_id, userid,
        status (0 not sent, 1 sent, 2 not a friend, 3 over the limit), send_time}."""
        body: dict[str, Any] = {"msgid": msgid, "userid": userid, "limit": 1000}
        if cursor:
            body["cursor"] = cursor
        return await self._post_json("externalcontact/get_groupmsg_send_result", token, body)

    async def cancel_groupmsg_send(self, token: str, *, msgid: str) -> Reply:
        """``externalcontact/cancel_groupmsg_send``: stop a task nobody confirmed."""
        return await self._post_json(
            "externalcontact/cancel_groupmsg_send", token, {"msgid": msgid}
        )

    async def _post_json(
        self, name: str, token: str, body: Mapping[str, Any], *, secrets: Iterable[str] = ()
    ) -> Reply:
        """A POST of ``body`` to ``cgi-bin/{name}`` with the app's token."""
        return await self._call(
            name,
            "POST",
            self.base + name,
            params={"access_token": token},
            body=body,
            secrets=(token, *secrets),
        )

    async def _call(
        self,
        label: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None = None,
        secrets: Iterable[str] = (),
    ) -> Reply:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"} if data else None
        try:
            async with self.http.request(
                method, url, params=params, data=data, headers=headers, timeout=self.timeout
            ) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError:
            raise WeComTransportError(f"{label}: timed out") from None
        except aiohttp.ClientError as exc:
            # str(exc) may hold the URL, and with it a token or key: name the class only.
            raise WeComTransportError(f"{label}: {type(exc).__name__}") from None
        if status != 200:
            raise WeComTransportError(f"{label}: HTTP {status}")
        try:
            answer = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise WeComTransportError(f"{label}: answer is not JSON") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("errcode", 0), int):
            raise WeComTransportError(f"{label}: unexpected answer shape")
        # Some successful answers (webhook/send among them) may omit errcode: absent means 0.
        errcode = int(answer.get("errcode", 0))
        reply = Reply(label, errcode, answer, _scrub(str(answer.get("errmsg", "")), secrets))
        if not reply.ok:
            log.info("WeCom %s", reply.describe())
        return reply


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """errmsg for humans: secrets (if WeCom ever echoed one) and query values removed, cut."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _SECRET_QUERY.sub(r"\1***", text)[:160]
