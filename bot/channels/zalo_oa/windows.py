"""The OA's interaction windows: which messages may go to a user, counted from their last interaction.

Within 48 h of it, customer-service messages are free; to 7 days they are still allowed (charged);
beyond, or with no interaction at all, only approved templates go. The bot counts from ``users.last_seen_at``
(set on every message a user sends) and holds what it may not send, rather than sending it blind and
reading the platform's refusal. Both spans are parameters: the 7 days are uncertain (see the README).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

FREE_WINDOW = timedelta(hours=48)
ALLOWED_WINDOW = timedelta(days=7)


class Window(StrEnum):
    FREE = "free"  # within 48 h of the user's last interaction: customer-service messages, free
    ALLOWED = "allowed"  # up to 7 days: still allowed (charged)
    TEMPLATE_ONLY = "template_only"  # beyond, or no interaction at all: approved templates only


def window_at(
    last_interaction: datetime | None,
    now: datetime,
    *,
    free: timedelta = FREE_WINDOW,
    allowed: timedelta = ALLOWED_WINDOW,
) -> Window:
    """Which messages may go to a user whose last interaction with the OA was ``last_interaction``."""
    if last_interaction is None:
        return Window.TEMPLATE_ONLY
    elapsed = now - last_interaction
    if elapsed <= free:
        return Window.FREE
    if elapsed <= allowed:
        return Window.ALLOWED
    return Window.TEMPLATE_ONLY
