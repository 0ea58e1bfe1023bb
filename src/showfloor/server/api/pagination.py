"""The reference's page envelope: ``items,total,page,pageSize,totalPages,hasMore``."""

from __future__ import annotations

import math
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

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
