"""Our own OpenAPI document (served at ``/openapi.json``) must describe every endpoint accurately.

Routers declare their route-specific error statuses with ``error_responses(402, 404, …)``. This
module adds what holds for every route — the reference's error body for 400 (validation), 401 and
429 on ``/external/*``, 503 when the database is unreachable — and drops FastAPI's default 422
validation schema, which Showfloor never answers (validation errors are 400).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

ERROR_DESCRIPTIONS = {
    400: "Invalid request",
    401: "Missing or invalid API key",
    402: "Insufficient credits",
    403: "Forbidden",
    404: "Resource not found",
    409: "Conflict",
    413: "Request body too large",
    422: "Unprocessable request",
    429: "Rate limit exceeded",
    503: "Service temporarily unavailable",
}


class ApiError(BaseModel):
    """The reference's error envelope."""

    code: int = Field(description="HTTP status of the error.")
    message: str
    errorKey: str
    traceId: str
    details: Any | None = Field(default=None, description="Optional structured context.")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status answered with the reference's error body."""
    return {
        status: {"model": ApiError, "description": ERROR_DESCRIPTIONS.get(status, "Error")}
        for status in statuses
    }


def business_error_response() -> dict[int | str, dict[str, Any]]:
    """HTTP 200 carrying an error body (``USER_HAS_NO_FEATURE``, ``USER_CONCURRENCY_LIMIT_EXCEEDED``)."""
    return {
        200: {"model": ApiError, "description": "Business error: HTTP 200, the body's `code` and `errorKey`"}
    }


# ``Idempotency-Key`` (our addition, api/idempotency.py): what ``validate_key`` accepts, as a schema.
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": "^[\\x20-\\x7e]*[\\x21-\\x7e][\\x20-\\x7e]*$",
}
IDEMPOTENCY_ERRORS = {
    409: "Idempotency-Key in use by a request still running (IDEMPOTENCY_KEY_IN_USE)",
    422: "Idempotency-Key already used for a different request (IDEMPOTENCY_KEY_REUSED)",
}


def _document_idempotency_key(operation: dict[str, Any]) -> None:
    params = [p for p in operation.get("parameters", []) if p.get("in") == "header"]
    if not any(p.get("name") == "Idempotency-Key" for p in params):
        return
    for param in params:
        if param.get("name") == "Idempotency-Key":
            param["schema"] = dict(IDEMPOTENCY_KEY_SCHEMA)
    responses = operation.setdefault("responses", {})
    for status, description in IDEMPOTENCY_ERRORS.items():
        responses.setdefault(str(status), {"description": description, "content": _error_ref()})


def _error_ref() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault(
            "ApiError", ApiError.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        schema["components"]["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        for path, item in schema.get("paths", {}).items():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if _is_default_422(responses.get("422")):
                    del responses["422"]
                _document_idempotency_key(operation)
                extra = [400, 503]
                if "requestBody" in operation:
                    extra.append(413)  # api/request_guard.py
                if path.startswith("/external/"):
                    extra += [401, 429]
                    operation["security"] = [{"bearerAuth": []}]
                for status in extra:
                    responses.setdefault(
                        str(status), {"description": ERROR_DESCRIPTIONS[status], "content": _error_ref()}
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]


def _is_default_422(response: dict[str, Any] | None) -> bool:
    if not response:
        return False
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return str(ref).endswith("/HTTPValidationError")
