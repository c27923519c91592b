"""Hostile input on every parser of member text: never an exception, never a hang, and the
output always of the declared type.

The parsers are found by introspection (:func:`tests.hostile.parsers`: every public function of
``handlers/*/parse.py``, ``text.timephrase`` and ``text.normalize`` that takes text), so a
parser added later is fuzzed too. Each gets hypothesis examples from
:func:`tests.hostile.member_text` — the parsers' own vocabulary mixed with control characters,
bidi and zero-width marks, lone surrogates, full-width forms, emoji sequences and huge numbers
— and its result is checked against its return annotation, recursively through the frozen
dataclasses it returns (:func:`tests.hostile.conforms`; datetimes must be aware). The
dispatcher's ``parse_for_role`` — what a message from each role is understood as — is fuzzed
the same way, and its value must also render as the JSON of ``lvzhi parse``.

The per-example deadline (2 s) and the 10,000-character inputs (each parser must answer in
under 2 s) are the "never hangs" bound: a regex that backtracks on long input fails them.
``LVZHI_FUZZ_EXAMPLES=5000`` runs a longer campaign; ``fuzz/fuzz_parsers.py`` is the atheris
harness for coverage-guided runs.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dispatcher import Dispatcher, Guess, ParseContext, as_json
from handlers import routers
from handlers.help import every_help_text
from tests.hostile import (
    SHANGHAI,
    TOKENS,
    Parser,
    aware_now,
    conforms,
    fuzz_settings,
    long_text,
    member_text,
    parsers,
)
from tests.test_pipeline import HELP_PLACEHOLDERS

PARSERS = parsers()
NOW = datetime(2025, 11, 25, 10, 0, tzinfo=SHANGHAI)
TIME_BOUND = 2.0  # seconds for one call on 10,000 characters
LONG_SEEDS = (
    "打卡 ",
    "1",
    "一",
    "12月10日前",
    "《",
    "@a ",
    "第3学习小组、",
    "".join(TOKENS[:60]),
)


def help_examples() -> list[str]:
    """Every 「…」 example the members' and secretaries' help gives (帮助 and each 帮助 主题),
    placeholders filled in: real commands, which random text almost never forms (most parsers
    answer None to all of it)."""
    examples: list[str] = []
    for text in every_help_text("member") + every_help_text("secretary"):
        for example in re.findall(r"「(.*?)」", text):
            for placeholder, value in HELP_PLACEHOLDERS.items():
                example = example.replace(placeholder, value)
            if example not in examples:
                examples.append(example)
    return examples


HELP_EXAMPLES = help_examples()


def test_every_parser_module_is_covered() -> None:
    modules = {parser.name.rpartition(".")[0] for parser in PARSERS}
    assert {
        "text.timephrase",
        "text.normalize",
        "checkin.parse",
        "reports.parse",
        "notices.parse",
        "meetings.parse",
        "tasks.parse",
        "proposals.parse",
        "activities.parse",
    } <= modules
    assert len(PARSERS) >= 30


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.name)
def test_parser_never_raises_and_keeps_its_contract(parser: Parser) -> None:
    @fuzz_settings(40)
    @given(parser.arguments)
    def check(arguments: dict[str, Any]) -> None:
        conforms(parser.function(**arguments), parser.returns, parser.name)

    check()


def test_parsers_keep_their_contract_on_the_commands_the_help_teaches() -> None:
    answered = set()
    for parser in PARSERS:
        for text in HELP_EXAMPLES:
            result = parser.call_with(text, NOW)
            conforms(result, parser.returns, parser.name)
            if result not in (None, "", ()):
                answered.add(parser.name)
    assert len(answered) >= 30, sorted(answered)  # most parsers see a value, not only None


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.name)
def test_parser_answers_long_input_in_time(parser: Parser) -> None:
    for seed in LONG_SEEDS:
        text = long_text(seed, 10_000)
        started = time.perf_counter()
        result = parser.call_with(text, NOW)
        elapsed = time.perf_counter() - started
        assert elapsed < TIME_BOUND, f"{parser.name} took {elapsed:.2f} s on {seed!r}×"
        conforms(result, parser.returns, parser.name)


DISPATCHER = Dispatcher(routers())


@pytest.mark.parametrize("role", ["member", "secretary", "admin"])
def test_what_a_message_from_each_role_is_understood_as(role: str) -> None:
    understood: set[str] = set()
    commands = st.sampled_from(HELP_EXAMPLES)
    # Real commands as they are, with hostile text around them, and hostile text alone.
    texts = st.one_of(
        commands,
        st.tuples(member_text(), commands, member_text()).map("".join),
        member_text(),
    )

    @fuzz_settings(80)
    @given(text=texts, now=aware_now, in_group=st.booleans())
    def check(text: str, now: datetime, in_group: bool) -> None:
        value = DISPATCHER.parse_for_role(text, ParseContext(role, now, in_group))
        if value is None:
            return
        printed = as_json(value)
        if isinstance(value, Guess):  # a reading to confirm before acting (issue 15)
            assert value.confirm and printed["confirm"] == value.confirm
            value = value.value
        understood.add(type(value).__name__)
        conforms(value, type(value), "parse_for_role")
        assert isinstance(type(value).intent, str)
        json.dumps(as_json(value), ensure_ascii=False)  # what `lvzhi parse` prints

    check()
    # The run reached real commands of several features, not only "unknown".
    assert len(understood) >= 5, sorted(understood)
