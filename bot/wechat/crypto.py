"""The Official Account's callback envelope in its three modes (消息加解密方式).

- **plain** (明文): the query carries ``signature`` = hex sha1 of token, timestamp and nonce,
  sorted and joined (what wechatpy's ``check_signature`` computes); the body is the message
  XML itself. The signature does not cover the body, which is why safe mode exists.
- **compatible** (兼容): the body holds the plain fields *and* ``<Encrypt>``, the query adds
  ``encrypt_type=aes`` and ``msg_signature``. We read only the encrypted part (the plain copy
  is unauthenticated), and a request without it is refused: a plain body is signed by nothing,
  so accepting one would make the mode as weak as plain.
- **safe** (安全): only ``<Encrypt>``; anything else is refused.

In every mode the endpoint also refuses a nonce seen within the freshness window with another
request (:attr:`bot.wecom.callback.CallbackEndpoint.nonce_window`): in plain mode the
signature covers only timestamp and nonce, so without that a signature seen once could carry
any body for hours. Plain mode stays unauthenticated all the same (anyone who sees one signed
request can send *one* body of their own before WeChat's own request arrives); the server says
so at start-up.

The encrypted part is WeCom's scheme with the appid as receive id (``wechatpy.crypto.
WeChatCrypto(token, key, appid)`` on the sending side), so :class:`CallbackCrypto` opens it,
with its constant-time signature check and strict padding and receive-id checks. The plain
signature is compared in constant time too (wechatpy compares with ``!=``).

The URL check (GET ``signature, timestamp, nonce, echostr``) is plain in every mode: the
answer is ``echostr`` as it came.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from bot.wecom.callback import Opened, SignedQuery, xml_envelope
from bot.wecom.crypto import CallbackCrypto, Forbidden, InvalidSignature, MalformedXml

MODES = ("plain", "compatible", "safe")


def plain_signature(token: str, timestamp: str, nonce: str) -> str:
    """sha1 of the sorted token, timestamp and nonce (the Official Account's ``signature``)."""
    parts = sorted(v.encode("utf-8", "replace") for v in (token, timestamp, nonce))
    return hashlib.sha1(b"".join(parts)).hexdigest()


class OfficialAccountEnvelope:
    """Implements :class:`bot.wecom.callback.Envelope` for one Official Account."""

    def __init__(self, mode: str, token: str, crypto: CallbackCrypto | None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if mode != "plain" and crypto is None:
            raise ValueError(f"{mode} mode needs the EncodingAESKey")
        self.mode = mode
        self._token = token
        self.crypto = crypto

    def url_check(self, query: Mapping[str, str]) -> tuple[str, str]:
        signed = self._check_plain(query)
        echostr = query.get("echostr", "")
        if not echostr:
            raise Forbidden("missing echostr")
        return echostr, signed.timestamp

    def open(self, query: Mapping[str, str], body: bytes) -> Opened:
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if self.mode != "plain" and not encrypted:
            raise Forbidden(f"{self.mode} mode: the message is not encrypted")
        if encrypted and self.crypto is not None and self.mode != "plain":
            signed = SignedQuery.of(query)
            plaintext = self.crypto.decrypt(
                signed.signature, signed.timestamp, signed.nonce, xml_envelope(body)
            )
            return Opened(plaintext, signed.timestamp, signed.nonce, encrypted=True)
        signed = self._check_plain(query)
        try:
            plaintext = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MalformedXml("not UTF-8") from None
        return Opened(plaintext, signed.timestamp, signed.nonce, encrypted=False)

    def _check_plain(self, query: Mapping[str, str]) -> SignedQuery:
        signed = SignedQuery.of(query, "signature")
        expected = plain_signature(self._token, signed.timestamp, signed.nonce).encode("ascii")
        given = signed.signature.lower().encode("utf-8", "replace")
        if not hmac.compare_digest(expected, given):
            raise InvalidSignature("invalid signature")
        return signed
