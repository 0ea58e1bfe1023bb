"""``showfloor admin config``: the effective settings (environment over defaults), secrets masked."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
from pydantic import ValidationError
from rich.table import Table

from showfloor.cli.admin._runtime import console, err_console
from showfloor.server.config import Settings

MASK = "****"
# Settings whose whole value is a secret; URLs are shown with their password masked.
SECRET_WORDS = ("token", "password", "secret")


def env_name(field: str) -> str:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return f"{prefix}{field}".upper()


def is_secret(field: str) -> bool:
    return any(word in field for word in SECRET_WORDS)


def mask_url(value: str) -> str:
    """The URL with the password of its user part replaced (``postgresql+asyncpg://app:****@db/x``)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return MASK
    if parts.password is None:
        return value
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def shown(field: str, value: Any) -> Any:
    if value is None or value == "":
        return value
    if is_secret(field):
        return MASK
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def effective_settings(settings: Settings) -> list[dict[str, Any]]:
    """One row per setting: its environment variable, the value in effect (masked), where it came from."""
    rows = []
    for field in Settings.model_fields:
        name = env_name(field)
        rows.append(
            {
                "env": name,
                "value": shown(field, getattr(settings, field)),
                "source": "environment" if name in os.environ else "default",
            }
        )
    return rows


def config_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Print the effective settings (environment over defaults); secrets and URL passwords are masked."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = env_name(str(error["loc"][0])) if error["loc"] else "settings"
            err_console.print(f"[red]invalid setting[/red] {where}: {error['msg']}", highlight=False)
        raise typer.Exit(2) from None
    rows = effective_settings(settings)
    if as_json:
        typer.echo(json.dumps({"settings": rows}, indent=2, default=str))
        return
    if not console.is_terminal:  # piped: environment-file lines, whole values, nothing wrapped
        for row in rows:
            typer.echo(f"{row['env']}={_text(row['value'], unset='')}  # {row['source']}")
        return
    table = Table("setting", "value", "source")
    for row in rows:
        table.add_row(row["env"], _text(row["value"], unset="(unset)"), row["source"])
    console.print(table)


def _text(value: Any, *, unset: str) -> str:
    if value is None:
        return unset
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
