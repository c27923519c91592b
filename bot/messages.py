"""Messages as values: what came in (Incoming) and what should go out (Outgoing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Channel = Literal["app", "aibot", "sandbox", "wechat"]


RESPONSE_URL_BYTES = 4096  # an AI-bot answer through its response URL: one markdown part


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message or event from a member, whatever channel it came through."""

    channel: Channel
    sender: str  # WeCom userid (FromUserName); for the 公众号, the bound member's address
    text: str
    sent_at: datetime  # aware
    dedup_key: str  # unique per real message; WeCom's retries share it
    msg_type: str = "text"
    chat_id: str | None = None  # a group chat; None for a 1:1 message to the app
    chat_name: str | None = None  # a group's name, when the channel or the simulator knows it
    msg_id: str | None = None
    response_url: str | None = None  # AI bot: reply here (once, within an hour)
    wechat_openid: str | None = None  # 公众号: the follower's OpenID; replies go back there
    raw: str = ""

    @property
    def chat_key(self) -> str:
        """The chat half of the (chat, user) key for locks and dialogs."""
        return self.chat_id or f"single:{self.sender}"


@dataclass(frozen=True, slots=True)
class CardUpdate:
    """Replace the buttons of a template card a member clicked (``update_template_card``).

    WeCom allows one update per click, named by the click event's ``ResponseCode`` (valid
    for 72 hours); the card then shows ``button_text`` instead of its buttons.
    """

    response_code: str
    userid: str
    button_text: str


@dataclass(frozen=True, slots=True)
class Image:
    """A picture for a group robot (``msgtype: image``): the file as base64 and the md5 of the
    file itself; WeCom takes at most 2 MB (before base64), JPG or PNG."""

    base64: str
    md5: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to one member, one group, or one AI-bot response URL — or the update of a
    clicked template card.

    Exactly one of ``to_member`` (a :func:`member_address`), ``to_group`` (group id),
    ``response_url``, ``card_update`` or ``to_wechat`` (an OpenID) is set. ``card`` is a
    ``template_card`` body (button interaction) sent instead of the text where the channel has
    cards — the app's message to a member; every
    other channel gets ``text``, which must therefore say the same thing in words.
    """

    text: str
    to_member: str | None = None
    to_group: int | None = None
    response_url: str | None = None
    card_update: CardUpdate | None = None
    to_wechat: str | None = None  # a 公众号 follower's OpenID: the answer to their message
    mentions: tuple[str, ...] = field(default=())  # userids to @ in a group
    markdown: bool = False
    card: Mapping[str, Any] | None = None
    # A picture sent instead of the text to a group through its robot; ``text`` describes it
    # (logs, the sandbox). Only for ``to_group``.
    image: Image | None = None

    def __post_init__(self) -> None:
        targets = [
            t
            for t in (
                self.to_member,
                self.to_group,
                self.response_url,
                self.card_update,
                self.to_wechat,
            )
            if t is not None
        ]
        if len(targets) != 1:
            raise ValueError("an Outgoing needs exactly one target")


class Addressable(Protocol):
    id: int
    userid: str | None


# The first words of the bot's own warnings to the office (not answers to anyone's message):
# load tests and benchmarks tell them apart from replies by it.
SYSTEM_ALERT = "【系统提醒】"


def member_address(member: Addressable) -> str:
    """How ``Outgoing.to_member`` names a member: their WeCom userid, or ``#<id>`` for a
    member reached only on WeChat (a userid never starts with ``#``: WeCom allows letters,
    digits and ``_-@.`` only). The delivery worker picks the member's channel at send time."""
    return member.userid or f"#{member.id}"
