"""The dossier's state machine (ND80 Art. 32.3; issue 5): one place that says which move is allowed.

submitted -> in_review (an officer claims it) -> needs_info (documents asked) -> in_review (the owner
answered everything asked, or said they are done: back to the officer who keeps the claim) ...;
in_review -> approved | rejected (final); submitted | in_review | needs_info -> withdrawn by the owner
(final).
"""

from __future__ import annotations

OPEN = ("submitted", "in_review", "needs_info")
FINAL = ("approved", "rejected", "withdrawn")

MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    # action: (from statuses, to status)
    "claim": (("submitted",), "in_review"),
    "ask": (("in_review",), "needs_info"),
    "answer": (("needs_info",), "in_review"),  # back to the officer who asked, who keeps the claim
    "approve": (("in_review",), "approved"),
    "reject": (("in_review",), "rejected"),
    "withdraw": (OPEN, "withdrawn"),
}


def move(action: str, status: str) -> str | None:
    """The new status, or None when the move is not allowed from ``status``."""
    sources, target = MOVES[action]
    return target if status in sources else None
