"""Secrets never reach a log line.

Distinctive secrets — the corp secret, the callback token and AES key, the AI bot's token and
key, a group robot's webhook key, an AI bot response URL, a console password, and every access
token the fake WeCom hands out — go through the scenarios that touch them: callbacks (accepted,
forged, stale, garbage), replies with token fetches, a revoked token, WeCom failing (5xx, 45009)
on every channel, console sign-ins (right, wrong, and the password typed into the user name
field), configuration errors, and a database write failing while it stores the access token.

Two views of the log:

- every record, from every logger at DEBUG, *before* any redaction (``caplog``; libraries'
  levels pinned as :func:`bot.logs.setup_logging` pins them in a deployment): the code must
  not log a secret in the first place — the redaction filter is the second line, not the
  first;
- the stderr of ``lvzhi serve`` at ``[log] level = "DEBUG"``, with the secrets given through
  the environment as docs/deployment.md says to: what an operator's log file would hold.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event

from bot.app import create_app
from bot.appkeys import RUNTIME
from bot.config import ConfigError, build_config
from bot.logs import pin_library_levels
from storage import Database
from tests.console_support import add_account, log_in
from tests.fakewecom import FakeWeCom, HttpError, Revoke
from tests.faults import (
    inbound_keys,
    outbox_settled,
    seed,
    wait_until,
)
from tests.procs import REPO, ServeProcess, child_environment
from tests.wecom_client import (
    AIBot,
    WeComApp,
    aibot_callback,
    aibot_text_payload,
    encrypted_callback,
    text_message_xml,
)

CORP_SECRET = "CorpSecret-9d1f0c2b-DO-NOT-LOG"
APP = WeComApp(
    secret=CORP_SECRET,
    token="CbToken7Xq2pLm",
    encoding_aes_key="SecretAesKeyDoNotLog0123456789abcdefghijklm",
)
BOT = AIBot(token="AibotTok9Vv3", encoding_aes_key="AibotAesKeyDoNotLog0123456789abcdefghijklmn")
ROBOT_KEY = "RobotKey-5e8b7a61-DO-NOT-LOG"
RESPONSE_CODE = "RespCode-77aa31-DO-NOT-LOG"
CONSOLE_PASSWORD = "Console-Passw0rd-DO-NOT-LOG"
FIXED_SECRETS = (
    CORP_SECRET,
    APP.token,
    APP.encoding_aes_key,
    BOT.token,
    BOT.encoding_aes_key,
    ROBOT_KEY,
    RESPONSE_CODE,
    CONSOLE_PASSWORD,
)
MEMBER, SECRETARY = "m0000", "mishu"


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    return sorted({secret for secret in secrets if secret and secret in text})


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write for ``record``: message, traceback, stack."""
    parts = [record.getMessage()]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts.extend(p for p in (record.exc_text, record.stack_info) if p)
    return "\n".join(parts)


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, into caplog, except the libraries a deployment pins — and the
    SQL log at INFO, as ``[database] echo = true`` sets it, statements and all."""
    manager = logging.root.manager
    saved = {
        name: logger.level
        for name, logger in manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    for name in saved:
        logging.getLogger(name).setLevel(logging.NOTSET)
    pin_library_levels()
    # SQLAlchemy's own default for its loggers, and its SQL log on: ``[database] echo = true``.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def wecom_config(db_url: str, fake: FakeWeCom) -> dict[str, Any]:
    return {
        "database": {"url": db_url},
        "wecom": {
            **APP.config(),
            **BOT.config(),
            "api_base": fake.url,
            "request_timeout_seconds": 1.0,
        },
        "delivery": {
            "poll_interval_seconds": 0.05,
            "backoff_base_seconds": 0.05,
            "backoff_max_seconds": 0.2,
            "cooldown_seconds": 0.5,
            "lease_seconds": 2,
        },
        "scheduler": {"enabled": False},
        "console": {"secure_cookies": False},
        "log": {"level": "DEBUG"},
    }


async def seed_scenario(db_url: str) -> None:
    await seed(
        db_url,
        members=[MEMBER],
        secretary=SECRETARY,
        robot_groups=1,
        robot_key_of=lambda _: ROBOT_KEY,
    )


def callbacks(fake: FakeWeCom, tag: str) -> list[tuple[str, Any]]:
    """(path, callback): a member's message, a secretary's notice to the robot's group, an AI
    bot message answered through its response URL, and forged, stale and garbage ones."""
    now = datetime.now(UTC)

    def app_message(sender: str, text: str, msg_id: str) -> Any:
        xml = text_message_xml(APP, sender=sender, content=text, msg_id=msg_id, create_time=now)
        return encrypted_callback(APP, xml, timestamp=now)

    hello = app_message(MEMBER, "帮助", f"{tag}-1")
    notice = app_message(SECRETARY, "通知 第1学习小组（无需回复）：周五学习。", f"{tag}-2")
    aibot = aibot_callback(
        BOT,
        aibot_text_payload(
            BOT,
            sender=MEMBER,
            content="帮助",
            msg_id=f"{tag}-3",
            response_url=fake.response_url(RESPONSE_CODE),
        ),
        timestamp=now,
    )
    xml = text_message_xml(APP, sender=MEMBER, content="x", msg_id=f"{tag}-4", create_time=now)
    forged = encrypted_callback(APP, xml, timestamp=now, token="guessed-token")
    stale = encrypted_callback(APP, xml, timestamp=now - timedelta(days=2))
    garbage = hello.with_body(b"<xml><Encrypt>not base64!</Encrypt></xml>")
    return [
        (APP.path, hello),
        (APP.path, notice),
        (BOT.path, aibot),
        (APP.path, forged),
        (APP.path, stale),
        (APP.path, garbage),
        (BOT.path, hello),
    ]


def inject_wecom_failures(fake: FakeWeCom) -> None:
    fake.inject("message/send", Revoke(), HttpError(502), 40014)
    fake.inject("webhook/send", 45009, HttpError(500), 93000)
    fake.inject("aibot/response", HttpError(502))
    fake.inject("gettoken", -1)


# -- in this process: every record, unredacted ----------------------------------------------


async def test_no_secret_in_any_log_record(
    sqlite_url: str, every_logger_at_debug: pytest.LogCaptureFixture
) -> None:
    caplog = every_logger_at_debug
    await seed_scenario(sqlite_url)
    async with FakeWeCom(corp_id=APP.corp_id, secret=CORP_SECRET, agent_id=APP.agent_id) as fake:
        inject_wecom_failures(fake)
        config = build_config(wecom_config(sqlite_url, fake), environ={})
        app = create_app(config)
        async with TestClient(TestServer(app)) as client:
            runtime = app[RUNTIME]
            for path, callback in callbacks(fake, "in-process"):
                await callback.send(client, path)
            await console_sign_ins(client, runtime.db)
            await wait_until(lambda: outbox_settled(sqlite_url), "the outbox to drain")
        config_errors()

    secrets = (*FIXED_SECRETS, *fake.tokens_issued)
    found = {leak for r in caplog.records for leak in leaks(record_text(r), secrets)}
    print(
        f"\n{len(caplog.records)} log records at DEBUG from "
        f"{len({r.name for r in caplog.records})} loggers; {len(fake.tokens_issued)} access "
        f"tokens issued; gettoken {fake.counts['gettoken']}; leaked: {sorted(found) or 'none'}"
    )
    assert len(await inbound_keys(sqlite_url)) == 3  # the scenario really ran
    assert fake.tokens_issued and fake.counts["injected"] >= 6
    assert not found


async def console_sign_ins(client: TestClient[Any, Any], db: Database) -> None:
    await add_account(db, "wangmishu", password=CONSOLE_PASSWORD)
    # People type their password into the user name field: it must not be logged either.
    for username, password in (
        (CONSOLE_PASSWORD, "x"),
        ("wangmishu", CONSOLE_PASSWORD + "x"),
        ("wangmishu", CONSOLE_PASSWORD),
    ):
        response = await log_in(client, username, password)
        assert response.status in (200, 302, 303, 401, 403), response.status


def config_errors() -> None:
    """A bad value for each secret: the error names the key, never the value."""
    for key, value in (
        ("LVZHI_WECOM_ENCODING_AES_KEY", APP.encoding_aes_key[:-3]),
        ("LVZHI_WECOM_AIBOT_ENCODING_AES_KEY", BOT.encoding_aes_key + "!"),
    ):
        env = {
            "LVZHI_WECOM_CORP_ID": APP.corp_id,
            "LVZHI_WECOM_SECRET": CORP_SECRET,
            "LVZHI_WECOM_TOKEN": APP.token,
            "LVZHI_WECOM_ENCODING_AES_KEY": APP.encoding_aes_key,
            "LVZHI_WECOM_AGENT_ID": "1",
            key: value,
        }
        with pytest.raises(ConfigError) as error:
            build_config({}, env)
        assert not leaks(str(error.value), (*FIXED_SECRETS, value)), str(error.value)
        logging.getLogger("lvzhi").error("config error: %s", error.value)


async def test_a_failed_write_does_not_log_its_parameters(
    sqlite_url: str, every_logger_at_debug: pytest.LogCaptureFixture
) -> None:
    """The database refuses the write that stores a fresh access token: the error is logged
    (with its SQL), but not the statement's parameters — the token among them. SQLite is made
    read-only for the write connections once gettoken has been answered (``PRAGMA
    query_only``), so the token's UPDATE itself fails, as it would on a full disk."""
    caplog = every_logger_at_debug
    await seed(sqlite_url, members=[MEMBER])
    async with FakeWeCom(
        corp_id=APP.corp_id, secret=CORP_SECRET, agent_id=APP.agent_id, latency=0.3
    ) as fake:
        config = build_config(wecom_config(sqlite_url, fake), environ={})
        app = create_app(config)
        async with TestClient(TestServer(app)) as client:
            engine = app[RUNTIME].db.write_engine.sync_engine
            read_only = {"on": False}

            def checkout(dbapi_connection: Any, *_: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA query_only = {int(read_only['on'])}")
                cursor.close()

            event.listen(engine, "checkout", checkout)
            try:
                path, hello = callbacks(fake, "write")[0]
                await hello.send(client, path)
                await wait_until(lambda: fake.counts["gettoken"] >= 1, "gettoken")
                read_only["on"] = True  # the answer is on its way back (latency 0.3 s)
                await wait_until(
                    lambda: any("readonly" in record_text(r) for r in caplog.records),
                    "the refused write",
                    within=10,
                )
                read_only["on"] = False
                drained_in = await wait_until(
                    lambda: outbox_settled(sqlite_url), "the outbox to drain"
                )
            finally:
                event.remove(engine, "checkout", checkout)

    refused = [r for r in caplog.records if "readonly" in record_text(r)]
    found = {leak for r in caplog.records for leak in leaks(record_text(r), fake.tokens_issued)}
    print(
        f"\nrefused writes logged: {len(refused)}; tokens leaked: {sorted(found) or 'none'}; "
        f"outbox drained {drained_in:.1f} s after the database took writes again"
    )
    assert refused and fake.tokens_issued
    assert not found
    # The token whose write failed was kept in memory: the reply did not wait for the
    # refresh lease (2 × 1 s + 5 s) to run out and a second gettoken.
    assert drained_in < 5.0 and fake.counts["gettoken"] == 1


# -- lvzhi serve: its stderr at DEBUG --------------------------------------------------------


async def test_no_secret_in_the_log_of_lvzhi_serve(sqlite_url: str, tmp_path: Path) -> None:
    await seed_scenario(sqlite_url)
    async with FakeWeCom(corp_id=APP.corp_id, secret=CORP_SECRET, agent_id=APP.agent_id) as fake:
        inject_wecom_failures(fake)
        settings = wecom_config(sqlite_url, fake)
        wecom = settings["wecom"]
        secret_env = {
            "LVZHI_WECOM_SECRET": wecom.pop("secret"),
            "LVZHI_WECOM_TOKEN": wecom.pop("token"),
            "LVZHI_WECOM_ENCODING_AES_KEY": wecom.pop("encoding_aes_key"),
            "LVZHI_WECOM_AIBOT_TOKEN": wecom.pop("aibot_token"),
            "LVZHI_WECOM_AIBOT_ENCODING_AES_KEY": wecom.pop("aibot_encoding_aes_key"),
        }
        settings["console"]["enabled"] = False
        async with (
            ServeProcess(tmp_path, settings, env=secret_env) as server,
            aiohttp.ClientSession() as http,
        ):
            for path, callback in callbacks(fake, "serve"):
                await callback.send_to(http, server.base_url, path)
            await wait_until(lambda: outbox_settled(sqlite_url), "the outbox to drain")
        log = server.log_text()
        bad = await bad_config_run(tmp_path)

    secrets = (*FIXED_SECRETS, *fake.tokens_issued)
    print(
        f"\nlvzhi serve at DEBUG: {len(log.splitlines())} log lines, "
        f"{len(fake.tokens_issued)} tokens issued; bad config: {bad.strip()!r}; "
        f"leaked: {leaks(log + bad, secrets) or 'none'}"
    )
    assert " DEBUG " in log and "WeCom" in log  # the log really is at DEBUG and has content
    assert fake.tokens_issued
    assert not leaks(log + bad, secrets)


async def bad_config_run(tmp_path: Path) -> str:
    """``lvzhi serve`` with a broken AES key in the environment: its stderr (exit code 2)."""
    env = child_environment(
        LVZHI_WECOM_CORP_ID=APP.corp_id,
        LVZHI_WECOM_AGENT_ID=str(APP.agent_id),
        LVZHI_WECOM_SECRET=CORP_SECRET,
        LVZHI_WECOM_TOKEN=APP.token,
        LVZHI_WECOM_ENCODING_AES_KEY=APP.encoding_aes_key[:-2] + "!!",
        LVZHI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bad.db'}",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode == 2, err
    return (out + err).decode("utf-8", "replace")
