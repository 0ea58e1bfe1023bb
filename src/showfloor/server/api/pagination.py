"""Paging parameters of the API and the page model; the envelope itself is shared with the services
(``showfloor.server.pagination``)."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from showfloor.server.pagination import envelope

__all__ = ["MAX_PAGE", "Page", "PageQuery", "envelope", "page_field"]

# Pages past this answer 400: page × pageSize must stay a sane SQL OFFSET on both backends
# (100 M rows at pageSize 100), and no client pages that far.
MAX_PAGE = 1_000_000

PageQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number.")]


def page_field() -> Any:
    """``page`` in a JSON body: the same bounds as ``PageQuery``."""
    return Field(default=1, ge=1, le=MAX_PAGE, description="1-based page number.")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    pageSize: int
    totalPages: int
    hasMore: bool
