"""Customer commands (noun-verb). They use only the client SDK, never the server package."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from showfloor.cli.commands import contacts, credits, events, exhibitors, personnel, search, unlock

    app.add_typer(events.app, name="events")
    app.add_typer(exhibitors.app, name="exhibitors")
    app.add_typer(personnel.app, name="personnel")
    app.add_typer(contacts.app, name="contacts")
    app.add_typer(credits.app, name="credits")
    app.add_typer(unlock.app, name="unlock")
    app.add_typer(search.app, name="search")
    # Paid flows and history (issue 18): quotes and resumable waits.
    from showfloor.cli.commands import quote, tasks

    app.add_typer(quote.app, name="quote")
    app.add_typer(tasks.app, name="tasks")
