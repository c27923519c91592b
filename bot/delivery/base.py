"""What the worker and the senders agree on: resolved addresses and send outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

AddressKind = Literal[
    "member",
    "appchat",
    "robot",
    "response_url",
    "group",
    "card_update",
    "wechat",  # a 公众号 follower's OpenID: message/custom/send (客服消息)
    "wechat_template",  # the same follower outside the 48-hour window: a template message
    "customer_group",  # a WeCom customer group (客户群): add_msg_template, confirmed by staff
]


@dataclass(frozen=True, slots=True)
class Address:
    """Where one part goes, resolved at send time (a group → its app chat or its robot;
    kind ``group`` is a group with no channel attached, which only the sandbox can reach).

    ``value`` is a userid, an app-chat id, a robot webhook key or a response URL; the last two
    are secrets and ``label`` is what logs and errors show instead.
    """

    kind: AddressKind
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Sent:
    invalid_recipients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Retry:
    """A passing failure (-1, 45033, 5xx, a timeout): try again later, counting an attempt."""

    error: str


@dataclass(frozen=True, slots=True)
class Throttled:
    """WeCom said 45009: cool the target down; this does not burn an attempt."""

    error: str


@dataclass(frozen=True, slots=True)
class Failed:
    """Will never succeed as it is (81013 no valid recipient, a bad payload, a config error)."""

    error: str
    alert: bool = False  # a configuration problem an operator must fix (60020, 40001, 48002)


Outcome = Sent | Retry | Throttled | Failed


class Sender(Protocol):
    """Sends one part to one address. Never raises for WeCom's answers: returns an Outcome."""

    async def send(self, address: Address, message: dict[str, Any]) -> Outcome: ...
