"""Running a paid request: ``Idempotency-Key`` handling, business-error envelopes, concurrency caps.

Usage in a router (one call, the use case is a function of the session)::

    @router.post("/things/{id}/buy", status_code=201)
    async def buy(id: str, paid: PaidContext, db: DB, settings: AppSettings) -> JSONResponse:
        return await run_paid(paid, db, settings, lambda s: service.buy(s, paid.caller, id))

``PaidContext`` (a FastAPI dependency) authenticates, reads ``x-call-source`` and the optional
``Idempotency-Key`` header and fingerprints the request. ``run_paid`` opens ONE write transaction for
the work and stores the final response in it (see ``showfloor.server.paid.idempotency``), replays a
stored response for a repeated key (header ``Idempotent-Replayed: true``), answers 422
``IDEMPOTENCY_KEY_REUSED`` / 409 ``IDEMPOTENCY_KEY_IN_USE``, and renders ``BusinessError`` as HTTP 200.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.accounts.service import Principal
from showfloor.server.agents.errors import McpOnlyKey
from showfloor.server.api.deps import CallSource, CurrentPrincipal
from showfloor.server.api.errors import error_body, request_id_of, status_for
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.paid import idempotency as idem
from showfloor.server.paid.concurrency import ConcurrencyLimit, concurrency_slot
from showfloor.server.paid.decision import Caller
from showfloor.server.paid.errors import BusinessError

# Errors worth retrying with the same key: the key is freed instead of storing them.
TRANSIENT_CODES = frozenset(
    {
        "CREDIT_OPERATION_IN_PROGRESS",
        "IDEMPOTENCY_KEY_IN_USE",
        "RATE_LIMIT_EXCEEDED",
        "SERVICE_UNAVAILABLE",
        "USER_CONCURRENCY_LIMIT_EXCEEDED",
    }
)

Work = Callable[[AsyncSession], Awaitable[Any]]


@dataclass(frozen=True)
class PaidRequest:
    principal: Principal
    call_source: str  # "api" | "agent"
    idempotency_key: str | None
    fingerprint: str
    trace_id: str
    response: Response  # carries headers set by dependencies (rate-limit headers)

    @property
    def caller(self) -> Caller:
        return Caller(
            self.principal.account_id, self.principal.api_key_id, self.call_source, self.principal.plan_id
        )


async def paid_request(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    source: CallSource,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> PaidRequest:
    if principal.mcp_only:
        raise McpOnlyKey()
    key = idem.validate_key(idempotency_key) if idempotency_key is not None else None
    fingerprint = ""  # compared only between requests that carry the same key
    if key is not None:
        body = await request.body()
        fingerprint = idem.fingerprint(
            request.method, request.url.path, request.url.query, body, principal.account_id
        )
    return PaidRequest(
        principal=principal,
        call_source=source,
        idempotency_key=key,
        fingerprint=fingerprint,
        trace_id=request_id_of(request),
        response=response,
    )


PaidContext = Annotated[PaidRequest, Depends(paid_request)]


_JSON_SCALARS = (str, int, float, bool, type(None))


def _is_json(value: Any) -> bool:
    if isinstance(value, _JSON_SCALARS):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    return False


def json_ready(body: Any) -> Any:
    """The body as JSON types: itself when it holds nothing else (what the use cases return), else
    FastAPI's encoder. ``jsonable_encoder`` alone was ~6 % of a paid search's CPU (py-spy), and it runs
    while the account row is locked."""
    return body if _is_json(body) else jsonable_encoder(body)


def _respond(paid: PaidRequest, status: int, body: Any, *, replayed: bool = False) -> JSONResponse:
    out = JSONResponse(body, status_code=status)
    for name, value in paid.response.headers.items():
        if name.lower() not in ("content-length", "content-type"):
            out.headers[name] = value
    if replayed:
        out.headers["Idempotent-Replayed"] = "true"
    return out


def _error(paid: PaidRequest, exc: DomainError) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, BusinessError):
        return 200, exc.body(paid.trace_id)
    status = status_for(exc.code)
    return status, error_body(status, exc.code, exc.message, paid.trace_id, exc.details)


async def run_paid(
    paid: PaidRequest,
    db: Database,
    settings: Settings,
    work: Work,
    *,
    status_code: int = 201,
    limit: ConcurrencyLimit | None = None,
) -> JSONResponse:
    """Run ``work`` in one write transaction under the request's idempotency key (if any)."""
    now = datetime.now(UTC)
    claim: idem.Claim | None = None
    if paid.idempotency_key is not None:
        ttl = timedelta(hours=settings.idempotency_ttl_hours)
        claim = await idem.claim(
            db, paid.principal.account_id, paid.idempotency_key, paid.fingerprint, now, ttl
        )
        if claim.is_replay:
            assert claim.replay_status is not None
            return _respond(paid, claim.replay_status, claim.replay_body, replayed=True)
    try:
        async with concurrency_slot(db, paid.principal.account_id, limit), db.write() as session:
            body = json_ready(await work(session))
            if claim is not None:
                await idem.complete(session, claim, status_code, body)
    except DomainError as exc:
        status, error = _error(paid, exc)
        if claim is not None:
            if exc.code in TRANSIENT_CODES or status >= 500:
                await idem.abandon(db, claim)
            else:
                await idem.finish(db, claim, status, error)
        return _respond(paid, status, error)
    except BaseException:
        if claim is not None:
            await idem.abandon(db, claim)
        raise
    return _respond(paid, status_code, body)
