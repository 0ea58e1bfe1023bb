"""Console request dependencies: the signed-in person (or a redirect to sign in) and the CSRF check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from showfloor.server.config import Settings
from showfloor.server.console import sessions
from showfloor.server.console.sessions import SignedIn
from showfloor.server.console.tokens import same
from showfloor.server.console.web import SESSION_COOKIE, CsrfRefused, SignInRequired, read_form
from showfloor.server.db.uow import Database
from showfloor.server.logging import account_id_var, key_prefix_var

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"  # htmx requests (set once on <body hx-headers>)


async def signed_in(request: Request) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired()
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    now = datetime.now(UTC)
    async with db.read() as session:
        found = await sessions.resolve(session, token, settings, now)
    if found is None:
        raise SignInRequired()
    if found.touch_due:
        async with db.write() as session:
            await sessions.touch(session, found.signed_in.session_id, now)
    user = found.signed_in
    request.state.console_user = user
    account_id_var.set(user.account_id)
    key_prefix_var.set(sessions.CONSOLE_KEY_PREFIX)
    return user


async def signed_in_with_csrf(request: Request, user: Annotated[SignedIn, Depends(signed_in)]) -> SignedIn:
    """For every state-changing request: the session's CSRF token must come with it."""
    sent = request.headers.get(CSRF_HEADER) or (await read_form(request)).get(CSRF_FIELD)
    if not sent or not same(sent, user.csrf_token):
        raise CsrfRefused()
    return user


User = Annotated[SignedIn, Depends(signed_in)]
CheckedUser = Annotated[SignedIn, Depends(signed_in_with_csrf)]
