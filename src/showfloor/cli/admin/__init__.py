"""``showfloor admin …``: operator commands. They talk to the database directly (SHOWFLOOR_DATABASE_URL)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from showfloor.cli.admin import agent_keys as _agent_keys  # noqa: F401  (adds keys set-agent-budget, set-scope)
from showfloor.cli.admin._runtime import console, run_with_db
from showfloor.cli.admin.accounts import accounts_app, keys_app
from showfloor.cli.admin.alerts import alerts_app
from showfloor.cli.admin.catalog import catalog_app
from showfloor.cli.admin.config import config_command
from showfloor.cli.admin.credits import credits_app, reconcile_command
from showfloor.cli.admin.data import register as register_data_commands
from showfloor.cli.admin.plans import plans_app
from showfloor.cli.admin.users import users_app
from showfloor.server.config import Settings
from showfloor.server.db.migrate import alembic_config, current_revision, upgrade
from showfloor.server.db.uow import Database

admin_app = typer.Typer(
    help="Operator commands (accounts, keys, credits, prices, data).", no_args_is_help=True
)
admin_app.add_typer(accounts_app, name="accounts")
admin_app.add_typer(keys_app, name="keys")
admin_app.add_typer(plans_app, name="plans")
admin_app.add_typer(credits_app, name="credits")
admin_app.add_typer(users_app, name="users")
admin_app.add_typer(catalog_app, name="catalog")
admin_app.add_typer(alerts_app, name="alerts")
admin_app.command("reconcile")(reconcile_command)
admin_app.command("config")(config_command)
register_data_commands(admin_app)


@admin_app.command("migrate")
def migrate(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Apply database migrations (creates the database and its schema when they do not exist yet)."""

    async def work(db: Database, settings: Settings) -> tuple[str, str | None, str | None]:
        before = await current_revision(db.engine)
        await upgrade(db.engine)
        return where(settings), before, await current_revision(db.engine)

    target, before, after = run_with_db(work, create=True)
    applied = revisions_between(before, after)
    if as_json:
        print(json.dumps({"database": target, "from": before, "to": after, "applied": applied}))
        return
    console.print(f"Database: {target}", highlight=False)
    if applied:
        console.print(f"Applied {len(applied)} migration(s):", highlight=False)
        for line in applied:
            console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    else:
        console.print("Nothing to apply.")
    console.print(f"The schema is at revision {after} (the newest).", highlight=False)


def where(settings: Settings) -> str:
    """The database the command used, without its password."""
    path = settings.sqlite_path()
    if path is not None:
        return str(path.resolve())
    return make_url(settings.database_url).render_as_string(hide_password=True)


def revisions_between(before: str | None, after: str | None) -> list[str]:
    """``"0003  <message>"`` for each revision applied after ``before`` up to ``after``, oldest first."""
    if after is None or before == after:
        return []
    scripts = ScriptDirectory.from_config(alembic_config())
    steps = list(scripts.iterate_revisions(after, before or "base"))
    return [f"{rev.revision}  {(rev.doc or '').strip().splitlines()[0]}" for rev in reversed(steps)]
