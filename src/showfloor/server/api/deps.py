"""Request dependencies: the database, the settings, the authenticated principal, the call source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.accounts.service import Principal, authenticate
from showfloor.server.api.ratelimit import RateLimiter
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.errors import Unauthorized
from showfloor.server.logging import account_id_var, key_prefix_var

CALL_SOURCES = ("api", "agent")


# Dependencies are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a worker
# thread, a hop that cost more CPU than most of them do (measured on the request path).
async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def bearer_key(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("Missing API key")
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Malformed Authorization header; expected 'Bearer <key>'")
    return key.strip()


async def _admit(request: Request, authorization: str | None) -> str:
    """Checks before any database work: the per-IP rate limit and the header's shape (401)."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is not None:
        await limiter.check_ip(request.client.host if request.client else "unknown")
    return bearer_key(authorization)


async def _admitted(request: Request, response: Response, principal: Principal) -> Principal:
    account_id_var.set(principal.account_id)
    key_prefix_var.set(principal.key_prefix)
    request.state.principal = principal
    if principal.api_key_id is not None:
        request.app.state.key_use.note(principal.api_key_id)  # memory only; written once a minute
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is not None:
        verdict = await limiter.check_key(principal.key_prefix)
        response.headers.update(verdict.headers())
    return principal


async def current_principal(
    request: Request,
    response: Response,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The caller of a paid route, authenticated in a read unit of its own (the route's work runs in a
    write unit)."""
    key = await _admit(request, authorization)
    db: Database = request.app.state.db
    async with db.read() as session:
        principal = await authenticate(session, key)
    return await _admitted(request, response, principal)


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The read unit of a read route: the key is looked up in it too, so a request is one unit, not
    two. Closed when the route function returns, before the response is sent (``scope="function"``).
    The session connects lazily: a request refused before its first query takes no connection."""
    db: Database = request.app.state.db
    async with db.read() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]


async def write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The write unit of a write route that is not a paid action (those go through ``run_paid``):
    committed when the route function returns, before the response is sent."""
    db: Database = request.app.state.db
    async with db.write() as session:
        yield session


WriteSession = Annotated[AsyncSession, Depends(write_session, scope="function")]


async def read_principal(
    request: Request,
    response: Response,
    session: ReadSession,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The caller of a read route, authenticated inside the route's own read unit."""
    key = await _admit(request, authorization)
    return await _admitted(request, response, await authenticate(session, key))


async def call_source(x_call_source: Annotated[str | None, Header()] = None) -> str:
    """``x-call-source``: ``api`` or ``agent``; anything else or missing counts as ``api``."""
    value = (x_call_source or "").strip().lower()
    return value if value in CALL_SOURCES else "api"


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
ReadPrincipal = Annotated[Principal, Depends(read_principal)]
DB = Annotated[Database, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CallSource = Annotated[str, Depends(call_source)]
