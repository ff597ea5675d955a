"""What the engine says: message keys with parameters, and choices (buttons); effects: conversations.effects.

Nothing here is rendered yet: the channel renders a :class:`Reply` in the user's language with
:func:`render`. A parameter may be a :class:`Msg` (a nested message), :class:`Money` (formatted per
language) or :class:`Result` (filled from the outcome of an effect, e.g. a new dossier's reference).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from locales import t
from rules.money import format_vnd


@dataclass(frozen=True)
class Msg:
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plain:
    """Text that is data, not a message (a firm's name, an item title already in the right language)."""

    text: str


@dataclass(frozen=True)
class Money:
    vnd: int


#: The values the shell fills by running the effects (the fields of its typed results of the same names).
ResultName = Literal["dossier_ref", "request_progress", "erase_summary", "outcome", "export_summary"]


@dataclass(frozen=True)
class Result:
    """A value the shell knows only after running the effects (e.g. ``dossier_ref``)."""

    name: ResultName


Line = Msg | Plain


@dataclass(frozen=True)
class Choice:
    payload: str
    label: Line
    aliases: tuple[str, ...] = ()  # other words that pick it ("co", "yes", a short place name)


@dataclass(frozen=True)
class Reply:
    lines: tuple[Line, ...]
    choices: tuple[Choice, ...] = ()
    attach: str | None = None  # a document to send with it, e.g. "mydata" or a dossier ref


def reply(*lines: Line, choices: tuple[Choice, ...] = (), attach: str | None = None) -> Reply:
    """One message to the user: its lines, its choices (buttons or numbered lines), a document to attach."""
    return Reply(tuple(lines), choices, attach)


def say(key: str, **params: Any) -> Msg:
    return Msg(key, params)


def _param(value: Any, lang: str, results: Mapping[str, Any]) -> Any:
    if isinstance(value, Msg):
        return render_line(value, lang, results)
    if isinstance(value, Plain):
        return value.text
    if isinstance(value, Money):
        return format_vnd(value.vnd, lang)
    if isinstance(value, Result):
        return results.get(value.name, "")
    if isinstance(value, (list, tuple)):
        return "\n".join(str(_param(v, lang, results)) for v in value)
    return value


def render_line(line: Line, lang: str, results: Mapping[str, Any] | None = None) -> str:
    if isinstance(line, Plain):
        return line.text
    results = results or {}
    params = {k: _param(v, lang, results) for k, v in line.params.items()}
    return t(line.key, lang, **params)


def render(reply: Reply, lang: str, results: Mapping[str, Any] | None = None) -> str:
    return "\n".join(render_line(line, lang, results) for line in reply.lines)
