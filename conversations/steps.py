"""Builders for the usual kinds of question: a choice, yes/no, text, a count, an amount of money."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from conversations import understand
from conversations.engine import PAGE_SIZE, Guess, Input, Invalid, Prompt, Step, View, match_choice
from conversations.messages import Choice, Line, Money, Msg, Plain, say
from rules.text import fold

YES_WORDS = ("co", "yes", "y", "dong y", "ok", "c")
NO_WORDS = ("khong", "no", "n", "k", "ko")


def yes_no_choices() -> tuple[Choice, ...]:
    return (Choice("yes", say("choice.yes"), YES_WORDS), Choice("no", say("choice.no"), NO_WORDS))


def choice_step(
    name: str,
    key: str,
    choices: Callable[[View], Sequence[Choice]],
    *,
    optional: bool = False,
    params: Callable[[View], dict[str, Any]] | None = None,
    confirm: bool | None = None,
) -> Step:
    """One of ``choices``. An answer read by a guess (a near name, part of a name) is echoed back for
    confirmation when ``confirm``, by default when the list is longer than a page (places: a wrong one
    sends the dossier to the wrong agency)."""

    def prompt(view: View) -> Prompt:
        return Prompt((Msg(key, params(view) if params else {}),), tuple(choices(view)))

    def parse(view: View, inp: Input) -> Any:
        options = choices(view)
        if inp.payload is not None:
            found = match_choice(options, inp, view.lang)
            if found is None:
                raise Invalid("error.choice")
            return found.payload
        picked = understand.read_choice(options, inp.text, view.lang, view.state.page)
        echo = confirm if confirm is not None else len(options) > PAGE_SIZE
        return Guess(picked.choice.payload) if picked.guessed and echo else picked.choice.payload

    def summary(view: View, value: Any) -> Line:
        label = next((c.label for c in choices(view) if c.payload == value), Plain(str(value)))
        return label

    return Step(name, prompt, parse, optional=optional, summary=summary)


def multi_step(name: str, key: str, choices: Callable[[View], Sequence[Choice]]) -> Step:
    def marked(view: View) -> tuple[Choice, ...]:
        draft = set(view.state.draft)
        return tuple(
            Choice(
                c.payload, say("choice.picked", label=c.label) if c.payload in draft else c.label, c.aliases
            )
            for c in choices(view)
        )

    def prompt(view: View) -> Prompt:
        return Prompt((Msg(key, {"count": len(view.state.draft)}),), marked(view))

    def parse(view: View, inp: Input) -> list[str]:
        options = list(choices(view))
        if inp.payload is not None:
            picked = match_choice(options, inp, view.lang)
            if picked is None:
                raise Invalid("error.choice")
            return [picked.payload]
        return [c.payload for c in understand.read_choices(options, inp.text, view.lang, view.state.page)]

    def summary(view: View, value: Any) -> Line:
        labels = {c.payload: c.label for c in choices(view)}
        return say("summary.list", items=[labels.get(v, Plain(str(v))) for v in value or []])

    return Step(name, prompt, parse, multi=True, summary=summary)


def yes_no_step(name: str, key: str, params: Callable[[View], dict[str, Any]] | None = None) -> Step:
    def prompt(view: View) -> Prompt:
        return Prompt((Msg(key, params(view) if params else {}),), yes_no_choices())

    def parse(view: View, inp: Input) -> bool:
        if inp.payload is None:
            answer = understand.yes_no(inp.text)
            if answer is not None:
                return answer
        picked = match_choice(yes_no_choices(), inp, view.lang)
        if picked is None:
            raise Invalid("error.yes_no")
        return picked.payload == "yes"

    def summary(view: View, value: Any) -> Line:
        return say("choice.yes") if value else say("choice.no")

    return Step(name, prompt, parse, summary=summary)


def text_step(
    name: str,
    key: str,
    clean: Callable[[str], str | None],
    error: str,
    example: str,
    *,
    optional: bool = False,
) -> Step:
    def prompt(view: View) -> Prompt:
        return Prompt((say(key),), example=say(example))

    def parse(view: View, inp: Input) -> str:
        value = clean(inp.text)
        if value is None:
            raise Invalid(error)
        return value

    def summary(view: View, value: Any) -> Line:
        return Plain(str(value)) if value else say("summary.empty")

    return Step(name, prompt, parse, optional=optional, summary=summary)


def count_step(
    name: str,
    key: str,
    example: str,
    *,
    maximum: Callable[[View], int | None] | None = None,
    minimum: int = 0,
) -> Step:
    def prompt(view: View) -> Prompt:
        return Prompt((say(key),), example=say(example))

    def parse(view: View, inp: Input) -> int:
        limit = maximum(view) if maximum else None
        number = understand.read_count(inp.text, everyone=limit)
        value = number.value
        if value < minimum:
            raise Invalid("error.count_min", min=minimum)
        if limit is not None and value > limit:
            raise Invalid("error.count_max", max=limit)
        return value

    def summary(view: View, value: Any) -> Line:
        return Plain(str(value))

    return Step(name, prompt, parse, summary=summary)


def money_step(name: str, key: str, example: str, *, none_words: tuple[str, ...] = ()) -> Step:
    """An amount of money; ``none_words`` (e.g. "chưa có") give None where "no amount yet" is an answer."""

    def prompt(view: View) -> Prompt:
        return Prompt((say(key),), example=say(example))

    def parse(view: View, inp: Input) -> int | Guess | None:
        if none_words and fold(inp.text) in none_words:
            return None
        amount = understand.read_money(inp.text, none_ok=bool(none_words))
        return Guess(amount.vnd) if amount.guessed else amount.vnd

    def summary(view: View, value: Any) -> Line:
        return say("summary.money", amount=Money(value)) if value is not None else say("summary.none_yet")

    return Step(name, prompt, parse, summary=summary)


def free_text(min_len: int = 2, max_len: int = 200) -> Callable[[str], str | None]:
    def clean(text: str) -> str | None:
        value = " ".join(text.split())
        return value if min_len <= len(value) <= max_len and not value.startswith("/") else None

    return clean
