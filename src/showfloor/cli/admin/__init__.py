"""``showfloor admin …``: operator commands. They talk to the database directly (SHOWFLOOR_DATABASE_URL)."""

from __future__ import annotations

import typer

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
from showfloor.server.db.migrate import upgrade
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
def migrate() -> None:
    """Apply database migrations (creates the schema on a new database)."""

    async def work(db: Database, _s: Settings) -> None:
        await upgrade(db.engine)

    run_with_db(work)
    console.print("Database is at the newest schema.")
