"""Walking the contract's page envelope (``items,total,page,pageSize,totalPages,hasMore``).

``client.events.iter(keyword="expo")`` yields every item across pages; ``AsyncClient`` gives the
same as an async iterator. The decision of which page comes next is made here, once.
"""

from __future__ import annotations

import warnings
from typing import Any

from showfloor.client.models import Page, PreviewTruncation


class PreviewTruncated(UserWarning):
    """``iter()`` ended on a preview: more items match than the account may see until the event is
    unlocked. ``truncation`` says how many and what unlocking costs. Make it an error with
    ``warnings.simplefilter("error", PreviewTruncated)``, or record it with ``warnings.catch_warnings``."""

    def __init__(self, truncation: PreviewTruncation) -> None:
        super().__init__(
            f"preview: {truncation.visible_total} of {truncation.actual_total} matching items are visible; "
            f"unlock the event ({truncation.unlock_credits} credits) for the rest"
        )
        self.truncation = truncation


def warn_if_truncated(page: Page[Any]) -> None:
    """Called by ``iter()`` after its last page."""
    truncation = page.truncation
    if truncation is not None:
        warnings.warn(PreviewTruncated(truncation), stacklevel=3)


def next_page(page: Page[Any]) -> int | None:
    """The next page number, or ``None`` when this was the last page (or an empty one)."""
    if not page.items or not page.hasMore:
        return None
    return page.page + 1
