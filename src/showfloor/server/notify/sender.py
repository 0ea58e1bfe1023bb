"""One webhook attempt over HTTP. Nothing here touches the database: the worker calls ``send`` between
the claim's transaction and the result's, so no transaction is ever open while a receiver answers.

Every attempt: the target checked and pinned (``targets``), connect and read timeouts and a deadline
for the whole attempt, no redirects followed, no proxy from the environment (it would bypass the
address check), no connection reused (each attempt's TLS session is made for its own host name).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from datetime import datetime

import httpx

from showfloor import __version__
from showfloor.server.config import Settings
from showfloor.server.notify.signing import signed_headers
from showfloor.server.notify.targets import Resolver, UnsafeTarget, checked_address, system_resolver

USER_AGENT = f"Showfloor-Webhooks/{__version__}"
ERROR_SNIPPET = 200  # characters of a failed answer's body kept for the owner to read


@dataclass(frozen=True)
class Attempt:
    """One claimed delivery: everything the attempt needs, read in the claim's transaction."""

    delivery_id: int
    endpoint_id: int
    account_id: int
    attempt: int  # 1 for the first attempt; the record step's guard
    event_id: str  # evt_…, the webhook-id
    url: str
    body: bytes
    secrets: list[str]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None  # the receiver's HTTP status, when it answered
    error: str | None = None


class Sender:
    def __init__(
        self, settings: Settings, *, resolver: Resolver | None = None, verify: ssl.SSLContext | None = None
    ) -> None:
        """``resolver`` and ``verify`` (a trust store other than the system's) exist for tests."""
        self.allow_private = settings.webhook_allow_private
        self.resolver = resolver or system_resolver
        connect, read = settings.webhook_connect_timeout_seconds, settings.webhook_read_timeout_seconds
        # A receiver trickling bytes resets the read timeout on each one; the deadline bounds the whole.
        self.deadline = connect + read
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(read, connect=connect),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
            verify=verify if verify is not None else True,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, attempt: Attempt, at: datetime) -> Outcome:
        """One attempt, within the deadline (name resolution included); never raises for the receiver's
        failures, which are the outcome."""
        try:
            return await asyncio.wait_for(self._send(attempt, at), self.deadline)
        except TimeoutError:
            return Outcome(False, error=f"timed out after {self.deadline:g} s")
        except UnsafeTarget as exc:
            return Outcome(False, error=str(exc))
        except httpx.TimeoutException as exc:
            return Outcome(False, error=f"timed out ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"connection failed: {type(exc).__name__}: {exc}"[:500])

    async def _send(self, attempt: Attempt, at: datetime) -> Outcome:
        url = httpx.URL(attempt.url)
        host = url.raw_host.decode("ascii")  # an international name in its IDNA (ASCII) form
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await checked_address(host, port, allow_private=self.allow_private, resolver=self.resolver)
        headers = signed_headers(attempt.event_id, at, attempt.body, attempt.secrets)
        headers.update({"host": url.netloc.decode("ascii"), "user-agent": USER_AGENT})
        request = self._client.build_request(
            "POST",
            url.copy_with(host=address),
            content=attempt.body,
            headers=headers,
            # TLS: the certificate is checked against the host name, not the address we connect to.
            extensions={"sni_hostname": host} if url.scheme == "https" else {},
        )
        return await self._post(request)

    async def _post(self, request: httpx.Request) -> Outcome:
        response = await self._client.send(request, stream=True)
        try:
            status = response.status_code
            if 200 <= status < 300:
                return Outcome(True, status)
            if 300 <= status < 400:
                where = response.headers.get("location", "")
                return Outcome(
                    False, status, f"HTTP {status}: redirect not followed (Location: {where})"[:500]
                )
            snippet = await _first_text(response)
            return Outcome(False, status, f"HTTP {status}: {snippet}"[:500])
        finally:
            await response.aclose()


async def _first_text(response: httpx.Response) -> str:
    """The beginning of an error answer's body (never the whole of a large one)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= ERROR_SNIPPET * 4:
            break
    return b"".join(chunks).decode("utf-8", "replace")[:ERROR_SNIPPET].strip()
