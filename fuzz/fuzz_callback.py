"""Coverage-guided fuzzing (atheris + libFuzzer) of the WeCom callback endpoints, over HTTP.

    python fuzz/fuzz_callback.py -max_total_time=600 fuzz/corpus-callback

The whole app runs in this process against a scratch SQLite file (a sandbox sender: nothing
leaves the machine), as in ``tests/test_fuzz_callback.py``. The first byte of an input picks
what the rest becomes:

0. a raw body, with a query made from the input too;
1. the ``Encrypt`` of an envelope, correctly signed (invalid base64, padding, lengths);
2. a whole plaintext frame, encrypted with the right key and signed (lying length fields,
   wrong receive ids, bad padding);
3. the decrypted XML of an app message, framed, encrypted and signed correctly (entity
   declarations, deep nesting, huge and empty fields reach the inner parser);
4. the text of a member's message, in a correct app callback;
5. the decrypted JSON of an AI bot message, framed, encrypted and signed correctly.

A crash is a 500 (or any answer but 200, 400, 403, 413), a refused request that changed the
database, or no answer within 10 s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import sys
import tempfile
from pathlib import Path

import atheris
from common import with_dictionary

with atheris.instrument_imports(include=["bot.wecom", "bot.pipeline"]):
    from tests.hostile import (
        CALLBACK_APP,
        CALLBACK_BOT,
        CALLBACK_MEMBER,
        REFUSALS,
        TOKENS,
        CallbackServer,
        callback_server,
    )
    from tests.wecom_client import (
        Callback,
        encrypted_callback,
        frame,
        pkcs7,
        seal_frame,
        sign,
        signed_envelope,
        text_message_xml,
        unix,
    )

APP, BOT = CALLBACK_APP, CALLBACK_BOT
MODES = 6


def build(mode: int, provider: atheris.FuzzedDataProvider) -> tuple[Callback, str]:
    """The request for one input, and the path it goes to."""
    now = dt.datetime.now(dt.UTC)
    if mode == 0:
        # A URL cannot carry a lone surrogate: the client would fail, not the server.
        ts = provider.ConsumeUnicodeNoSurrogates(12)
        signature = provider.ConsumeUnicodeNoSurrogates(40)
        query = {"msg_signature": signature, "timestamp": ts, "nonce": "1"}
        path = APP.path if provider.ConsumeBool() else BOT.path
        return Callback("POST", query, provider.ConsumeBytes(provider.remaining_bytes())), path
    if mode == 1:
        encrypted = provider.ConsumeUnicodeNoSurrogates(provider.remaining_bytes()).strip()
        return signed_envelope(APP, encrypted or "A", timestamp=now), APP.path
    if mode == 2:
        raw = provider.ConsumeBytes(provider.remaining_bytes())
        raw += b"\0" * (-len(raw) % 16)  # AES needs whole blocks; the padding byte is fuzzed
        return signed_envelope(
            APP, seal_frame(raw or bytes(16), APP.encoding_aes_key), timestamp=now
        ), APP.path
    if mode in (3, 5):
        message = provider.ConsumeBytes(provider.remaining_bytes())
        app = mode == 3
        receive_id = APP.corp_id.encode() if app else b""
        key = APP.encoding_aes_key if app else BOT.encoding_aes_key
        encrypted = seal_frame(pkcs7(frame(message, receive_id)), key)
        return sealed(encrypted, app, now), APP.path if app else BOT.path
    text = provider.ConsumeUnicodeNoSurrogates(provider.remaining_bytes())
    xml = text_message_xml(
        APP, sender=CALLBACK_MEMBER, content=text, msg_id=secrets.token_hex(8), create_time=now
    )
    return encrypted_callback(APP, xml, timestamp=now), APP.path


def sealed(encrypted: str, app: bool, now: dt.datetime) -> Callback:
    """A correctly signed request around ``encrypted`` (XML envelope for the app, JSON for
    the AI bot)."""
    if app:
        return signed_envelope(APP, encrypted, timestamp=now)
    ts, nonce = unix(now), "1"
    query = {
        "msg_signature": sign(BOT.token, ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
    }
    body = ('{"encrypt": "' + encrypted + '"}').encode()
    return Callback("POST", query, body, {"Content-Type": "application/json"})


def check(server: CallbackServer, data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    callback, path = build(provider.ConsumeIntInRange(0, MODES - 1), provider)
    before = server.counts()
    status = server.send(callback, path)
    if status != 200 and status not in REFUSALS:
        raise AssertionError(f"answered {status}")
    if status != 200 and server.counts() != before:
        raise AssertionError(f"refused ({status}) but the database changed")


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # refusals are the point; bugs log at ERROR
    argv = with_dictionary(sys.argv, (*TOKENS, "<xml>", "</xml>", "<![CDATA[", "]]>", "<!DOCTYPE"))
    with tempfile.TemporaryDirectory() as scratch, asyncio.Runner() as runner:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'fuzz.db'}"
        with callback_server(runner, url) as server:
            atheris.Setup(argv, lambda data: check(server, data))
            atheris.Fuzz()


if __name__ == "__main__":
    main()
