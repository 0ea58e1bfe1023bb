"""The reference's page envelope: ``items,total,page,pageSize,totalPages,hasMore``."""

from __future__ import annotations

import math
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

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


def envelope(items: list[Any], total: int, page: int, page_size: int) -> dict[str, Any]:
    total_pages = math.ceil(total / page_size) if page_size else 0
    return {
        "items": items,
        "total": total,
        "page": page,
        "pageSize": page_size,
        "totalPages": total_pages,
        "hasMore": page < total_pages,
    }
