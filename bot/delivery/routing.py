"""Where a delivery goes, decided at send time (so a preference, a binding or a channel set
later still counts).

- A member (``member`` channel, target a :func:`bot.messages.member_address`) is reached once,
  on one channel: the Official Account (公众号) when they prefer it — or have no WeCom userid —
  and follow it bound; otherwise the app's ``message/send``.
- A follower (``wechat`` channel, an OpenID; or the member routed there) gets a custom message
  (客服消息) while the 48-hour window of their last message is open and its quota not used up,
  the configured template message after that, and nothing — a dead delivery and an alert —
  when no template is configured.
- A group goes to its app chat, its group robot or its customer group (客户群), in that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.config import WeChatConfig
from bot.delivery.base import Address, Failed
from storage import Tx
from storage.models import Group, Member
from storage.models_wechat import WeChatFollower


async def member_route(
    tx: Tx,
    target: str,
    wechat: WeChatConfig | None,
    now: datetime,
    *,
    known: Mapping[str, Member] | None = None,
) -> Address | Failed:
    """``known``: members already read by userid (a worker round's, in one query); a userid
    target missing from it is not in the roster."""
    if known is not None and not target.startswith("#"):
        member = known.get(target)
    else:
        member = await _member(tx, target)
    if member is None:
        if target.startswith("#"):
            return Failed(f"member {target} no longer exists")
        return Address("member", target, f"member:{target}")  # not in the roster (a stranger)
    follower = await tx.wechat.by_member(wechat.app_id, member.id) if wechat else None
    # An unfollowed follower is still routed there when WeCom cannot reach the member either:
    # the delivery then ends dead saying why.
    reachable = follower is not None and (follower.subscribed or not member.userid)
    if follower is not None and wechat is not None and reachable and prefers_wechat(member):
        return follower_route(follower, wechat, now)
    if member.userid:
        return Address("member", member.userid, f"member:{member.userid}")
    return Failed(f"{member.name}：没有企业微信账号，也没有绑定公众号，无法私信送达")


async def openid_route(
    tx: Tx, openid: str, wechat: WeChatConfig | None, now: datetime
) -> Address | Failed:
    """A reply to a follower's message (the ``wechat`` channel)."""
    follower = await tx.wechat.follower(wechat.app_id, openid) if wechat else None
    if follower is None or wechat is None:
        return Address("wechat", openid, f"wechat:{openid}")
    return follower_route(follower, wechat, now)


def prefers_wechat(member: Member) -> bool:
    """The member's preference; unset means WeCom for those who have a userid."""
    if member.channel_pref is not None:
        return member.channel_pref == "wechat"
    return not member.userid


def window_open(follower: WeChatFollower, wechat: WeChatConfig, now: datetime) -> bool:
    """Whether a custom message (客服消息) may still reach the follower."""
    seen = follower.last_message_at
    if seen is None or now - seen >= timedelta(hours=wechat.service_window_hours):
        return False
    if follower.custom_refused_at is not None and follower.custom_refused_at >= seen:
        return False
    return follower.custom_sent < wechat.service_window_messages


def follower_route(
    follower: WeChatFollower, wechat: WeChatConfig, now: datetime
) -> Address | Failed:
    label = f"wechat:{follower.openid}"
    if not follower.subscribed:
        return Failed(f"{label}: 对方已取消关注公众号")
    if window_open(follower, wechat, now):
        return Address("wechat", follower.openid, label)
    if wechat.template_id:
        return Address("wechat_template", follower.openid, label)
    return Failed(
        f"{label}: 公众号 48 小时客服消息窗口已关闭（或额度已用完），"
        "且未配置模板消息（[wechat] template_id）"
    )


GROUP_CHANNELS = {"appchat": "app_chat", "robot": "robot", "customer_group": "customer_group"}


def group_channel(group: Group) -> str | None:
    """The channel a group's deliveries take (``app_chat``, ``robot``, ``customer_group``), by
    :func:`group_route`'s rule; None when the group has none yet."""
    return GROUP_CHANNELS.get(group_route(group).kind)


def group_route(group: Group) -> Address:
    if group.app_chat_id:
        return Address("appchat", group.app_chat_id, f"appchat:{group.name}")
    if group.robot_key:
        return Address("robot", group.robot_key, f"robot:{group.name}")
    if group.customer_chat_id:
        return Address("customer_group", group.customer_chat_id, f"customer_group:{group.name}")
    return Address("group", str(group.id), f"group:{group.name}")


async def _member(tx: Tx, target: str) -> Member | None:
    if target.startswith("#"):
        return await tx.members.get(int(target[1:])) if target[1:].isdigit() else None
    return await tx.members.by_userid(target)
