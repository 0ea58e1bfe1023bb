"""The reference's page envelope: ``items,total,page,pageSize,totalPages,hasMore`` (used by routers and
by services that build whole responses, such as the paid searches)."""

from __future__ import annotations

import math
from typing import Any


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
