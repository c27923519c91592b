"""What both atheris harnesses share: the repository on ``sys.path``, a libFuzzer dictionary
made of the parsers' vocabulary, and argv handling.

Run a harness from the repository root (see docs/faults.md, "Fuzzing"); every libFuzzer flag works
(``-runs=N``, ``-max_total_time=S``, a corpus directory to keep what it finds).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def with_dictionary(argv: list[str], tokens: tuple[str, ...]) -> list[str]:
    """``argv`` plus ``-dict=FILE`` holding ``tokens`` (unless a dictionary was given), so
    that libFuzzer splices the parsers' words into its inputs."""
    if any(arg.startswith("-dict=") for arg in argv):
        return argv
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", suffix=".dict", delete=False
    ) as handle:
        for token in tokens:
            handle.write(_dictionary_entry(token) + "\n")
    return [*argv, f"-dict={handle.name}"]


def _dictionary_entry(token: str) -> str:
    """A libFuzzer dictionary line: the token's UTF-8 bytes as ``\\xNN`` escapes."""
    return '"' + "".join(f"\\x{byte:02x}" for byte in token.encode("utf-8")) + '"'
