"""Paid actions from the console go through the API's own paid-request path (``api.paid``):
the same use-case function as the API route, the same ``Idempotency-Key`` store and replay rules,
the same errors. The confirm form carries a key made when the form was drawn, so a double click (or
a resubmitted form) replays the first outcome instead of paying twice.

The request is fingerprinted as the API request it stands for (method, API path, JSON body), so a key
can never be reused for a different action, from the console or the API.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from showfloor.server.api.errors import request_id_of, status_for
from showfloor.server.api.paid import PaidRequest, Work, run_paid
from showfloor.server.config import Settings
from showfloor.server.console.sessions import SignedIn
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.paid import idempotency as idem
from showfloor.server.paid.decision import Caller

# Spending from the console counts as call source "api": the reference knows two sources, and a
# person clicking is not an agent. The ledger tells console spending apart by its missing API key.
CONSOLE_CALL_SOURCE = "api"


def new_idempotency_key() -> str:
    return f"console-{uuid.uuid4()}"


@dataclass(frozen=True)
class PaidOutcome:
    status: int
    body: dict[str, Any]
    replayed: bool

    @property
    def ok(self) -> bool:
        return self.status < 300 and "errorKey" not in self.body

    @property
    def error_code(self) -> str | None:
        return None if self.ok else str(self.body.get("errorKey") or "")

    @property
    def message(self) -> str:
        return str(self.body.get("message") or "")


async def run_console_paid(
    request: Request,
    user: SignedIn,
    *,
    api_path: str,
    body: dict[str, Any] | None,
    idempotency_key: str,
    work_for: Callable[[Caller], Work],
) -> PaidOutcome:
    """Run the use case ``work_for(caller)`` as the API route would, under ``idempotency_key``."""
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    key = idem.validate_key(idempotency_key)
    raw = json.dumps(body).encode() if body is not None else b""
    paid = PaidRequest(
        principal=user.principal,
        call_source=CONSOLE_CALL_SOURCE,
        idempotency_key=key,
        fingerprint=idem.fingerprint("POST", api_path, "", raw, user.account_id),
        trace_id=request_id_of(request),
        response=Response(),
    )
    try:
        response = await run_paid(paid, db, settings, work_for(paid.caller))
    except DomainError as exc:  # refused before the work ran (the key is in use, or reused)
        return PaidOutcome(status_for(exc.code), {"errorKey": exc.code, "message": exc.message}, False)
    return PaidOutcome(
        response.status_code,
        json.loads(bytes(response.body)),
        response.headers.get("Idempotent-Replayed") == "true",
    )
