"""The Official Account's API (api.weixin.qq.com/cgi-bin/…), over the shared aiohttp session.

Its answers have WeCom's shape (JSON with ``errcode``; absent means 0), so the transport,
errors and secret scrubbing are :class:`bot.wecom.api.WeComApi`'s; only the calls differ:

- ``token?grant_type=client_credential&appid&secret`` → ``access_token``, ``expires_in`` (7200);
- ``message/custom/send`` (客服消息): text to a follower, within 48 h of their last message;
- ``message/template/send`` (模板消息) and ``message/subscribe/bizsend`` (订阅通知): a
  template with short values, for reminders when the window is closed.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.wecom.api import Reply, WeComApi


class OfficialAccountApi(WeComApi):
    async def get_token(self, corp_id: str, secret: str) -> Reply:
        """``token`` (the stable name of the parameters is WeCom's: ``corp_id`` is the appid)."""
        return await self._call(
            "token",
            "GET",
            self.base + "token",
            params={"grant_type": "client_credential", "appid": corp_id, "secret": secret},
            secrets=(secret,),
        )

    async def send_custom(self, token: str, *, openid: str, content: str) -> Reply:
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        return await self._post_json("message/custom/send", token, body)

    async def send_template(
        self,
        token: str,
        *,
        api: str,
        openid: str,
        template_id: str,
        data: Mapping[str, str],
        url: str = "",
    ) -> Reply:
        """模板消息 (``api`` "template") or 订阅通知 (``api`` "subscribe")."""
        body: dict[str, object] = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
        }
        if api == "subscribe":
            if url:
                body["page"] = url
            return await self._post_json("message/subscribe/bizsend", token, body)
        if url:
            body["url"] = url
        return await self._post_json("message/template/send", token, body)
