"""What the two Zalo clients share: splitting a long reply at line breaks, comparing secrets in constant time.

Zalo's limit for one text is 2,000 characters on both the Bot API and the OA API. The documents do not say
whether a "character" is a code point or a UTF-16 unit; :func:`split_text` counts code points and takes the
limit as a parameter, so a stricter count is one argument away.
"""

from __future__ import annotations

import hmac

MAX_TEXT_LENGTH = 2000


def split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """``text`` as parts of at most ``limit`` characters, cut at line breaks.

    Lines are packed greedily; a single line longer than ``limit`` is cut at its last space before the
    limit, or at the limit where there is none. Nothing is lost but the line break (or the space) at a
    cut. An empty or blank text gives no part.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            if not current:
                current = piece
            elif len(current) + 1 + len(piece) <= limit:
                current = f"{current}\n{piece}"
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return [part for part in parts if part.strip()]


def _cut_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 1, limit + 1)
        if cut <= 0:
            pieces.append(line[:limit])
            line = line[limit:]
        else:
            pieces.append(line[:cut])
            line = line[cut + 1 :]
    pieces.append(line)
    return pieces


def constant_time_equals(expected: str, received: str | None) -> bool:
    """``received == expected`` in time that does not depend on where they differ (a missing value is
    never equal)."""
    if received is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))
