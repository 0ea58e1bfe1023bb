"""One table from domain error code to HTTP status, and the reference's error body.

Body: ``{"code": <int>, "message": str, "errorKey": str, "traceId": str, "details"?: any}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from showfloor.server.db.engine import is_statement_timeout
from showfloor.server.errors import DomainError

log = logging.getLogger("showfloor.api")

STATUS_BY_CODE: dict[str, int] = {
    "INVALID_REQUEST": 400,
    "EVENT_NOT_UNLOCKED": 400,
    "VISITOR_DATA_NOT_AVAILABLE": 400,
    "NO_CONTACTS_AVAILABLE": 400,
    "INVALID_API_KEY": 401,
    "INSUFFICIENT_CREDITS": 402,
    "SPEND_CAP_EXCEEDED": 402,
    "NO_ACTIVE_SUBSCRIPTION": 403,
    "KEY_SCOPE_MCP_ONLY": 403,
    "SELF_APPROVAL_FORBIDDEN": 403,
    "QUOTE_OF_ANOTHER_KEY": 403,
    "APPROVAL_REQUIRED": 403,
    "QUOTE_EXPIRED": 409,
    "QUOTE_ALREADY_EXECUTED": 409,
    "QUOTE_REFUSED": 409,
    "QUOTE_REPRICED": 409,
    "ACTION_NOT_ALLOWED": 409,
    "NOT_FOUND": 404,
    "EVENT_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "STATE_CONFLICT": 409,
    "CREDIT_OPERATION_IN_PROGRESS": 409,
    "IDEMPOTENCY_KEY_IN_USE": 409,
    "UNLOCK_IN_PROGRESS": 409,
    "LEAD_SELECTION_LIMIT_EXCEEDED": 422,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "UNPROCESSABLE_ENTITY": 422,
    "PAYLOAD_TOO_LARGE": 413,
    "RATE_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}


def status_for(code: str) -> int:
    return STATUS_BY_CODE.get(code, 400)


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def error_body(status: int, code: str, message: str, trace_id: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": status, "message": message, "errorKey": code, "traceId": trace_id}
    if details is not None:
        body["details"] = details
    return body


def error_response(
    request: Request,
    code: str,
    message: str,
    details: Any = None,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    status = status or status_for(code)
    body = error_body(status, code, message, request_id_of(request), details)
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        details.append(
            {
                "field": ".".join(loc[1:]) or ".".join(loc),
                "in": loc[0] if loc else "",
                "message": err.get("msg", ""),
            }
        )
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return error_response(request, exc.code, exc.message, exc.details, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        first = details[0] if details else {"field": "", "message": "invalid"}
        message = (
            f"Invalid request: {first['field']}: {first['message']}" if first["field"] else "Invalid request"
        )
        return error_response(request, "INVALID_REQUEST", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 401: "INVALID_API_KEY"}.get(
            exc.status_code, "INVALID_REQUEST"
        )
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return error_response(request, code, message, status=exc.status_code, headers=headers)

    async def _infrastructure(request: Request, exc: Exception) -> JSONResponse:
        # Handled here rather than by the catch-all below, which Starlette re-raises after answering.
        if is_statement_timeout(exc):
            # The transaction rolled back with the statement: nothing it did (a charge) was kept.
            log.warning("database statement timed out", extra={"path": request.url.path})
            return error_response(
                request,
                "SERVICE_UNAVAILABLE",
                "The database took too long to answer; nothing was charged, retry shortly",
                headers={"Retry-After": "1"},
            )
        if is_database_unavailable(exc):
            log.warning("database unavailable", extra={"path": request.url.path, "error": type(exc).__name__})
            return error_response(
                request,
                "SERVICE_UNAVAILABLE",
                "Service temporarily unavailable; retry shortly",
                headers={"Retry-After": "1"},
            )
        log.exception("unhandled error", extra={"path": request.url.path})
        return error_response(request, "INTERNAL_ERROR", "Internal server error")

    for exc_class in (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError):
        app.add_exception_handler(exc_class, _infrastructure)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return error_response(request, "INTERNAL_ERROR", "Internal server error")


METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method the request's path answers. Starlette's own 405 names only the first route whose path
    matches, so a path served by several routes (GET and POST of one collection) would list one method."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    )


def is_database_unavailable(exc: BaseException) -> bool:
    """Connection-level database failures (server down, restarting, pool exhausted): retryable 503s."""
    if isinstance(exc, sa_exc.DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
        # 08xxx connection exceptions; 57P0x shutdown / cannot connect now; 53300 too many connections.
        return (
            bool(exc.connection_invalidated)
            or isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))
            or sqlstate.startswith(("08", "57P"))
            or sqlstate == "53300"
        )
    return isinstance(exc, (sa_exc.TimeoutError, ConnectionError, OSError))
