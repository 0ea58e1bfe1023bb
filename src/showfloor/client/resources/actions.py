"""``POST /external/actions/precheck``: read-only, never charges, so it is retried like a read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from showfloor.client._methods import AsyncResource, SyncResource, async_method, sync_method
from showfloor.client._transport import Context, Op, call
from showfloor.client.models import PrecheckResult
from showfloor.client.resources._base import parser, post


def precheck(
    ctx: Context,
    action_type: str,
    params: Mapping[str, Any] | None = None,
    *,
    call_source: str | None = None,
    locale: str | None = None,
) -> Op[PrecheckResult]:
    """What an action would do now (allowed, whether and how much it charges, why). Never charges."""
    body = {
        "action_type": action_type,
        "params": dict(params or {}),
        "call_source": call_source or ctx.config.call_source,
        "locale": locale,
    }
    return (yield from call(ctx, post("/external/actions/precheck", parser(PrecheckResult), body)))


class Actions(SyncResource):
    precheck = sync_method(precheck)


class AsyncActions(AsyncResource):
    precheck = async_method(precheck)
