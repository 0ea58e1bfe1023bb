"""Customer commands (noun-verb). They use only the client SDK, never the server package."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from showfloor.cli.commands import (
        contacts,
        credits,
        events,
        exhibitors,
        personnel,
        quote,
        quotes,
        search,
        tasks,
        unlock,
    )

    app.add_typer(events.app, name="events")
    app.add_typer(exhibitors.app, name="exhibitors")
    app.add_typer(personnel.app, name="personnel")
    app.add_typer(contacts.app, name="contacts")
    app.add_typer(credits.app, name="credits")
    app.add_typer(unlock.app, name="unlock")
    app.add_typer(search.app, name="search")
    app.add_typer(quote.app, name="quote")  # free quotes of every paid action
    app.add_typer(tasks.app, name="tasks")
    app.add_typer(quotes.app, name="quotes")  # agent quotes waiting for the owner's approval
    register_profile_commands(app)


def register_profile_commands(app: typer.Typer) -> None:
    from showfloor.cli.commands import login

    app.command("login")(login.login)
    app.command("logout")(login.logout)
