"""Messages as values: what came in (Incoming) and what should go out (Outgoing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Channel = Literal["app", "aibot", "sandbox"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message or event from a member, whatever channel it came through."""

    channel: Channel
    sender: str  # WeCom userid (FromUserName)
    text: str
    sent_at: datetime  # aware
    dedup_key: str  # unique per real message; WeCom's retries share it
    msg_type: str = "text"
    chat_id: str | None = None  # a group chat; None for a 1:1 message to the app
    chat_name: str | None = None  # a group's name, when the channel or the simulator knows it
    msg_id: str | None = None
    response_url: str | None = None  # AI bot: reply here (once, within an hour)
    raw: str = ""

    @property
    def chat_key(self) -> str:
        """The chat half of the (chat, user) key for locks and dialogs."""
        return self.chat_id or f"single:{self.sender}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to one member, one group, or one AI-bot response URL.

    Exactly one of ``to_member`` (userid), ``to_group`` (group id) or ``response_url`` is set.
    """

    text: str
    to_member: str | None = None
    to_group: int | None = None
    response_url: str | None = None
    mentions: tuple[str, ...] = field(default=())  # userids to @ in a group
    markdown: bool = False

    def __post_init__(self) -> None:
        targets = [t for t in (self.to_member, self.to_group, self.response_url) if t is not None]
        if len(targets) != 1:
            raise ValueError("an Outgoing needs exactly one target")
