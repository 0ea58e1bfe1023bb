"""Stored responses of ``Idempotency-Key`` requests.

Protocol (LEDGER.md "Idempotency"):

1. ``claim`` (its own short transaction) records the key as ``running`` with the request's fingerprint,
   or finds the earlier record: same fingerprint and done → replay its stored response; different
   fingerprint → 422 ``IDEMPOTENCY_KEY_REUSED``; still running → 409 ``IDEMPOTENCY_KEY_IN_USE``.
2. The use case runs in its own write transaction and ``complete`` stores the final response in that
   SAME transaction, so a charge can never be committed without the response that explains it. A crash
   before commit rolls both back; the key stays ``running`` until ``locked_until`` and is then taken over.
3. ``finish`` stores a final error response (its own transaction); ``abandon`` frees the key after a
   transient failure so the client's retry runs the request again.

Records live at least ``Settings.idempotency_ttl_hours`` (≥ 24 h); ``purge_expired`` deletes older ones.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.config import Settings
from showfloor.server.db.locking import for_update
from showfloor.server.db.uow import Database
from showfloor.server.errors import Conflict, DomainError, InvalidRequest
from showfloor.server.models import IdempotencyRecord

MAX_KEY_LENGTH = 255
# How long a running key is held before a retry may take it over (the first request is presumed dead:
# its transaction, and any charge in it, rolled back).
# Paid requests take well under a second; a short lease means that after a database outage a retry
# is not refused with 409 for long. A first request that outlives it cannot commit (``complete``).
RUNNING_LEASE = timedelta(seconds=15)


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used for a different request"


class IdempotencyKeyInUse(DomainError):
    code = "IDEMPOTENCY_KEY_IN_USE"
    default_message = "A request with this Idempotency-Key is still being processed; retry later"


@dataclass(frozen=True)
class Claim:
    """The outcome of ``claim``: either a stored response to replay or the right to run the request."""

    record_id: int
    owner_token: str
    replay_status: int | None = None
    replay_body: Any = None

    @property
    def is_replay(self) -> bool:
        return self.replay_status is not None


def fingerprint(method: str, path: str, query: str, body: bytes, account_id: int) -> str:
    """SHA-256 over what makes two requests "the same": method, path, query, JSON body (key order
    ignored), and the account."""
    if not body.strip():
        body = b"{}"  # no body and an empty object ask for the same thing (bodiless unlock POSTs)
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode(), str(account_id).encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters")
    return key


async def claim(
    db: Database, account_id: int, key: str, request_fingerprint: str, now: datetime, ttl: timedelta
) -> Claim:
    """Take the key for this request, or return the stored response to replay (see module docs)."""
    for _ in range(3):  # a concurrent first insert of the same key loses the race once, then reads it
        try:
            async with db.write() as session:
                return await _claim_in(session, account_id, key, request_fingerprint, now, ttl)
        except IntegrityError:
            continue
    raise IdempotencyKeyInUse()


async def _claim_in(
    session: AsyncSession, account_id: int, key: str, request_fingerprint: str, now: datetime, ttl: timedelta
) -> Claim:
    stmt = select(IdempotencyRecord).where(
        IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key
    )
    record = (await session.execute(for_update(session, stmt))).scalar_one_or_none()
    token = secrets.token_hex(16)
    if record is not None and record.expires_at <= now:
        await session.delete(record)
        await session.flush()
        record = None
    if record is None:
        record = IdempotencyRecord(
            account_id=account_id,
            key=key,
            fingerprint=request_fingerprint,
            state="running",
            owner_token=token,
            created_at=now,
            locked_until=now + RUNNING_LEASE,
            expires_at=now + ttl,
        )
        session.add(record)
        await session.flush()
        return Claim(record.id, token)
    if record.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused()
    if record.state == "done":
        assert record.status_code is not None
        return Claim(record.id, record.owner_token, record.status_code, record.response_body)
    if record.locked_until > now:
        raise IdempotencyKeyInUse()
    # The first request died without storing a response (its work rolled back): take the key over.
    record.owner_token = token
    record.locked_until = now + RUNNING_LEASE
    return Claim(record.id, token)


async def complete(session: AsyncSession, claim_: Claim, status_code: int, body: Any) -> None:
    """Store the final response inside the caller's transaction (the one that charged)."""
    result = await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == claim_.record_id,
            IdempotencyRecord.owner_token == claim_.owner_token,
            IdempotencyRecord.state == "running",
        )
        .values(state="done", status_code=status_code, response_body=body)
    )
    if getattr(result, "rowcount", 1) != 1:
        # Another request took the key over (we outlived the lease): refuse, rolling our work back.
        raise Conflict("The Idempotency-Key was taken over by a retry", code="IDEMPOTENCY_KEY_IN_USE")


async def finish(db: Database, claim_: Claim, status_code: int, body: Any) -> None:
    """Store a final response (an error) in its own transaction."""
    async with db.write() as session:
        await complete(session, claim_, status_code, body)


async def abandon(db: Database, claim_: Claim) -> None:
    """Free a running key after a transient failure so that a retry executes the request again."""
    async with db.write() as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.id == claim_.record_id,
                IdempotencyRecord.owner_token == claim_.owner_token,
                IdempotencyRecord.state == "running",
            )
        )


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete records past their retention; returns how many (for a periodic sweep)."""
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_idempotency_records(db: Database, settings: Settings) -> None:
    """The periodic purge of records past their retention."""
    async with db.write() as session:
        await purge_expired(session, datetime.now(UTC))
