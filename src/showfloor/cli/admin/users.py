"""``showfloor admin users …``: people who sign in to the console, and their one-time links."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from showfloor.cli.admin._runtime import console, run_with_db
from showfloor.server.config import Settings
from showfloor.server.console import users as service
from showfloor.server.db.uow import Database

users_app = typer.Typer(
    help="Console users: create them and send one-time links to set a password.", no_args_is_help=True
)

BaseUrl = Annotated[
    str, typer.Option("--base-url", help="Where the console is served (the link points there).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def _print_link(link: service.IssuedLink, base_url: str, as_json: bool, what: str) -> None:
    url = link.url(base_url)
    if as_json:
        payload = {
            "userId": str(link.user_id),
            "account": str(link.account_id),
            "email": link.email,
            "link": url,
            "expiresAt": link.expires_at.isoformat(),
        }
        print(json.dumps(payload))
        return
    console.print(
        f"{what} for {link.email} (account {link.account_id}). One-time link, valid until "
        f"{link.expires_at:%Y-%m-%d %H:%M} UTC:"
    )
    print(url)


@users_app.command("create")
def users_create(
    account: Annotated[int, typer.Option("--account", help="Account id the person acts for.")],
    email: Annotated[str, typer.Option("--email", help="The person's email (their sign-in name).")],
    base_url: BaseUrl = DEFAULT_BASE_URL,
    as_json: JsonFlag = False,
) -> None:
    """Create a console user and print a one-time link to set their password (valid 24 hours)."""

    async def work(db: Database, _s: Settings) -> service.IssuedLink:
        now = datetime.now(UTC)
        async with db.write() as session:
            user = await service.create_user(session, account, email, now)
            return await service.issue_link(session, user, now)

    _print_link(run_with_db(work), base_url, as_json, "Created console user")


@users_app.command("reset-link")
def users_reset_link(
    email: Annotated[str, typer.Option("--email", help="The console user's email.")],
    base_url: BaseUrl = DEFAULT_BASE_URL,
    as_json: JsonFlag = False,
) -> None:
    """A new one-time link to set a forgotten password (older links stop working; 24 hours)."""

    async def work(db: Database, _s: Settings) -> service.IssuedLink:
        async with db.write() as session:
            return await service.reset_link(session, email, datetime.now(UTC))

    _print_link(run_with_db(work), base_url, as_json, "New sign-in link")
