"""Walking the contract's page envelope (``items,total,page,pageSize,totalPages,hasMore``).

``client.events.iter(keyword="expo")`` yields every item across pages; ``AsyncClient`` gives the
same as an async iterator. The decision of which page comes next is made here, once.
"""

from __future__ import annotations

from typing import Any

from showfloor.client.models import Page


def next_page(page: Page[Any]) -> int | None:
    """The next page number, or ``None`` when this was the last page (or an empty one)."""
    if not page.items or not page.hasMore:
        return None
    return page.page + 1
