"""Real processes for the fault tests: ``lvzhi serve`` in a subprocess, and a process that
holds a SQLite file locked.

    async with ServeProcess(tmp_path, settings) as server:   # started, /healthz answering
        ... POST to server.base_url ...
        await server.kill()                                  # SIGKILL: no cleanup at all
        await server.start()                                 # same config, same port

``settings`` is the TOML config as a dict of tables (``{"database": {"url": …}, …}``); it is
written to a file and passed with ``--config``. The child gets the test's environment minus
every ``LVZHI_*`` variable, so nothing outside the file changes its configuration. Its stderr
(the log) goes to a file, kept across restarts, that :meth:`ServeProcess.log_text` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent

Settings = Mapping[str, Mapping[str, Any]]


def free_port() -> int:
    """A loopback port nobody listens on right now (the server binds it with SO_REUSEADDR,
    so a restart after SIGKILL gets it back)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def toml_text(settings: Settings) -> str:
    """The few TOML shapes a config needs: tables of strings, numbers and booleans."""
    lines: list[str] = []
    for table, values in settings.items():
        lines.append(f"[{table}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    raise TypeError(f"no TOML for {type(value).__name__}")


def child_environment(**extra: str) -> dict[str, str]:
    """The test's environment without LVZHI_* (the file alone configures the child)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LVZHI_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class ServeProcess:
    """``python -m bot --config FILE serve`` on a fixed loopback port."""

    def __init__(
        self,
        workdir: Path,
        settings: Settings,
        *,
        name: str = "serve",
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.config_path = workdir / f"{name}.toml"
        self.log_path = workdir / f"{name}.log"
        self.env = child_environment(**(env or {}))
        self.startup_timeout = startup_timeout
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        full = {name: dict(values) for name, values in settings.items()}
        full.setdefault("server", {})["port"] = self.port
        full["server"]["host"] = "127.0.0.1"
        self.config_path.write_text(toml_text(full), encoding="utf-8")

    async def __aenter__(self) -> ServeProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> float:
        """Start the server and wait until ``/healthz`` answers; the seconds that took."""
        assert self.process is None or self.process.returncode is not None, "already running"
        started = time.perf_counter()
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "--config",
                str(self.config_path),
                "serve",
                cwd=REPO,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self.starts += 1
        await self._wait_ready()
        return time.perf_counter() - started

    async def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, in-flight work is cut wherever it is."""
        process = self.process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGKILL)
            await process.wait()

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM (aiohttp's graceful shutdown), then SIGKILL after ``grace`` seconds."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await process.wait()
        except TimeoutError:
            await self.kill()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.startup_timeout
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise AssertionError(f"lvzhi serve exited early:\n{self.log_text()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.base_url}/healthz") as response:
                        if response.status in (200, 503):  # answering: the runtime is open
                            return
                if loop.time() > deadline:
                    raise AssertionError(f"lvzhi serve not ready:\n{self.log_text()}")
                await asyncio.sleep(0.05)


class SqliteLocker:
    """Another process holding ``BEGIN EXCLUSIVE`` on a SQLite file for ``seconds``.

    It prints ``locked`` once it holds the lock; the context manager waits for that line, and
    for the process to end (the lock released) on exit.
    """

    SCRIPT = (
        "import sqlite3, sys, time\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
        "db.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "db.execute('ROLLBACK')\n"
    )

    def __init__(self, path: Path, seconds: float) -> None:
        self.path = path
        self.seconds = seconds
        self.process: asyncio.subprocess.Process | None = None
        self.locked_at = 0.0

    async def __aenter__(self) -> SqliteLocker:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            self.SCRIPT,
            str(self.path),
            str(self.seconds),
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        async with asyncio.timeout(30):
            line = await self.process.stdout.readline()
        assert line.strip() == b"locked", line
        self.locked_at = time.perf_counter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is None:
            return
        if exc[0] is not None and self.process.returncode is None:
            self.process.kill()
        async with asyncio.timeout(self.seconds + 30):
            await self.process.wait()
