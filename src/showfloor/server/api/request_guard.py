"""Pure-ASGI checks that run before routing, authentication work and JSON parsing.

* **Body size.** A body larger than ``max_body_bytes`` answers 413 ``PAYLOAD_TOO_LARGE``: at once when
  ``Content-Length`` says so, else as soon as the streamed (e.g. chunked) body passes the limit. The
  body is buffered here (never more than the limit) and handed on to the application unchanged.
* **Key before body.** A request to ``/external/*`` that carries a body but no well-formed
  ``Authorization: Bearer …`` header answers 401 without a byte of its body being read (FastAPI reads
  and parses a route's body before it runs the authentication dependency).
* **Storable text** (docs/compatibility.md, "Request limits and hostile input"). A NUL character or
  a lone UTF-16 surrogate in the path, the query string or a JSON/form body, or a JSON body that is not
  valid UTF-8, answers 400 ``INVALID_REQUEST``: PostgreSQL cannot store either character in ``text``
  (and the driver cannot even encode a surrogate), so such input would otherwise fail deep in a query
  as a 500. Invalid UTF-8 in the path or query is replaced by U+FFFD when it is decoded, and a valid
  UTF-8 JSON body can only carry these characters as ``\\u`` escapes (raw control characters are not
  JSON), which is why the body is parsed here only when it contains a ``\\u``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from showfloor.server.api.deps import bearer_key
from showfloor.server.api.errors import error_body
from showfloor.server.errors import Unauthorized
from showfloor.server.text import has_unstorable

_JSON_ESCAPE = b"\\u"
_ENCODED_NUL = b"%00"


def _unstorable_in_json(value: Any) -> bool:
    if isinstance(value, str):
        return has_unstorable(value)
    if isinstance(value, dict):
        return any(has_unstorable(k) or _unstorable_in_json(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable_in_json(v) for v in value)
    return False


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k: v for k, v in scope["headers"] if k in _HEADERS}
        if (
            "\x00" in scope["path"]
            or _ENCODED_NUL in scope["query_string"]
            or b"\x00" in scope["query_string"]
        ):
            await _refuse(scope, send, 400, "INVALID_REQUEST", _TEXT_MESSAGE)
            return
        length = _content_length(headers.get(b"content-length"))
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if not chunked and not length:
            await self.app(scope, receive, send)  # no body: nothing to read or check
            return
        if length is not None and length > self.max_body_bytes:
            await _refuse(scope, send, 413, "PAYLOAD_TOO_LARGE", self._too_large())
            return
        if scope["path"].startswith("/external/"):
            try:
                bearer_key((headers.get(b"authorization") or b"").decode("latin-1") or None)
            except Unauthorized as exc:
                await _refuse(scope, send, 401, exc.code, exc.message)
                return
        body = await self._read_body(receive)
        if body is None:
            await _refuse(scope, send, 413, "PAYLOAD_TOO_LARGE", self._too_large())
            return
        if _unstorable_in_body(body, headers.get(b"content-type", b"")):
            await _refuse(scope, send, 400, "INVALID_REQUEST", _TEXT_MESSAGE)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit (the rest is never read)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> str:
        return f"Request body too large; the limit is {self.max_body_bytes} bytes"


_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"authorization", b"content-type"})
_TEXT_MESSAGE = "Text must be valid UTF-8 without NUL characters or unpaired UTF-16 surrogates"


def _content_length(raw: bytes | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None  # the server rejects a malformed length before we ever see the request


def _unstorable_in_body(body: bytes, content_type: bytes) -> bool:
    content_type = content_type.lower()
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return _ENCODED_NUL in body or b"\x00" in body
    if not body.isascii():
        try:
            body.decode("utf-8")  # JSON is UTF-8 (RFC 8259); overlong forms and encoded surrogates are not
        except UnicodeDecodeError:
            return True
    if _JSON_ESCAPE not in body:
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False  # not JSON: the route answers its own 400
    return _unstorable_in_json(parsed)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect as usual

    return replay


async def _refuse(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    trace_id = str(scope.get("state", {}).get("request_id", ""))
    payload = json.dumps(error_body(status, code, message, trace_id)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))  # the unread rest of the body is not worth draining
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
