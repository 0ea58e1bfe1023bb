"""Accounts and API keys: creation, revocation, listing, and authentication of a bearer key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.accounts.keys import generate_key, hash_key, is_well_formed, key_prefix, same_hash
from showfloor.server.db.prepared import PreparedQuery, Row
from showfloor.server.errors import NotFound, Unauthorized
from showfloor.server.models import Account, ApiKey


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account and the API key it used (None: a person signed in to the console)."""

    account_id: int
    api_key_id: int | None
    key_prefix: str
    unlimited: bool
    plan_id: int | None
    # The key may spend only through the MCP server (its paid REST routes answer 403; docs/agents.md).
    mcp_only: bool = False


@dataclass(frozen=True)
class IssuedKey:
    id: int
    account_id: int
    key: str  # shown once, never stored
    prefix: str


async def create_account(session: AsyncSession, name: str, *, unlimited: bool = False) -> Account:
    account = Account(name=name, unlimited=unlimited, created_at=utcnow())
    session.add(account)
    await session.flush()
    return account


async def get_account(session: AsyncSession, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound(f"Account {account_id} not found")
    return account


async def list_accounts(session: AsyncSession) -> list[Account]:
    return list((await session.scalars(select(Account).order_by(Account.id))).all())


async def set_unlimited(session: AsyncSession, account_id: int, unlimited: bool) -> Account:
    account = await get_account(session, account_id)
    account.unlimited = unlimited
    return account


async def create_key(
    session: AsyncSession, account_id: int, *, name: str | None = None, kind: str = "sk"
) -> IssuedKey:
    await get_account(session, account_id)
    key = generate_key(kind)
    row = ApiKey(
        account_id=account_id, prefix=key_prefix(key), key_hash=hash_key(key), name=name, created_at=utcnow()
    )
    session.add(row)
    await session.flush()
    return IssuedKey(id=row.id, account_id=account_id, key=key, prefix=row.prefix)


async def revoke_key(
    session: AsyncSession,
    *,
    key_id: int | None = None,
    prefix: str | None = None,
    account_id: int | None = None,
) -> ApiKey:
    """Revoke a key by id or prefix; with ``account_id``, another account's key is NotFound."""
    stmt = select(ApiKey)
    stmt = stmt.where(ApiKey.id == key_id) if key_id is not None else stmt.where(ApiKey.prefix == prefix)
    if account_id is not None:
        stmt = stmt.where(ApiKey.account_id == account_id)
    row = (await session.scalars(stmt)).first()
    if row is None:
        raise NotFound("API key not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


async def list_keys(session: AsyncSession, account_id: int | None = None) -> list[ApiKey]:
    stmt = select(ApiKey).order_by(ApiKey.id)
    if account_id is not None:
        stmt = stmt.where(ApiKey.account_id == account_id)
    return list((await session.scalars(stmt)).all())


# Every authenticated request runs it: a prepared query (db/prepared.py).
_KEY_LOOKUP = PreparedQuery(
    select(
        ApiKey.id.label("key_id"),
        ApiKey.key_hash,
        ApiKey.prefix,
        ApiKey.revoked_at,
        ApiKey.mcp_only,
        Account.id.label("account_id"),
        Account.unlimited,
        Account.plan_id,
    )
    .join(Account, Account.id == ApiKey.account_id)
    .where(ApiKey.key_hash == bindparam("digest"))
)


async def authenticate(session: AsyncSession, key: str) -> Principal:
    """Resolve a bearer key to its principal, or raise ``Unauthorized`` (one message for every case)."""
    digest = _digest_or_refuse(key)
    return _principal_or_refuse(await _KEY_LOOKUP.first(session, {"digest": digest}), digest)


def _digest_or_refuse(key: str) -> str:
    if not is_well_formed(key):
        raise Unauthorized()
    return hash_key(key)


def _principal_or_refuse(row: Row | None, digest: str) -> Principal:
    if row is None or not same_hash(row["key_hash"], digest) or row["revoked_at"] is not None:
        raise Unauthorized()
    return Principal(
        account_id=row["account_id"],
        api_key_id=row["key_id"],
        key_prefix=row["prefix"],
        unlimited=row["unlimited"],
        plan_id=row["plan_id"],
        mcp_only=bool(row["mcp_only"]),
    )
