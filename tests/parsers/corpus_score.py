"""Score ``lvzhi parse`` on a phrasing corpus (JSON lines) and print per-intent pass rates.

Each case: ``text``, ``role``, ``group``, ``now`` (ISO), ``expect`` (``intent`` and only the
fields the writer was sure of), ``note``. Only the fields in ``expect`` are compared.

    .venv/bin/python -m tests.parsers.corpus_score [FILE.jsonl ...] [-v]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.dispatcher import Dispatcher, ParseContext, as_json
from handlers import routers

ZONE = ZoneInfo("Asia/Shanghai")
CORPUS_DIR = Path(__file__).parent / "corpus"


def load(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                case = json.loads(line)
                case.setdefault("where", f"{path.name}:{number}")
                yield case


def understood(dispatcher: Dispatcher, case: dict[str, Any]) -> dict[str, Any]:
    """The ``lvzhi parse`` JSON for one case, exactly as the CLI builds it."""
    now = datetime.fromisoformat(case["now"]).astimezone(ZONE)
    pctx = ParseContext(case.get("role", "member"), now, bool(case.get("group")))
    return as_json(dispatcher.parse_for_role(case["text"], pctx))


def mismatches(expect: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """The expected fields ``got`` disagrees with (empty: the case passes)."""
    return [key for key, value in expect.items() if got.get(key) != value]


def score(cases: list[dict[str, Any]], *, verbose: bool = False) -> tuple[int, int]:
    dispatcher = Dispatcher(routers())
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for case in cases:
        intent = case["expect"]["intent"]
        got = understood(dispatcher, case)
        bad = mismatches(case["expect"], got)
        total[intent] += 1
        if not bad:
            passed[intent] += 1
        elif verbose:
            print(f"FAIL {case['where']} [{case.get('role')}] {case['text']!r}")
            print(f"     expect {json.dumps(case['expect'], ensure_ascii=False)}")
            print(f"     got    {json.dumps(got, ensure_ascii=False)}")
    for intent in sorted(total, key=lambda name: -total[name]):
        print(f"{intent:16} {passed[intent]:4}/{total[intent]:<4}")
    ok, all_ = sum(passed.values()), sum(total.values())
    print(f"{'TOTAL':16} {ok:4}/{all_:<4} {100 * ok / max(all_, 1):.1f}%")
    return ok, all_


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    paths = [Path(arg) for arg in argv if arg != "-v"] or sorted(CORPUS_DIR.glob("*.jsonl"))
    score(list(load(paths)), verbose=verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
