"""A dossier's life: its statuses and their moves (one table), the service order, and what an erasure keeps.

submitted -> in_review (an officer claims it) -> needs_info (documents asked) -> in_review (the owner
answered everything asked, or said they are done: back to the officer who keeps the claim) ...;
in_review -> approved | rejected (final); submitted | in_review | needs_info -> withdrawn by the owner
(final). The agency answers within 14 working days for request contents (ND80 Art. 32.3.a).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TypeVar


class Status(StrEnum):
    submitted = "submitted"
    in_review = "in_review"
    needs_info = "needs_info"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


OPEN: tuple[str, ...] = (Status.submitted, Status.in_review, Status.needs_info)
FINAL: tuple[str, ...] = (Status.approved, Status.rejected, Status.withdrawn)
STATUSES: tuple[str, ...] = (*OPEN, *FINAL)

MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    # action: (from statuses, to status)
    "claim": ((Status.submitted,), Status.in_review),
    "ask": ((Status.in_review,), Status.needs_info),
    "answer": ((Status.needs_info,), Status.in_review),  # back to the officer who asked, who keeps the claim
    "approve": ((Status.in_review,), Status.approved),
    "reject": ((Status.in_review,), Status.rejected),
    "withdraw": (OPEN, Status.withdrawn),
}

#: What an owner's erasure keeps: dossiers still under review (the agency must answer them, ND80 Art. 32)
#: and approved ones (state money that may be recovered after a false declaration, ND80 Art. 31).
RETAINED_ON_ERASURE: tuple[str, ...] = (*OPEN, Status.approved)


def move(action: str, status: str) -> str | None:
    """The new status, or None when the move is not allowed from ``status``."""
    sources, target = MOVES[action]
    return target if status in sources else None


D = TypeVar("D")


def service_order(
    dossiers: Sequence[D],
    filed_on: Callable[[D], dt.date],
    priority: Callable[[D], bool],
    key: Callable[[D], int],
) -> list[D]:
    """Oldest first; among dossiers filed the same day, the priority groups first (ND80 Art. 4.1: first
    filed, first served; women-owned, many-female-worker and social-enterprise SMEs served first)."""
    return sorted(dossiers, key=lambda d: (filed_on(d), not priority(d), key(d)))
