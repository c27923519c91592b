"""The benchmarks still run: the quick mode of each HTTP benchmark and the broadcast
benchmark's reminders mode, each as a subprocess, all at once (to keep this short).

Not in-process: two benchmarks migrating their databases at once in one process would share
alembic's process-global migration context. Each subprocess gets a session of its own, so a
benchmark that hangs is killed with the servers it started.

Benchmarks check their own invariants and exit non-zero when one fails (a callback not answered
200, a message stored or replied to twice, a record missing); this test also reads the figures
they write as JSON and checks the counts. Timings are never asserted: the machine may be busy.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import postgres_url

BENCH = Path(__file__).resolve().parent.parent / "bench"
TIMEOUT = 180  # seconds: a hung benchmark fails the test instead of hanging it


def start(name: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(BENCH / name), *args],
        cwd=BENCH.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: killed with its servers if need be
    )


def finish(process: subprocess.Popen[str]) -> str:
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"{process.args} timed out:\n{output}") from None
    assert process.returncode == 0, f"{process.args} failed:\n{output}"
    return output


@contextlib.contextmanager
def reaped() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """The benchmark processes started in the block; whatever happens in it, none outlives it
    (a failed check must not leave servers running into the next test)."""
    runs: dict[str, subprocess.Popen[str]] = {}
    try:
        yield runs
    finally:
        for process in runs.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            process.communicate()  # reaps it and closes its pipe


def rows(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text("utf-8"))


def test_quick_benchmarks_hold_their_invariants(tmp_path: Path) -> None:
    pg = postgres_url()
    out = {name: tmp_path / f"{name}.json" for name in ("callback", "burst", "memory", "scale")}
    with reaped() as runs:
        runs["callback"] = start("bench_callback.py", "--quick", "--json", str(out["callback"]))
        runs["burst"] = start("bench_checkin_burst.py", "--quick", "--json", str(out["burst"]))
        runs["memory"] = start("bench_memory.py", "--quick", "--json", str(out["memory"]))
        runs["reminders"] = start("bench_broadcast.py", "--reminders", "--quick")
        if pg:
            runs["scale"] = start(
                "bench_scaleout.py", "--quick", "--pg-url", pg, "--json", str(out["scale"])
            )
        printed = {name: finish(process) for name, process in runs.items()}

    callback = rows(out["callback"])
    assert {r["server"] for r in callback} == {"reference", "floor", "lvzhi"}
    assert all(r["statuses"] == {"200": r["callbacks"]} == {"200": 50} for r in callback)

    (burst,) = rows(out["burst"])
    assert burst["statuses"] == {"200": burst["callbacks"]} == {"200": 50}
    assert burst["reply_p50_ms"] > 0  # every member's reply was seen at the fake WeCom

    (memory,) = rows(out["memory"])
    assert memory["checkins_stored"] == 5_000
    assert memory["peak_mb"] >= memory["idle_mb"] > 0

    assert "every group and member reminded once" in printed["reminders"]

    if pg:
        (scale,) = rows(out["scale"])
        assert scale["processes"] == 2
        assert scale["statuses"] == {"200": scale["requests"]} == {"200": 60}


def test_retention_benchmark_keeps_every_check_in_and_a_smaller_file(tmp_path: Path) -> None:
    """``bench_retention.py --quick``: 120 members, 16 weeks, with and without retention."""
    out = tmp_path / "retention.json"
    with reaped() as runs:
        runs["retention"] = start("bench_retention.py", "--quick", "--json", str(out))
        finish(runs["retention"])
    without, with_ = rows(out)
    assert without["counts"]["checkins"] == with_["counts"]["checkins"] == 90 * 16
    assert with_["counts"]["send_log"] < without["counts"]["send_log"]
    assert with_["counts"]["inbound_messages"] < without["counts"]["inbound_messages"]
    assert with_["sizes"][-1][1] < without["sizes"][-1][1]
    assert with_["archive_bytes"] > 0 and without["archive_bytes"] > 0
