"""Dialect and shorthand (俺, 咋个, 晓得, 莫得, 去不到, dk) are read as the standard words for
scoring, but what the bot keeps — a leave's reason, a check-in's material — is in the member's
own words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dispatcher import Dispatcher, ParseContext, as_json
from handlers import routers
from handlers.understand import intents
from tests.parsers.corpus_score import CORPUS_DIR, load

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def understood(text: str) -> dict[str, object]:
    return as_json(Dispatcher(routers()).parse_for_role(text, ParseContext("member", NOW, True)))


def test_a_standard_word_is_as_long_as_the_words_it_stands_for() -> None:
    """Values are cut from the member's text where they were found in the standard text."""
    texts = [case["text"] for case in load(sorted(CORPUS_DIR.glob("*.jsonl")))]
    texts += ["俺咋个晓得莫得 去不到 来不到 DK dk Dk"]
    changed = [t for t in texts if intents._standard(t) != t]
    assert changed, "the corpus has dialect words"
    assert [t for t in changed if len(intents._standard(t)) != len(t)] == []


@pytest.mark.parametrize(
    ("text", "field", "own"),
    [
        ("HY-3 俺请假 俺家里有事去不到", "reason", "俺家里有事去不到"),
        ("HY-2 俺来不到 单位莫得人值班", "reason", "单位莫得人值班"),
    ],
)
def test_a_leave_keeps_the_members_words(text: str, field: str, own: str) -> None:
    got = understood(text)
    assert got["intent"] == "rsvp" and got["answer"] == "leave"
    assert own in str(got[field])


def test_a_check_in_in_shorthand_keeps_what_was_written() -> None:
    got = understood("dk 《论语》 俺读了半小时")
    assert got["intent"] == "checkin" and got["minutes"] == 30
    assert "俺" in str(got["material"])
