"""``showfloor credits balance|history``."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, PageOpt, PageSizeOpt, make_client
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Credit balance and history.", no_args_is_help=True)


def _when(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


@app.command("balance")
def balance(as_json: JsonOpt = False, api_key: ApiKeyOpt = None, base_url: BaseUrlOpt = None) -> None:
    """Current balance by bucket."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        b = client.credits.balance()
    out.emit(b)
    if not as_json:
        out.table(
            "Credits",
            ["bucket", "balance", "granted", "expires"],
            [
                ("subscription", b.subscriptionBalance, b.subscriptionAmount, _when(b.resetAt)),
                ("add-on", b.addonBalance, b.addonAmount, _when(b.addonExpireAt)),
                ("gift", b.giftBalance, b.giftAmount, "never"),
                ("total", b.totalBalance, b.totalAmount, ""),
            ],
        )


@app.command("history")
def history(
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Ledger history: every grant, charge, hold and release."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        result = client.credits.transactions(page=page, page_size=page_size)
    out.emit(result)
    if not as_json:
        rows = [
            (_when(t.createdAt), t.type, t.amount, t.bucket, t.businessCode, t.resourceType, t.resourceId)
            for t in result.items
        ]
        out.table(
            f"Credit history (page {result.page}/{result.totalPages})",
            ["when", "type", "amount", "bucket", "business code", "resource", "id"],
            rows,
        )
