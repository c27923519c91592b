"""WeCom callback crypto: signatures, AES envelopes, and XML that cannot hurt us.

The scheme (developer.work.weixin.qq.com, 加解密方案) is shared by the self-built app callback
(receive id = the corp id) and the AI bot callback (receive id = ""):

- signature: hex sha1 of token, timestamp, nonce and the encrypted text, sorted and joined;
- ciphertext: base64 of AES-256-CBC (key = EncodingAESKey decoded, IV = key[:16]) over
  16 random bytes + 4-byte big-endian length + message + receive id, PKCS#7-padded to 32.

wechatpy does the AES and the sending side, but two of its habits are not good enough for the
receiving side of a public endpoint, so this module replaces them:

- it compares signatures with ``!=``, which leaks timing; we use :func:`hmac.compare_digest`;
- its unpacking trusts the padding byte and the length field, so a truncated plaintext keeps
  an empty trailing receive id and passes the AI bot's check (receive id ""); we check both.

XML is parsed only by :func:`parse_xml`: a DOCTYPE or ENTITY declaration anywhere is refused
before parsing (XXE, billion laughs), and expat runs with every DTD feature switched off as a
second line of defence.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NoReturn
from xml.parsers import expat

import xmltodict
from wechatpy.enterprise.crypto import PrpCrypto

from bot.config import decode_aes_key


class CallbackRejected(Exception):
    """A callback we refuse; ``status`` is the HTTP answer, the message says why (for logs)."""

    status: ClassVar[int] = 400
    public: ClassVar[str] = "bad request"  # the answer's body: short, and nothing to learn from


class Forbidden(CallbackRejected):
    """Not provably from WeCom (or not provably fresh): 403."""

    status = 403
    public = "forbidden"


class InvalidSignature(Forbidden):
    pass


class StaleTimestamp(Forbidden):
    public = "forbidden: stale timestamp"  # tells an operator to look at the server's clock


class DecryptionFailed(Forbidden):
    """Bad base64, a ciphertext of the wrong length, bad padding, or a wrong receive id."""


class MalformedXml(CallbackRejected):
    """Not well-formed XML, not UTF-8, or not the ``<xml>`` document WeCom sends: 400."""


class UnsafeXml(MalformedXml):
    """A DOCTYPE or ENTITY declaration: refused before any parser sees it."""


_BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16 (wechatpy's PKCS7Encoder agrees)
_RANDOM_PREFIX = 16
_LENGTH_FIELD = 4


class CallbackCrypto:
    """Signature check and AES envelope of one callback (one app, or the AI bot)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if not token:
            raise ValueError("a callback token is required")
        self._token = token.encode("utf-8")
        self.receive_id = receive_id
        # Lenient decoding of published keys, and the 32-byte check: bot.config's rules.
        self._prp = PrpCrypto(decode_aes_key(encoding_aes_key))

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        parts = sorted([self._token, _utf8(timestamp), _utf8(nonce), _utf8(encrypted)])
        return hashlib.sha1(b"".join(parts)).hexdigest()

    def check_signature(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = self.sign(timestamp, nonce, encrypted).encode("ascii")
        # Constant time: an attacker must not learn how many leading characters were right.
        if not signature or not hmac.compare_digest(expected, _utf8(signature.lower())):
            raise InvalidSignature("invalid signature")

    def verify_url(self, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The URL check (GET): the decrypted ``echostr``, to be answered as it is."""
        return self.decrypt(signature, timestamp, nonce, echostr)

    def decrypt(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        """Verify the signature, then open the envelope; the message as text."""
        self.check_signature(signature, timestamp, nonce, encrypted)
        return self._open(encrypted)

    def encrypt(self, plaintext: str, nonce: str, timestamp: str) -> tuple[str, str]:
        """Seal ``plaintext`` as WeCom would: (encrypted, signature). For tests and the fake."""
        encrypted = self._prp.encrypt(plaintext, self.receive_id).decode("ascii")
        return encrypted, self.sign(timestamp, nonce, encrypted)

    def _open(self, encrypted: str) -> str:
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionFailed("ciphertext is not base64") from None
        if not raw or len(raw) % 16:
            raise DecryptionFailed("ciphertext is not a whole number of AES blocks")
        try:
            plain = self._prp.cipher.decrypt(raw)
        except Exception as exc:  # the cryptography backend's own complaint, whatever it is
            raise DecryptionFailed(f"AES failed: {type(exc).__name__}") from None
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise DecryptionFailed("bad padding (wrong key?)")
        body = plain[_RANDOM_PREFIX:-pad]
        if len(body) < _LENGTH_FIELD:
            raise DecryptionFailed("plaintext too short")
        length = int.from_bytes(body[:_LENGTH_FIELD], "big")
        if length > len(body) - _LENGTH_FIELD:
            raise DecryptionFailed("length field runs past the plaintext")
        message = body[_LENGTH_FIELD : _LENGTH_FIELD + length]
        receive_id = body[_LENGTH_FIELD + length :]
        # wechatpy raises InvalidCorpIdException here, which is not an InvalidSignatureException:
        # code catching only the latter let wrong-corp messages through. Ours is a Forbidden.
        if receive_id != self.receive_id.encode("utf-8"):
            raise DecryptionFailed("wrong receive id (another corp, or the wrong key)")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionFailed("plaintext is not UTF-8") from None


def check_freshness(timestamp: str, now: datetime, max_skew: timedelta) -> None:
    """Refuse a timestamp (Unix seconds, signed with the message) too far from ``now``.

    Retries of one message are deduplicated anyway; this bounds how long a captured callback
    stays replayable (for instance after old inbound rows are pruned).
    """
    try:
        sent = datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError, OSError):
        raise StaleTimestamp("timestamp is not Unix seconds") from None
    skew = abs(now - sent)
    if skew > max_skew:
        raise StaleTimestamp(f"stale timestamp: {int(skew.total_seconds())} s from our clock")


# ``<!DOCTYPE`` opens every DTD (and so every entity); ``<!ENTITY`` is checked too in case a
# parser ever accepts a fragment. Refused anywhere, even inside CDATA: a member who types
# "<!DOCTYPE" is rarer than a parser bug, and the rule stays trivially correct.
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(document: str | bytes, *, root: str = "xml") -> dict[str, Any]:
    """Parse a WeCom XML document into the dict under its ``root`` element.

    Element text becomes ``str`` (an empty element ``None``), children nested dicts, repeated
    children lists; attributes are dropped (WeCom uses none).
    """
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MalformedXml("not UTF-8") from None
    if _DECLARATION.search(document):
        raise UnsafeXml("DOCTYPE or ENTITY declaration")
    try:
        parsed = xmltodict.parse(document, expat=_DefusedExpat, xml_attribs=False)
    except UnsafeXml:
        raise
    except Exception as exc:  # ExpatError and whatever a hostile document can provoke
        raise MalformedXml(f"not well-formed XML: {type(exc).__name__}") from None
    if not isinstance(parsed, dict) or set(parsed) != {root}:
        raise MalformedXml(f"root element is not <{root}>")
    content = parsed[root]
    if not isinstance(content, dict):
        raise MalformedXml(f"<{root}> has no fields")
    return content


def _refuse_dtd(*_: Any) -> NoReturn:
    raise UnsafeXml("DTD feature in XML")


class _DefusedExpat:
    """What xmltodict needs of ``pyexpat``, with every DTD feature refused (defence in depth:
    the text check above should already have caught them)."""

    @staticmethod
    def ParserCreate(  # pyexpat's name: xmltodict calls it
        encoding: str | None = None, namespace_separator: str | None = None
    ) -> Any:
        parser = expat.ParserCreate(encoding, namespace_separator)
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = _refuse_dtd
        parser.EntityDeclHandler = _refuse_dtd
        parser.UnparsedEntityDeclHandler = _refuse_dtd
        parser.ExternalEntityRefHandler = _refuse_dtd
        return parser


def _utf8(value: str) -> bytes:
    # Query strings can carry anything, lone surrogates included: never let encoding raise.
    return value.encode("utf-8", "replace")
