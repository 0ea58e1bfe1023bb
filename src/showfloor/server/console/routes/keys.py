"""API keys: list (with last use), create (the secret shown once), name and revoke; each key's agent
policy (daily agent budget, MCP-only scope) through ``agents.policy`` and its spend caps (per UTC day and
month) through ``ledger.spend_caps``: the services the admin CLI uses, where the rules live."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from showfloor.server.accounts import service as accounts
from showfloor.server.accounts.key_use import KeyUse
from showfloor.server.agents import policy
from showfloor.server.console.deps import CheckedUser, User
from showfloor.server.console.sessions import SignedIn
from showfloor.server.console.views import key_of_account
from showfloor.server.console.web import ConsoleRoute, read_form, redirect, render
from showfloor.server.db.uow import Database
from showfloor.server.errors import InvalidRequest
from showfloor.server.ledger import spend_caps

router = APIRouter(prefix="/console/keys", route_class=ConsoleRoute, include_in_schema=False)

KeyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_NAME = 200
MAX_CREDITS = 2_000_000_000  # the columns' range, far above any real budget
NOTICES = {
    "revoked": "The key is revoked: requests with it are refused from now on.",
    "policy": "The key's agent policy is saved; it applies to its next quote and request.",
    "caps": "The key's spend caps are saved; what it already spent this day and month counts.",
}


async def _page(
    request: Request, user: SignedIn, *, new_key: accounts.IssuedKey | None = None, notice: str | None = None
) -> Response:
    db: Database = request.app.state.db
    key_use: KeyUse = request.app.state.key_use
    await key_use.flush(db)  # this process's latest uses, so "last used" is current here
    async with db.read() as session:
        keys = await accounts.list_keys(session, user.account_id)
        caps = await spend_caps.caps_by_key(session, [key.id for key in keys])
    context = {
        "active": "keys",
        "keys": list(reversed(keys)),
        "caps": caps,
        "new_key": new_key,
        "notice": notice,
    }
    return render(request, "keys.html", context, 201 if new_key else 200)


@router.get("")
async def keys_page(
    request: Request, user: User, notice: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    return await _page(request, user, notice=NOTICES.get(notice))


@router.post("")
async def create_key(request: Request, user: CheckedUser) -> Response:
    name = (await read_form(request)).get("name").strip()
    if len(name) > MAX_NAME:
        raise InvalidRequest(f"A key name has at most {MAX_NAME} characters.")
    db: Database = request.app.state.db
    async with db.write() as session:
        issued = await accounts.create_key(session, user.account_id, name=name or None)
    return await _page(request, user, new_key=issued)


@router.post("/{key_id}/revoke")
async def revoke_key(request: Request, user: CheckedUser, key_id: KeyId) -> Response:
    db: Database = request.app.state.db
    async with db.write() as session:
        await accounts.revoke_key(session, key_id=key_id, account_id=user.account_id)
    return redirect(request, "/console/keys?notice=revoked")


def _credits_field(value: str, what: str) -> int | None:
    """A credits field of a form: empty is None (no limit); otherwise a whole number of credits."""
    text = value.strip().replace(",", "").replace("_", "")
    if not text:
        return None
    if not text.lstrip("-").isdigit() or len(text) > 12:
        raise InvalidRequest(f"The {what} must be a whole number of credits, or empty for none.")
    number = int(text)
    if number > MAX_CREDITS:
        raise InvalidRequest(f"The {what} is at most {MAX_CREDITS:,} credits.")
    return number


@router.post("/{key_id}/agent-policy")
async def set_agent_policy(request: Request, user: CheckedUser, key_id: KeyId) -> Response:
    form = await read_form(request)
    daily = _credits_field(form.get("agent_daily_budget"), "daily agent budget")
    mcp_only = form.get("mcp_only") == "on"
    db: Database = request.app.state.db
    async with db.write() as session:
        key = await key_of_account(session, user.account_id, key_id)
        if key.revoked_at is not None:
            raise InvalidRequest("The key is revoked: it has no policy to change.")
        await policy.set_agent_budget(session, key.id, daily)  # the rules (e.g. not negative) live there
        await policy.set_mcp_only(session, key.id, mcp_only)
    return redirect(request, f"/console/keys?notice=policy#key-{key_id}")


@router.post("/{key_id}/spend-caps")
async def set_spend_caps(request: Request, user: CheckedUser, key_id: KeyId) -> Response:
    form = await read_form(request)
    # The form shows both caps: an empty field means no cap, which set_caps spells 0.
    daily = _credits_field(form.get("daily_cap"), "daily cap") or 0
    monthly = _credits_field(form.get("monthly_cap"), "monthly cap") or 0
    db: Database = request.app.state.db
    async with db.write() as session:
        key = await key_of_account(session, user.account_id, key_id)
        if key.revoked_at is not None:
            raise InvalidRequest("The key is revoked: it has no caps to change.")
        await spend_caps.set_caps(session, key.id, datetime.now(UTC), daily=daily, monthly=monthly)
    return redirect(request, f"/console/keys?notice=caps#key-{key_id}")
