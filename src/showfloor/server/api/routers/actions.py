"""``POST /external/actions/precheck``: read-only eligibility and expected cost of an action."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from showfloor.server.api.deps import CALL_SOURCES, AppSettings, CallSource, ReadPrincipal, ReadSession
from showfloor.server.paid.precheck import precheck

router = APIRouter(prefix="/external/actions", tags=["actions"])


class PrecheckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action_type: str = Field(min_length=1, max_length=100)
    params: dict[str, Any]
    call_source: str | None = Field(default=None, min_length=1, max_length=100)
    locale: str | None = Field(default=None, min_length=1, max_length=20)
    trace_id: str | None = Field(default=None, min_length=1, max_length=200)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=200)
    channel_message_id: str | None = Field(default=None, min_length=1, max_length=200)


@router.post("/precheck", summary="Precheck an external action (never charges, never writes)")
async def precheck_action(
    body: PrecheckBody,
    principal: ReadPrincipal,
    session: ReadSession,
    header_source: CallSource,
    settings: AppSettings,
) -> dict[str, Any]:
    source = (body.call_source or "").strip().lower()
    call_source = source if source in CALL_SOURCES else header_source
    return await precheck(
        session,
        principal.account_id,
        body.action_type,
        body.params,
        call_source,
        settings.preview_limit,
        api_key_id=principal.api_key_id,
    )
