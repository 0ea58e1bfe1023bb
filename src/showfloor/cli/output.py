"""One output sink for the customer commands: human mode (Rich) or ``--json`` mode (machine-readable
JSON alone on stdout; progress and messages on stderr). SDK errors become one actionable line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from showfloor.client import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    Cancelled,
    ConfigurationError,
    InsufficientCredits,
    NotFound,
    RateLimited,
    ShowfloorError,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_CREDITS = 3


def camel(name: str) -> str:
    """``not_delivered`` → ``notDelivered`` (the API's key style); camelCase names stay as they are."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest) if rest and head else name


def _shaped(model_part: Any, data: Any) -> Any:
    """Rename the keys of ``data`` (a model's JSON dump) that are field names; keys of dict-valued
    fields (personnel id → email, reason → ids) are data and stay as they are."""
    if isinstance(model_part, BaseModel) and isinstance(data, dict):
        return {camel(key): _shaped(getattr(model_part, key, None), value) for key, value in data.items()}
    if isinstance(model_part, list | tuple) and isinstance(data, list):
        return [_shaped(part, value) for part, value in zip(model_part, data, strict=False)]
    if isinstance(model_part, dict) and isinstance(data, dict):
        return {key: _shaped(model_part.get(key), value) for key, value in data.items()}
    return data


def jsonable(value: Any) -> Any:
    """JSON-ready data with one key style (camelCase, as the API) for every command's ``--json``."""
    if isinstance(value, BaseModel):
        return _shaped(value, value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    @property
    def info(self) -> Console:
        """Where human-facing messages go: stdout in human mode, stderr in JSON mode."""
        return self.err if self.as_json else self.out

    def emit(self, data: Any) -> None:
        """The command's result in JSON mode (no-op in human mode)."""
        if self.as_json:
            print(json.dumps(jsonable(data), ensure_ascii=False))

    def table(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        table = Table(*columns, title=title)
        for row in rows:
            table.add_row(*("" if cell is None else str(cell) for cell in row))
        self.out.print(table)

    def fields(self, title: str, pairs: Sequence[tuple[str, Any]]) -> None:
        table = Table(show_header=False, title=title, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        for key, value in pairs:
            table.add_row(key, "" if value is None else str(value))
        self.out.print(table)

    def error_line(self, text: str, **fields: Any) -> None:
        """One line on stderr; with ``--json`` a JSON object ``{"error": {"message": …, …}}`` instead."""
        if self.as_json:
            error = {"message": text, **{k: v for k, v in fields.items() if v is not None}}
            print(json.dumps({"error": error}, ensure_ascii=False), file=sys.stderr)
            return
        self.err.print("[red]error:[/red] " + escape(text), soft_wrap=True)  # "[server]" is text


def describe(exc: ShowfloorError, base_url: str | None = None) -> tuple[str, int]:
    """One actionable line and the exit code for an SDK error."""
    rid = f" (request id {exc.request_id})" if isinstance(exc, APIError) and exc.request_id else ""
    if isinstance(exc, ConfigurationError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, Cancelled):
        return "cancelled; nothing was spent", EXIT_ERROR
    if isinstance(exc, InsufficientCredits):
        need = (
            f" this needs {exc.required} credits and {exc.available} are available;" if exc.required else ""
        )
        return f"insufficient credits:{need} add credits or reduce the scope{rid}", EXIT_NO_CREDITS
    if isinstance(exc, AuthenticationError):
        return f"the API key was refused: check --api-key or SHOWFLOOR_API_KEY{rid}", EXIT_ERROR
    if isinstance(exc, APIConnectionError):
        where = base_url or "the server"
        return (
            f"cannot reach {where} ({exc.message}): check --base-url or SHOWFLOOR_BASE_URL",
            EXIT_ERROR,
        )
    if isinstance(exc, NotFound):
        return f"not found: {exc.message}{rid}", EXIT_ERROR
    if isinstance(exc, RateLimited):
        return f"rate limited ({exc.error_key}): wait a moment and try again{rid}", EXIT_ERROR
    if isinstance(exc, APIError):
        return f"{exc.error_key} ({exc.status}): {exc.message}{rid}", EXIT_ERROR
    return str(exc), EXIT_ERROR


@contextmanager
def reporting_errors(output: Output, base_url: str | None = None) -> Iterator[None]:
    """Turn SDK errors into one line on stderr and the matching exit code."""
    try:
        yield
    except ShowfloorError as exc:
        line, code = describe(exc, base_url)
        api = exc if isinstance(exc, APIError) else None
        output.error_line(
            line,
            errorKey=api.error_key if api else type(exc).__name__,
            status=api.status if api else None,
            requestId=api.request_id if api else None,
            exitCode=code,
        )
        raise typer.Exit(code) from exc


# Waiting commands (``unlock contacts``, ``tasks watch``): --timeout passed with items still pending.
EXIT_PENDING = 4
# Ctrl-C (the conventional 128 + SIGINT).
EXIT_INTERRUPTED = 130
