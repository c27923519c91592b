"""Messages as values: what came in (Incoming) and what should go out (Outgoing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Channel = Literal["app", "aibot", "sandbox", "wechat"]


RESPONSE_URL_BYTES = 4096  # an AI-bot answer through its response URL: one markdown part


@dataclass(frozen=True, slots=True)
class Media:
    """What a picture, file, video or voice message carries: the channel's media id (WeCom keeps
    it 3 days; :mod:`bot.media` fetches it in time) and the file's name when it has one."""

    kind: str  # image|file|video|voice, as ``Incoming.msg_type``
    media_id: str
    filename: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    """A button pressed on a card the bot sent (WeCom's ``template_card_event``).

    A button's key is ``{name}:{value}`` (``ack:12``, ``attend:3``): ``name`` picks the handler
    a feature registered with :meth:`bot.dispatcher.Router.action`, ``value`` says on what.
    ``response_code`` allows the one update of the clicked card WeCom permits (72 hours).
    """

    name: str
    value: str = ""
    response_code: str = ""

    @property
    def number(self) -> int | None:
        """``value`` as the id of one of our rows, or None when it is not one."""
        return int(self.value) if self.value.isdigit() and len(self.value) <= 12 else None


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
    media: Media | None = None  # a picture, file, video or voice message's media
    action: Action | None = None  # a button pressed on a card the bot sent
    # The decrypted payload, kept in the inbound row for the record; features read the typed
    # fields above, never this (the edge is the only reader of a channel's formats).
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


@dataclass(frozen=True, slots=True)
class Send:
    """One keyed delivery: ``out`` queued under idempotency ``key`` (a key queued before adds
    nothing), due ``at`` (None: at once). Whatever produces deliveries — a handler
    (``Context.send``), a planner source, a use case shared by chat, CLI and console — produces
    these, and :func:`bot.delivery.outbox.queue_all` puts them in the outbox."""

    key: str
    out: Outgoing
    at: datetime | None = None

    def due(self, at: datetime | None) -> Send:
        """The same delivery due at ``at`` (a notice scheduled for later)."""
        return Send(self.key, self.out, at)


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
