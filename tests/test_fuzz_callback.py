"""Hostile input on the callback endpoints, over HTTP, with hypothesis.

One server per backend for the whole module (the app with a sandbox sender, in an event loop
of its own that each example drives): SQLite for what must be refused, and SQLite and
PostgreSQL (when configured) for what must be stored, since they do not refuse the same text. Every
example checks the three promises of the issue:

- **never a 500** — a 500 makes WeCom retry a message we will never accept, forever; the only
  500 allowed is "could not store, please retry", which none of these inputs may cause;
- **never a stored record from an unauthenticated request** — for every request that is not
  correctly signed, or does not decrypt to a message for this app, the inbound table and the
  outbox are exactly as before; and an accepted message is stored exactly once;
- **never a hang** — each request must be answered within ``REQUEST_TIMEOUT`` (10 s), and
  each example within hypothesis' deadline.

What is generated: random bytes; malformed XML (unbalanced, deep nesting, entity declarations
and expansions, huge and empty fields, repeated elements); invalid base64 and padding; frames
with lying length fields, wrong receive ids and bad padding, encrypted with the right key so
that they reach the inner checks; and correctly signed and encrypted messages whose text holds
control characters and every Unicode oddity of :func:`tests.hostile.member_text`, on the
app's XML channel and the AI bot's JSON channel. ``LVZHI_FUZZ_EXAMPLES`` raises the number of
examples; ``fuzz/fuzz_callback.py`` is the atheris harness.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from tests.conftest import create_pg_database, drop_pg_database, requires_postgres
from tests.hostile import (
    CALLBACK_APP,
    CALLBACK_BOT,
    CALLBACK_MEMBER,
    REFUSALS,
    CallbackServer,
    callback_server,
    fuzz_settings,
    member_text,
)
from tests.wecom_client import (
    Callback,
    aibot_callback,
    aibot_text_payload,
    cdata,
    encrypted_callback,
    frame,
    pkcs7,
    seal_frame,
    sign,
    signed_envelope,
    text_message_xml,
    unix,
)

APP, BOT, MEMBER = CALLBACK_APP, CALLBACK_BOT, CALLBACK_MEMBER
# What XML 1.0 can carry: anything else in a message makes the plaintext not well-formed.
XML_CHAR = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as running:
        yield running


@pytest.fixture(scope="module")
def server(
    runner: asyncio.Runner, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CallbackServer]:
    """On SQLite: what is refused never reaches the database, whichever it is."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'lvzhi.db'}"
    with callback_server(runner, url) as running:
        yield running


@pytest.fixture(scope="module")
def pg_server(runner: asyncio.Runner) -> Iterator[CallbackServer]:
    url = runner.run(create_pg_database())
    try:
        with callback_server(runner, url) as running:
            yield running
    finally:
        runner.run(drop_pg_database(url))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=requires_postgres)]
)
def storing_server(request: pytest.FixtureRequest) -> CallbackServer:
    """Both backends, for what is stored: they do not refuse the same text."""
    return request.getfixturevalue("server" if request.param == "sqlite" else "pg_server")


def now() -> datetime:
    return datetime.now(UTC)


def unique_id() -> str:
    return secrets.token_hex(8)


# -- unauthenticated: refused, nothing stored ------------------------------------------------

query_value = st.one_of(st.text(max_size=60), st.sampled_from(["", "0" * 40, "1700000000"]))
queries = st.fixed_dictionaries(
    {},
    optional={"msg_signature": query_value, "timestamp": query_value, "nonce": query_value},
)


@fuzz_settings(30)
@given(body=st.binary(max_size=4096), query=queries, path=st.sampled_from([APP.path, BOT.path]))
def test_random_bytes_are_refused(
    server: CallbackServer, body: bytes, query: dict[str, str], path: str
) -> None:
    server.refused_and_nothing_stored(Callback("POST", query, body), path)


def _element(name: st.SearchStrategy[str], children: st.SearchStrategy[str]) -> Any:
    return st.builds(lambda n, inner: f"<{n}>{inner}</{n}>", name, children)


tag = st.sampled_from(["xml", "Encrypt", "ToUserName", "AgentID", "a", "x:y", "Encrypt "])
text_node = st.one_of(
    st.text(max_size=30),
    st.builds(cdata, st.text(max_size=30)),
    st.sampled_from(["&amp;", "&lt;", "&#0;", "&#x1F600;", "&lol;", "&xxe;", "]]>", "<![CDATA["]),
)
xml_trees = st.recursive(
    text_node, lambda inner: _element(tag, st.lists(inner, max_size=4).map("".join)), max_leaves=30
)
DECLARATIONS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>',
    '<!doctype x [<!entity % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]>',
    "<!ENTITY a 'b'>",
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<?xml-stylesheet href="http://127.0.0.1:1/x"?>',
    "\ufeff",
)


@st.composite
def hostile_xml(draw: st.DrawFn) -> str:
    """An XML-ish body: a random tree, deep nesting, or a huge or empty field, maybe behind a
    DTD or processing instruction."""
    shape = draw(st.sampled_from(["tree", "deep", "huge", "empty", "many"]))
    if shape == "tree":
        body = draw(xml_trees)
    elif shape == "deep":
        depth = draw(st.integers(1, 20_000))
        body = "<xml>" + "<a>" * depth + "x" + "</a>" * draw(st.integers(0, depth)) + "</xml>"
    elif shape == "huge":
        size = draw(st.integers(0, 250_000))
        body = f"<xml><Encrypt>{'A' * size}</Encrypt><ToUserName>{'b' * size}</ToUserName></xml>"
    elif shape == "empty":
        body = draw(st.sampled_from(["<xml/>", "<xml></xml>", "<xml><Encrypt/></xml>", ""]))
    else:
        body = "<xml>" + "<Encrypt>QUFB</Encrypt>" * draw(st.integers(2, 2000)) + "</xml>"
    prefix = draw(st.one_of(st.just(""), st.sampled_from(DECLARATIONS)))
    return prefix + body


@fuzz_settings(30, deadline_seconds=5.0)
@given(document=hostile_xml())
def test_malformed_xml_is_refused(server: CallbackServer, document: str) -> None:
    # Signed over whatever Encrypt the body may seem to hold (the signature is not the hurdle
    # here); the body itself is what the parser must survive.
    ts = unix(now())
    query = {"msg_signature": sign(APP.token, ts, "1", "QUFB"), "timestamp": ts, "nonce": "1"}
    callback = Callback("POST", query, document.encode("utf-8", "surrogatepass"))
    server.refused_and_nothing_stored(callback)


base64ish = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789+/=-_ \n\t.%"),
    max_size=300,
)


@fuzz_settings(30)
@given(encrypted=st.one_of(base64ish, st.text(max_size=100)))
def test_invalid_base64_and_padding_are_refused(server: CallbackServer, encrypted: str) -> None:
    assume(encrypted.strip())
    callback = signed_envelope(APP, encrypted.strip(), timestamp=now())
    server.refused_and_nothing_stored(callback)


@fuzz_settings(30)
@given(signature=st.text(max_size=50), nonce=st.text(min_size=1, max_size=20))
def test_a_valid_message_with_a_forged_signature_is_refused(
    server: CallbackServer, signature: str, nonce: str
) -> None:
    xml = text_message_xml(
        APP, sender=MEMBER, content="帮助", msg_id=unique_id(), create_time=now()
    )
    genuine = encrypted_callback(APP, xml, timestamp=now())
    assume(signature != genuine.query["msg_signature"])
    forged = genuine.with_query(msg_signature=signature)
    server.refused_and_nothing_stored(forged)
    server.refused_and_nothing_stored(genuine.with_query(nonce=nonce + "x"))


# -- frames that decrypt with the right key --------------------------------------------------


def help_message_xml() -> bytes:
    xml = text_message_xml(APP, sender=MEMBER, content="帮助", msg_id=1, create_time=now())
    return xml.encode()


@st.composite
def hostile_frames(draw: st.DrawFn) -> tuple[bytes, str]:
    """A plaintext frame with a lying length, the wrong receive id, or bad padding — and what
    the edge must do with it: ``accept`` (an honest frame around a real message), ``refuse``
    (the receive id is not ours and the length does not lie: whatever else, never accepted),
    or ``either`` (a lying length or odd padding: refused or, by chance, a valid frame)."""
    honest_message = draw(st.booleans())
    message = (
        help_message_xml()
        if honest_message
        else draw(
            st.one_of(
                st.binary(max_size=200),
                hostile_xml().map(lambda x: x.encode("utf-8", "surrogatepass")),
            )
        )
    )
    ours = APP.corp_id.encode()
    receive_id = draw(st.sampled_from([ours, ours, b"", b"wwother", ours[:-1]]))
    length = draw(
        st.sampled_from([None, None, "any", "message and id"]).flatmap(
            lambda kind: st.integers(0, 2**32 - 1) if kind == "any" else st.just(kind)
        )
    )
    if length == "message and id":
        length = len(message) + len(receive_id)
    prefix = draw(
        st.sampled_from([None, None, None, "other size"]).flatmap(
            lambda kind: (
                st.binary(max_size=20).filter(lambda b: len(b) != 16) if kind else st.none()
            )
        )
    )
    raw = frame(message, receive_id, length=length, prefix=prefix)
    padding = draw(st.sampled_from(["pkcs7-32", "pkcs7-32", "pkcs7-16", "none", "zeros", "big"]))
    if padding == "pkcs7-32":
        plaintext = pkcs7(raw, 32)
    elif padding == "pkcs7-16":
        plaintext = pkcs7(raw, 16)
    elif padding == "big":
        plaintext = raw + bytes([200]) * (16 - len(raw) % 16)
    else:
        filler = b"\0" if padding == "zeros" else b"\x01"
        plaintext = raw + filler * ((16 - len(raw) % 16) % 16)
    honest_frame = prefix is None and length is None and padding.startswith("pkcs7")
    if honest_frame and receive_id == ours and honest_message:
        return plaintext, "accept"
    if length is None and receive_id != ours:
        return plaintext, "refuse"
    return plaintext, "either"


@fuzz_settings(30)
@given(case=hostile_frames())
@example(case=(pkcs7(frame(help_message_xml(), APP.corp_id.encode())), "accept"))
@example(case=(pkcs7(frame(help_message_xml(), b"wwother")), "refuse"))
def test_malformed_frames_reach_the_inner_checks_safely(
    server: CallbackServer, case: tuple[bytes, str]
) -> None:
    plaintext, verdict = case
    callback = signed_envelope(APP, seal_frame(plaintext, APP.encoding_aes_key), timestamp=now())
    before = server.counts()
    status = server.send(callback)
    assert status in REFUSALS | {200}, f"answered {status}"
    if verdict == "accept":
        assert status == 200, "an honest frame was refused"
    elif verdict == "refuse":
        assert status != 200, "a frame for another receive id was accepted"
    if status != 200:
        assert server.counts() == before


# -- signed and encrypted: any text is stored once -------------------------------------------


def xml_text_survives(text: str) -> bool:
    return bool(XML_CHAR.fullmatch(text)) and not DECLARATION.search(text)


@fuzz_settings(30)
@given(text=member_text())
def test_any_text_in_a_signed_app_message(storing_server: CallbackServer, text: str) -> None:
    """Text XML can carry is accepted and stored once, however odd; text it cannot carry
    (control characters, lone surrogates) makes a plaintext no honest sender produces, and
    is refused without storing anything."""
    key = unique_id()
    try:
        xml = text_message_xml(APP, sender=MEMBER, content=text, msg_id=key, create_time=now())
        callback = encrypted_callback(APP, xml, timestamp=now())
    except UnicodeEncodeError:  # wechatpy cannot encrypt a lone surrogate: seal it ourselves
        raw = frame(xml.encode("utf-8", "surrogatepass"), APP.corp_id.encode())
        callback = signed_envelope(
            APP, seal_frame(pkcs7(raw), APP.encoding_aes_key), timestamp=now()
        )
    if xml_text_survives(text):
        assert storing_server.send(callback) == 200
        assert storing_server.send(callback) == 200  # WeCom's retry
        [row] = storing_server.stored(f"app:{APP.agent_id}:{MEMBER}:{key}")
        assert row.sender == MEMBER
    else:
        storing_server.refused_and_nothing_stored(callback)


@fuzz_settings(30)
@given(text=member_text(), ascii_escapes=st.booleans(), in_group=st.booleans())
# Found by this test: PostgreSQL refuses NUL in text, and no UTF-8 encoder takes a lone
# surrogate; both made storing fail (a 500 that WeCom retried in vain).
@example(text="打卡\x00读书", ascii_escapes=True, in_group=False)
@example(text="\ud800帮助", ascii_escapes=True, in_group=True)
def test_any_text_in_a_signed_aibot_message(
    storing_server: CallbackServer, text: str, ascii_escapes: bool, in_group: bool
) -> None:
    """JSON carries anything — NUL, control characters, and (as ``\\ud800`` escapes) lone
    surrogates: a message the AI bot's callback decrypts is accepted and stored once."""
    key = unique_id()
    payload = aibot_text_payload(
        BOT, sender=MEMBER, content=text, msg_id=key, chat_id="wrgroup" if in_group else None
    )
    plaintext = json.dumps(payload, ensure_ascii=ascii_escapes)
    try:
        callback = aibot_callback(BOT, plaintext, timestamp=now())
    except UnicodeEncodeError:
        assume(False)  # not JSON text WeCom could send (UTF-8 cannot hold a lone surrogate)
    assert storing_server.send(callback, BOT.path) == 200
    assert storing_server.send(callback, BOT.path) == 200
    [row] = storing_server.stored(f"aibot:{BOT.aibot_id}:{key}")
    assert row.sender == MEMBER


def test_the_fuzz_server_really_accepts_a_plain_message(storing_server: CallbackServer) -> None:
    """The oracle's baseline: an ordinary message gets 200 and one row."""
    key = unique_id()
    xml = text_message_xml(APP, sender=MEMBER, content="帮助", msg_id=key, create_time=now())
    assert storing_server.send(encrypted_callback(APP, xml, timestamp=now())) == 200
    assert len(storing_server.stored(f"app:{APP.agent_id}:{MEMBER}:{key}")) == 1
