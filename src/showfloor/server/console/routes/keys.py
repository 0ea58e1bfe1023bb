"""API keys: list (with last use), create (the secret shown once), name and revoke.

Extension point: spend caps and agent budgets per key belong on this page once they exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from showfloor.server.accounts import service as accounts
from showfloor.server.accounts.key_use import KeyUse
from showfloor.server.console.deps import CheckedUser, User
from showfloor.server.console.sessions import SignedIn
from showfloor.server.console.web import ConsoleRoute, read_form, redirect, render
from showfloor.server.db.uow import Database
from showfloor.server.errors import InvalidRequest

router = APIRouter(prefix="/console/keys", route_class=ConsoleRoute, include_in_schema=False)

KeyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_NAME = 200
NOTICES = {"revoked": "The key is revoked: requests with it are refused from now on."}


async def _page(
    request: Request, user: SignedIn, *, new_key: accounts.IssuedKey | None = None, notice: str | None = None
) -> Response:
    db: Database = request.app.state.db
    key_use: KeyUse = request.app.state.key_use
    await key_use.flush(db)  # this process's latest uses, so "last used" is current here
    async with db.read() as session:
        keys = await accounts.list_keys(session, user.account_id)
    context = {"active": "keys", "keys": list(reversed(keys)), "new_key": new_key, "notice": notice}
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
