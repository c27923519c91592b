"""Coverage-guided fuzzing (atheris + libFuzzer) of every parser of member text.

    python fuzz/fuzz_parsers.py -max_total_time=600 fuzz/corpus-parsers

The parsers are the ones the hypothesis tests fuzz (:func:`tests.hostile.parsers`: every
public text-taking function of ``handlers/*/parse.py``, ``handlers.text.timephrase`` and
``handlers.text.normalize``), plus the dispatcher's ``parse_for_role`` for each role. The first
bytes of an input choose the function, the role and "now"; the rest is the text (any code
point, surrogates included).
A crash is an exception, an output that does not match the function's annotation
(:func:`tests.hostile.conforms`), or a call slower than 2 s.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

import atheris
from common import with_dictionary

# The features are imported when their parsers and routers are first asked for: inside the block.
with atheris.instrument_imports(include=["handlers", "bot.dispatcher"]):
    from bot.dispatcher import Dispatcher, ParseContext, as_json
    from handlers import routers
    from tests.hostile import SHANGHAI, TOKENS, conforms, parsers

    PARSERS = parsers()
    DISPATCHER = Dispatcher(routers())
ROLES = ("member", "secretary", "admin")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=SHANGHAI)
TIME_BOUND = 2.0


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    choice = provider.ConsumeIntInRange(0, len(PARSERS))  # the last one: the dispatcher
    now = EPOCH + dt.timedelta(minutes=provider.ConsumeIntInRange(0, 100 * 366 * 24 * 60))
    in_group = provider.ConsumeBool()
    role = ROLES[provider.ConsumeIntInRange(0, len(ROLES) - 1)]
    text = provider.ConsumeUnicode(provider.remaining_bytes())
    started = time.perf_counter()
    if choice == len(PARSERS):
        value = DISPATCHER.parse_for_role(text, ParseContext(role, now, in_group))
        if value is not None:
            conforms(value, type(value), "parse_for_role")
            json.dumps(as_json(value), ensure_ascii=False)
        name = "parse_for_role"
    else:
        parser = PARSERS[choice]
        conforms(parser.call_with(text, now), parser.returns, parser.name)
        name = parser.name
    elapsed = time.perf_counter() - started
    if elapsed > TIME_BOUND:
        raise TimeoutError(f"{name} took {elapsed:.2f} s on {len(text)} characters")


def main() -> None:
    atheris.Setup(with_dictionary(sys.argv, TOKENS), one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
