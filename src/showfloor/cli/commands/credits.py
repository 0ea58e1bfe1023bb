"""``showfloor credits balance|history``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, PageOpt, PageSizeOpt, make_client
from showfloor.cli.commands._lists import (
    AllOpt,
    LimitOpt,
    OutputOpt,
    collect,
    emit,
    output_format,
    page_title,
    print_table,
)
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Credit balance and history.", no_args_is_help=True)


@app.command("balance")
def balance(as_json: JsonOpt = False, api_key: ApiKeyOpt = None, base_url: BaseUrlOpt = None) -> None:
    """Current balance by bucket."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        b = client.credits.balance()
    out.emit(b)
    if not as_json:
        print_table(
            out,
            "Credits",
            ["bucket", "balance", "granted", "expires"],
            [
                ("subscription", b.subscriptionBalance, b.subscriptionAmount, _local(b.resetAt, False)),
                ("add-on", b.addonBalance, b.addonAmount, _local(b.addonExpireAt, False)),
                ("gift", b.giftBalance, b.giftAmount, "never"),
                ("total", b.totalBalance, b.totalAmount, ""),
            ],
        )


def _local(ms: int | None, utc: bool) -> str:
    """An instant with its timezone: local time and offset (``2026-12-03 14:05:09 +01:00``), or UTC."""
    if ms is None:
        return ""
    when = datetime.fromtimestamp(ms / 1000, UTC)
    shown = when if utc else when.astimezone()
    offset = shown.strftime("%z")
    return (
        f"{shown:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}" if offset else f"{shown:%Y-%m-%d %H:%M:%S} UTC"
    )


def _instant(name: str, value: str | None) -> str | None:
    """``--since``/``--until``: an ISO 8601 date or date-time; without an offset it is local time."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date or date-time (e.g. 2026-12-01)", param_hint=name
        ) from None
    return (parsed if parsed.tzinfo else parsed.astimezone()).isoformat()


def _signed(value: int) -> str:
    return f"+{value:,}" if value > 0 else f"{value:,}"


@app.command("history")
def history(
    since: Annotated[
        str | None, typer.Option(help="From this date or time (ISO 8601; local time if no offset).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Before this date or time (ISO 8601; local time if no offset).")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only one action: contact_email_unlock, event_unlock, grant, expire …")
    ] = None,
    source: Annotated[str | None, typer.Option(help="api or agent.")] = None,
    key_prefix: Annotated[
        str | None, typer.Option("--key-prefix", help="Only calls made with this API key prefix.")
    ] = None,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw", help="Ledger entries (holds, captures, releases apart) instead of one row per operation."
        ),
    ] = False,
    utc: Annotated[bool, typer.Option("--utc", help="Show times in UTC instead of local time.")] = False,
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    every: AllOpt = False,
    limit: LimitOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Credit history, one row per operation you can add up: "contact email unlock, task 12: 5 delivered ×
    15 = 75 credits". Newest first; times with their timezone. --raw lists ledger entries instead."""
    fmt = output_format(as_json, output)
    out = Output(fmt != "table")
    since_at, until_at = _instant("--since", since), _instant("--until", until)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        if raw:
            listing = collect(lambda p, size: client.credits.transactions(page=p, page_size=size, type=action),
                              page, page_size, every, limit)  # fmt: skip
        else:
            listing = collect(
                lambda p, size: client.credits.activity(
                    since=since_at, until=until_at, action=action, source=source, key_prefix=key_prefix,
                    page=p, page_size=size,
                ),
                page, page_size, every, limit,
            )  # fmt: skip
    rows: list[tuple[Any, ...]]
    if raw:
        rows = [
            (_local(t.createdAt, utc), t.type, t.amount, t.bucket, t.businessCode, t.resourceType, t.resourceId, t.operationId)
            for t in listing.items
        ]  # fmt: skip
        columns = ["when", "type", "amount", "bucket", "business code", "resource", "id", "operation"]
        title = page_title("Ledger entries", listing)
    else:
        rows = [
            (_local(a.occurredAt, utc), a.description, _signed(a.balanceChange), a.callSource, a.apiKeyPrefix)
            for a in listing.items
        ]
        columns = ["when", "what", "credits", "source", "key"]
        title = page_title("Credit history", listing)
    emit(out, fmt, listing, title=title, columns=columns, rows=rows, noun="credit history")
