"""``GET /external/contacts/search``: people at a company, optionally narrowed by role and name.

The paid contact routes (``POST /external/contacts/unlock*`` and the task polls) live in their own router.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from showfloor.server.api.deps import DB, ReadPrincipal, ReadSession
from showfloor.server.api.pagination import PageQuery, envelope
from showfloor.server.catalog.contacts import ContactSearch, search_contacts
from showfloor.server.errors import InvalidRequest

router = APIRouter(prefix="/external/contacts", tags=["contacts"])


@router.get("/search", summary="Company-scoped contact search")
async def contacts_search(
    principal: ReadPrincipal,
    session: ReadSession,
    db: DB,
    company_name: Annotated[str, Query(min_length=1, max_length=200)],
    role: Annotated[str | None, Query(max_length=200)] = None,
    person_name: Annotated[str | None, Query(max_length=200)] = None,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 20,
) -> dict[str, Any]:
    if not company_name.strip():
        raise InvalidRequest("company_name must not be blank", field="company_name")
    query = ContactSearch(company_name=company_name, role=role, person_name=person_name)
    items, total = await search_contacts(
        session, principal.account_id, query, page, page_size, sqlite=db.is_sqlite
    )
    return envelope(items, total, page, page_size)
