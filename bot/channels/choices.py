"""A typed answer that stands for a choice shown under the last message, for channels that list choices
as lines (the terminal chat, the Zalo Bot, the Zalo OA past its buttons) or where typing is as natural
as pressing: the label typed back (with or without diacritics), or the number the channel put before a
staff member's choice. Pure: the caller brings the choices it showed."""

from __future__ import annotations

from collections.abc import Sequence

from rules.text import fold


def numbered_here(choices: Sequence[tuple[str, str]]) -> bool:
    """Whether the channel numbers these (payload, label) choices itself when it lists them as lines:
    every one a command (only staff replies carry those; an owner's question numbers its own choices,
    and may wait for a number as its answer) and none numbered already."""
    return bool(choices) and all(
        payload.startswith("/") and not label.split(".", 1)[0].isdigit() for payload, label in choices
    )


def chosen(text: str, choices: Sequence[tuple[str, str]], numbers: bool = True) -> str | None:
    """The payload of the choice ``text`` stands for, or None (a command is never a choice). With
    ``numbers``, a bare number picks a choice the channel numbered (:func:`numbered_here`)."""
    wanted = fold(text)
    if not wanted or text.lstrip().startswith("/"):
        return None
    if numbers and wanted.isdigit() and numbered_here(choices) and 1 <= int(wanted) <= len(choices):
        return choices[int(wanted) - 1][0]
    return next((payload for payload, label in choices if fold(label) == wanted), None)
