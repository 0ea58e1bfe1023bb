"""``make demo``'s console sign-in: a console user for the demo account and a fresh one-time link."""

from __future__ import annotations

from datetime import UTC, datetime

from showfloor.server.console import users
from showfloor.server.db.uow import Database

DEMO_CONSOLE_EMAIL = "demo@showfloor.local"


async def demo_sign_in_link(db: Database, account_id: int) -> users.IssuedLink:
    """The demo account's console user (created once) and a new link; older links stop working."""
    now = datetime.now(UTC)
    async with db.write() as session:
        user = await users.user_by_email(session, DEMO_CONSOLE_EMAIL)
        if user is None:
            user = await users.create_user(session, account_id, DEMO_CONSOLE_EMAIL, now)
        return await users.issue_link(session, user, now)
