"""The minimal reference server of the callback benchmarks: the least a WeCom callback must cost.

aiohttp + wechatpy, nothing else: verify the signature and decrypt (``WeChatCrypto``), read the
sender and message id from the plaintext XML, ONE insert under a unique key (a retry does
nothing), answer an empty 200. No roster, no handler, no outbox, no freshness check, no ORM.

The database is the same backend as the bot's, with the same durability: SQLite in WAL with
``synchronous=FULL`` through aiosqlite (one connection, autocommit: one statement per message);
PostgreSQL through asyncpg (a pool of up to 20, as the bot's 10 + 10 overflow).

    REFERENCE_TOKEN=… REFERENCE_AES_KEY=… REFERENCE_CORP_ID=… \\
        python bench/_reference_server.py --url URL --port PORT [--path /wecom/callback]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Protocol

import xmltodict
from aiohttp import web
from sqlalchemy.engine import make_url
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

TABLE = "reference_inbound"
INSERT = (
    f"INSERT INTO {TABLE} (dedup_key, sender, content, received_at) "
    "VALUES ({}) ON CONFLICT (dedup_key) DO NOTHING"
)


class Store(Protocol):
    async def insert(self, key: str, sender: str, content: str) -> None: ...
    async def close(self) -> None: ...


class SqliteStore:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        import aiosqlite

        connection = await aiosqlite.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=5000"):
            await connection.execute(f"PRAGMA {pragma}")
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, "
            "dedup_key TEXT UNIQUE NOT NULL, sender TEXT, content TEXT, received_at TEXT)"
        )
        return cls(connection)

    async def insert(self, key: str, sender: str, content: str) -> None:
        now = datetime.now(UTC).isoformat()
        await self.connection.execute(INSERT.format("?, ?, ?, ?"), (key, sender, content, now))

    async def close(self) -> None:
        await self.connection.close()


class PostgresStore:
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, dsn: str) -> PostgresStore:
        import asyncpg

        pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20)
        await pool.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id BIGSERIAL PRIMARY KEY, "
            "dedup_key TEXT UNIQUE NOT NULL, sender TEXT, content TEXT, "
            "received_at TIMESTAMPTZ)"
        )
        return cls(pool)

    async def insert(self, key: str, sender: str, content: str) -> None:
        await self.pool.execute(
            INSERT.format("$1, $2, $3, $4"), key, sender, content, datetime.now(UTC)
        )

    async def close(self) -> None:
        await self.pool.close()


async def open_store(url: str) -> Store:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return await SqliteStore.open(str(parsed.database))
    return await PostgresStore.open(parsed.set(drivername="postgresql").render_as_string(False))


def create_app(url: str, path: str, crypto: WeChatCrypto) -> web.Application:
    app = web.Application()
    store_key = web.AppKey("store", object)

    async def store_context(app: web.Application) -> AsyncIterator[None]:
        store = await open_store(url)
        app[store_key] = store
        yield
        await store.close()

    async def receive(request: web.Request) -> web.Response:
        query = request.query
        try:
            plaintext = crypto.decrypt_message(
                await request.read(), query["msg_signature"], query["timestamp"], query["nonce"]
            )
            message = xmltodict.parse(plaintext)["xml"]
        except (KeyError, InvalidSignatureException, InvalidCorpIdException):
            return web.Response(status=403)
        key = f"app:{message['AgentID']}:{message['FromUserName']}:{message['MsgId']}"
        store: Store = app[store_key]  # type: ignore[assignment]
        await store.insert(key, message["FromUserName"], message.get("Content") or "")
        return web.Response()

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.cleanup_ctx.append(store_context)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy-style database URL")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/wecom/callback")
    args = parser.parse_args()
    crypto = WeChatCrypto(
        os.environ["REFERENCE_TOKEN"],
        os.environ["REFERENCE_AES_KEY"],
        os.environ["REFERENCE_CORP_ID"],
    )
    web.run_app(
        create_app(args.url, args.path, crypto),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
