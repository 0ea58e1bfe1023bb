"""Preview window of event-scoped lists (exhibitors, personnel) and their ``semantics`` object.

While the base layer is locked only the first ``preview_limit`` records in the list's order are visible.
An accessible preview page reports ``total`` = the true matching total (as the reference's examples do);
a page outside the window is the documented empty page (``total: 0``, ``pageState.accessible: false``).
With the base layer unlocked everything is visible (``accessMode: "full"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from showfloor.server.access.service import EventAccess


@dataclass(frozen=True)
class PreviewWindow:
    full_access: bool
    preview_limit: int
    actual_total: int
    page: int
    page_size: int

    @property
    def visible_total(self) -> int:
        return self.actual_total if self.full_access else min(self.actual_total, self.preview_limit)

    @property
    def remaining_locked(self) -> int:
        return self.actual_total - self.visible_total

    @property
    def max_accessible_page(self) -> int:
        return max(1, math.ceil(self.visible_total / self.page_size))

    @property
    def accessible(self) -> bool:
        """False only for a page that would show records hidden by the lock."""
        if self.full_access or self.remaining_locked == 0:
            return True
        return self.page <= self.max_accessible_page

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def limit(self) -> int:
        """Rows to fetch for this page (0 when nothing visible falls on it)."""
        if not self.accessible:
            return 0
        return max(0, min(self.page_size, self.visible_total - self.offset))


def window_for(
    access: EventAccess, actual_total: int, page: int, page_size: int, preview_limit: int
) -> PreviewWindow:
    return PreviewWindow(
        full_access=access.base,
        preview_limit=preview_limit,
        actual_total=actual_total,
        page=page,
        page_size=page_size,
    )


def page_envelope(items: list[Any], window: PreviewWindow) -> dict[str, Any]:
    """The page envelope under the window's rules (see module docstring)."""
    total = window.actual_total if window.accessible else 0
    total_pages = math.ceil(total / window.page_size) if total else 0
    return {
        "items": items if window.accessible else [],
        "total": total,
        "page": window.page,
        "pageSize": window.page_size,
        "totalPages": total_pages,
        "hasMore": window.page < total_pages,
    }


def semantics(window: PreviewWindow, *, noun: str, action_type: str, credits: int) -> dict[str, Any]:
    """``semantics`` for a list of ``noun`` ("exhibitors" / "personnel"); ``credits`` from pricing."""
    locked_more = not window.full_access and window.remaining_locked > 0
    if window.full_access:
        code, message = "full_access", f"This event is unlocked. All matching {noun} are accessible."
    elif not window.accessible:
        code = "preview_page_inaccessible"
        message = (
            f"This event is locked. Only the first {window.preview_limit} matching {noun} are currently "
            "accessible. Unlock the event before requesting more results."
        )
    elif locked_more:
        code = "preview_results_truncated"
        message = (
            f"This event is locked. Only the first {window.preview_limit} matching {noun} are currently "
            "accessible. Unlock the event to access the remaining matching results."
        )
    else:
        code = "preview_complete_for_query"
        message = (
            f"This event is locked, but all matching {noun} for the current query are already accessible."
        )
    return {
        "accessMode": "full" if window.full_access else "preview",
        "previewLimit": None if window.full_access else window.preview_limit,
        "counts": {
            "actualTotal": window.actual_total,
            "visibleTotal": window.visible_total,
            "remainingLockedCount": window.remaining_locked,
        },
        "pageState": {
            "requestedPage": window.page,
            "accessible": window.accessible,
            "maxAccessiblePage": window.max_accessible_page,
        },
        "unlock": {
            "requiredForMoreResults": locked_more,
            "actionType": action_type if locked_more else None,
            "credits": credits if locked_more else None,
        },
        "guidance": {"code": code, "message": message},
    }
