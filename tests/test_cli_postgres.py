"""Commands on PostgreSQL: the schema is migrated deliberately (``lvzhi db upgrade``), never as
a side effect of another command; before that, a command says so in one line."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from tests.conftest import create_pg_database, drop_pg_database, requires_postgres

pytestmark = requires_postgres


@pytest.fixture
def empty_pg() -> Iterator[str]:
    url = asyncio.run(create_pg_database())
    try:
        yield url
    finally:
        asyncio.run(drop_pg_database(url))


def tables(url: str) -> int:
    async def count() -> int:
        parts = make_url(url)
        conn = await asyncpg.connect(
            host=parts.host, port=parts.port or 5432, user=parts.username, database=parts.database
        )
        try:
            query = "SELECT count(*) FROM information_schema.tables WHERE table_schema='public'"
            return int(await conn.fetchval(query))
        finally:
            await conn.close()

    return asyncio.run(count())


@pytest.mark.parametrize(
    "command",
    [
        ["members", "list"],
        ["campaigns", "list"],
        ["notices", "list"],
        ["reports", "list"],
        ["export", "members"],
    ],
    ids=lambda c: " ".join(c),
)
def test_a_command_on_an_unmigrated_database_asks_for_db_upgrade_and_migrates_nothing(
    empty_pg: str, command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lvzhi.toml"
    config.write_text(f'[database]\nurl = "{empty_pg}"\n', encoding="utf-8")
    code = main(
        [
            "--config",
            str(config),
            *command,
            *(["-o", str(tmp_path / "x.xlsx")] if command[0] == "export" else []),
        ]
    )
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("lvzhi: 数据库错误：") and line.endswith(
        "（是否已运行 lvzhi db upgrade？）"
    )
    assert tables(empty_pg) == 0
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert tables(empty_pg) > 0
