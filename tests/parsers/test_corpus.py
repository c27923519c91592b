"""The phrasing corpus (tests/parsers/corpus/*.jsonl), case by case, through ``lvzhi parse``'s
own path (the dispatcher's ``parse_for_role``).

A case the bot deliberately does not understand carries ``"unsupported": "<reason>"``; it must
be listed in docs/parsing.md (so nothing is skipped silently) and it is an expected failure
that fails the suite the day it starts passing (then drop the mark and the docs line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.dispatcher import Dispatcher
from handlers import routers
from handlers.understand import grammar
from tests.parsers.corpus_score import CORPUS_DIR, load, mismatches, understood

CASES = list(load(sorted(CORPUS_DIR.glob("*.jsonl"))))
DOCS = (Path(__file__).parents[2] / "docs" / "parsing.md").read_text(encoding="utf-8")
DISPATCHER = Dispatcher(routers())


def _param(case: dict[str, Any]) -> Any:
    marks = []
    if case.get("unsupported"):
        marks.append(pytest.mark.xfail(reason=case["unsupported"], strict=True))
    return pytest.param(case, id=case["where"], marks=marks)


def test_corpus_is_large_and_annotated() -> None:
    assert len(CASES) >= 250
    for case in CASES:
        assert case["expect"].get("intent"), case["where"]
        assert case.get("note"), f"{case['where']}: say where the phrasing comes from"


def test_unsupported_cases_are_listed_in_the_docs() -> None:
    for case in CASES:
        if case.get("unsupported"):
            assert case["text"] in DOCS, f"{case['where']} is not listed in docs/parsing.md"


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_phrasing(case: dict[str, Any]) -> None:
    got = understood(DISPATCHER, case)
    bad = mismatches(case["expect"], got)
    assert not bad, json.dumps({"text": case["text"], "got": got}, ensure_ascii=False)


def test_no_question_or_chit_chat_becomes_an_action() -> None:
    """Every case written as a question or as chit-chat, whatever else it is expected to be:
    none may become an action, nor an action's guess waiting for 是 (a report draft started
    counts as one)."""
    actions = grammar.ACTIONS | {"report_start"}
    cases = [case for case in CASES if case["expect"]["intent"] in ("question", "unknown")]
    assert len(cases) >= 100
    taken = [
        (case["where"], case["text"], got["intent"])
        for case in cases
        if (got := understood(DISPATCHER, case))["intent"] in actions
    ]
    assert not taken, taken
