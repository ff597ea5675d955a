"""The conversation engine: (state, input) -> (new state, replies, effects). Pure and synchronous.

A flow is a function from the answers so far to its list of :class:`Step`. Each step renders a prompt and
parses an answer into a value or an :class:`Invalid`. The cursor moves to the first unanswered step, so
``/back`` and editing from the summary keep every other answer. Commands that work at every step
(``/back``, ``/cancel``, ``/restart``, ``/help``, ``/lang``) are handled here; flows add their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from conversations import understand
from conversations.effects import Effect
from conversations.messages import Choice, Line, Plain, Reply, render_line, say
from conversations.paging import NEXT_PAGE, PREV_PAGE, numbered, paginate
from conversations.understand import PAGE_SIZE, Invalid, clean_text
from rules.text import fold

# Invalid and PAGE_SIZE live with the readers, paging in conversations.paging; flows import them here
__all__ = ["NEXT_PAGE", "PAGE_SIZE", "PREV_PAGE", "Invalid", "numbered", "paginate"]
TRIES_BEFORE_BUTTONS = 3
SKIP = "_skip"
DONE = "_done"


@dataclass(frozen=True)
class FileInfo:
    """A file or photo the user sent, already stored by the shell."""

    name: str
    mime: str
    size_bytes: int
    sha256: str
    path: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_text(self.name))


@dataclass(frozen=True)
class Input:
    """What the user sent. Text is cleaned here, once, at the edge (:func:`understand.clean_text`):
    every channel builds an Input, so nothing typed is stored or shown back before it is clean."""

    text: str = ""
    payload: str | None = None  # a pressed button
    file: FileInfo | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", clean_text(self.text))
        if self.payload is not None:
            object.__setattr__(self, "payload", clean_text(self.payload))

    @property
    def command(self) -> tuple[str, str] | None:
        """("/lang", "en") for "/lang en"; None when the text is not a command."""
        text = self.text.strip()
        if not text.startswith("/"):
            return None
        name, _, rest = text.partition(" ")
        return fold(name.split("@", 1)[0]), rest.strip()


@dataclass(frozen=True)
class Guess:
    """A value a step read by interpreting the answer ("tam 2 ty ruoi", "dong ha" for a ward): the
    engine echoes it back ("2,5 tỷ đồng — đúng không?") and keeps it only when the user confirms."""

    value: Any


@dataclass(frozen=True)
class State:
    lang: str = "vi"
    flow: str | None = None
    cursor: str | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    tries: int = 0
    page: int = 0
    editing: bool = False
    pending: str | None = None  # a yes/no confirmation the flow is waiting for (e.g. "deleteme")
    draft: tuple[str, ...] = ()  # a multi-select in progress
    guess: Mapping[str, Any] | None = None  # {"step": name, "value": v}: an interpreted answer to confirm

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "lang": self.lang,
            "flow": self.flow,
            "cursor": self.cursor,
            "answers": dict(self.answers),
            "history": list(self.history),
            "tries": self.tries,
            "page": self.page,
            "editing": self.editing,
            "pending": self.pending,
            "draft": list(self.draft),
            "guess": dict(self.guess) if self.guess is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> State:
        if not data:
            return cls()
        return cls(
            lang=str(data.get("lang", "vi")),
            flow=data.get("flow"),
            cursor=data.get("cursor"),
            answers=dict(data.get("answers") or {}),
            history=tuple(data.get("history") or ()),
            tries=int(data.get("tries", 0)),
            page=int(data.get("page", 0)),
            editing=bool(data.get("editing", False)),
            pending=data.get("pending"),
            draft=tuple(data.get("draft") or ()),
            guess=data.get("guess") or None,
        )


@dataclass(frozen=True)
class Outcome:
    state: State
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class Prompt:
    lines: tuple[Line, ...]
    choices: tuple[Choice, ...] = ()
    example: Line | None = None
    buttons_only_after_tries: bool = False  # free-text step: show its choices after 3 failed tries


@dataclass(frozen=True)
class Step:
    """One question. ``parse`` returns the value to store, or raises :class:`Invalid`."""

    name: str
    prompt: Callable[[Any], Prompt]
    parse: Callable[[Any, Input], Any]
    optional: bool = False
    multi: bool = False
    summary: Callable[[Any, Any], Line] | None = None  # how the answer reads on the summary screen
    editable: bool = True


def match_choice(choices: Sequence[Choice], inp: Input, lang: str, page: int = 0) -> Choice | None:
    """By payload, by a number shown on ``page``, an ordinal, a label or alias with or without diacritics,
    a synonym ("ko", "co roi"), or a close name (:func:`understand.read_choice`); None when nothing fits."""
    if inp.payload is not None:
        return next((c for c in choices if c.payload == inp.payload), None)
    try:
        return understand.read_choice(choices, inp.text, lang, page).choice
    except Invalid:
        return None


def match_many(choices: Sequence[Choice], text: str, lang: str, page: int = 0) -> list[Choice] | None:
    """ "1, 3 5", "1-3", "1, 2 va 3", "ca hai" -> those choices; None when any part does not match."""
    try:
        return understand.read_choices(choices, text, lang, page)
    except Invalid:
        return None


def page_move(inp: Input) -> int:
    """+1 for "Trang sau" (pressed or typed as shown), -1 for "Trang trước", else 0."""
    if inp.payload is not None:
        return {NEXT_PAGE: 1, PREV_PAGE: -1}.get(inp.payload, 0)
    return {"next": 1, "prev": -1}.get(understand.nav_word(inp.text) or "", 0)


def confirm_choices() -> tuple[Choice, ...]:
    return (
        Choice("yes", say("choice.yes"), ("co", "yes", "dung", "ok")),
        Choice("no", say("choice.no"), ("khong", "no", "sai")),
    )


class Flow(Protocol):
    """A named list of steps computed from the answers."""

    name: str

    def steps(self, view: Any) -> Sequence[Step]: ...

    def view(self, state: State, ctx: Any) -> Any: ...


@dataclass(frozen=True)
class View:
    """What a step sees: the state, the answers, the shell's context, the language."""

    state: State
    ctx: Any

    @property
    def answers(self) -> Mapping[str, Any]:
        return self.state.answers

    @property
    def lang(self) -> str:
        return self.state.lang


def first_unanswered(steps: Sequence[Step], answers: Mapping[str, Any]) -> Step | None:
    return next((s for s in steps if s.name not in answers), None)


def find_step(steps: Sequence[Step], name: str | None) -> Step | None:
    return next((s for s in steps if s.name == name), None)


def ask(flow: Flow, state: State, ctx: Any, error: Line | None = None) -> Outcome:
    """Show the prompt of the step under the cursor (or move the cursor to the next unanswered step)."""
    view = flow.view(state, ctx)
    steps = flow.steps(view)
    step = find_step(steps, state.cursor)
    if step is None or (step.name in state.answers and not state.editing and not step.multi):
        step = first_unanswered(steps, state.answers)
        if step is None:
            return Outcome(replace(state, cursor=None))
        state = replace(state, cursor=step.name, tries=0, page=0, draft=())
        view = flow.view(state, ctx)
    if state.guess is not None and state.guess.get("step") == step.name:
        value = state.guess.get("value")
        shown_value = step.summary(view, value) if step.summary else Plain(str(value))
        confirm = say("understand.confirm", value=shown_value)
        return Outcome(state, (Reply((confirm,), numbered(confirm_choices(), 0)),))
    prompt = step.prompt(view)
    lines: list[Line] = []
    if error is not None:
        lines.append(error)
        if prompt.example is not None:
            lines.append(prompt.example)
    lines.extend(prompt.lines)
    choices: tuple[Choice, ...] = ()
    show_choices = bool(prompt.choices) and (
        not prompt.buttons_only_after_tries or state.tries >= TRIES_BEFORE_BUTTONS
    )
    if show_choices:
        shown, page = paginate(prompt.choices, state.page)
        start = page * PAGE_SIZE if len(prompt.choices) > PAGE_SIZE else 0
        choices = numbered(shown, start)
        state = replace(state, page=page)
    extra: list[Choice] = []
    if step.multi:
        extra.append(Choice(DONE, say("nav.done")))
    if step.optional and state.tries >= TRIES_BEFORE_BUTTONS:
        extra.append(Choice(SKIP, say("nav.skip")))
    if state.tries >= TRIES_BEFORE_BUTTONS and not show_choices and not extra:
        lines.append(say("nav.help_hint"))
    return Outcome(state, (Reply(tuple(lines), choices + tuple(extra)),))


def answer(flow: Flow, state: State, ctx: Any, inp: Input) -> tuple[State, Line | None]:
    """Apply the input to the step under the cursor. Returns the new state, or the error to show."""
    view = flow.view(state, ctx)
    steps = flow.steps(view)
    step = find_step(steps, state.cursor)
    if step is None:
        return state, None
    if state.guess is not None:
        if state.guess.get("step") == step.name:
            picked = match_choice(confirm_choices(), inp, state.lang)
            if picked is not None and picked.payload == "yes":
                return _store(state, step, state.guess.get("value")), None
            if picked is not None:
                return replace(state, guess=None, tries=0), say("understand.guess_no")
        state = replace(state, guess=None)  # another answer instead of yes/no: read it as the answer
        view = flow.view(state, ctx)
    nav = understand.nav_word(inp.text) if inp.payload is None else None
    move = page_move(inp)
    if move and _paginated(step, view):
        return replace(state, page=max(0, state.page + move)), None
    if (inp.payload == SKIP or nav == "skip" or (step.optional and understand.declines(inp.text))) and (
        step.optional
    ):
        return _store(state, step, None), None
    if nav == "skip":  # "bo qua" where an answer is needed: say so
        return replace(state, tries=state.tries + 1), say("understand.required")
    if step.multi and (inp.payload == DONE or nav == "done"):
        if not state.draft:
            return replace(state, tries=state.tries + 1), say("error.pick_one")
        return _store(state, step, list(state.draft)), None
    if inp.payload is None and inp.text:  # a button typed as it reads ("None received", "12 months or more")
        typed = understand.key(inp.text)
        for choice in step.prompt(view).choices:
            if typed and any(
                understand.key(render_line(choice.label, code)) == typed for code in ("vi", "en")
            ):
                inp = Input(payload=choice.payload)
                break
    finish = False
    if step.multi and inp.payload is None:
        head, done = _ends_with_done(inp.text)
        if done and head:
            inp, finish = Input(text=head), True
    try:
        value = step.parse(view, inp)
    except Invalid as bad:
        return replace(state, tries=state.tries + 1), bad.msg
    if isinstance(value, Guess):
        return replace(state, guess={"step": step.name, "value": value.value}, tries=0), None
    if step.multi:
        draft = list(state.draft)
        if len(value) > 1:  # "1, 2 va 3": those are picked (a single pick toggles)
            draft.extend(p for p in value if p not in draft)
        else:
            for payload in value:
                if payload in draft:
                    draft.remove(payload)
                else:
                    draft.append(payload)
        if finish and draft:
            return _store(state, step, draft), None
        return replace(state, draft=tuple(draft), tries=0), None
    return _store(state, step, value), None


def _paginated(step: Step, view: View) -> bool:
    prompt = step.prompt(view)
    shown = not prompt.buttons_only_after_tries or view.state.tries >= TRIES_BEFORE_BUTTONS
    return shown and len(prompt.choices) > PAGE_SIZE


def _ends_with_done(text: str) -> tuple[str, bool]:
    """ "1 3 xong" -> ("1 3", True): picks and "done" in one message."""
    words = text.split()
    for cut in (1, 2):
        if len(words) > cut and understand.nav_word(" ".join(words[-cut:])) == "done":
            return " ".join(words[:-cut]).rstrip(" ,;."), True
    return text, False


def _store(state: State, step: Step, value: Any) -> State:
    answers = {**state.answers, step.name: value}
    history = state.history if state.history[-1:] == (step.name,) else (*state.history, step.name)
    # The next question is chosen by ask() from the steps the new answers produce (they may add steps).
    return replace(
        state,
        answers=answers,
        history=history,
        cursor=None,
        tries=0,
        page=0,
        editing=False,
        draft=(),
        guess=None,
    )


def back(flow: Flow, state: State, ctx: Any) -> State:
    """The previous question, every answer kept."""
    steps = flow.steps(flow.view(state, ctx))
    names = {s.name for s in steps}
    history = [h for h in state.history if h in names and h != state.cursor]
    if not history:
        return state
    return replace(edit(state, history[-1]), history=tuple(history))


def edit(state: State, step_name: str) -> State:
    """Ask ``step_name`` again; a multi-select starts from its current answer."""
    current = state.answers.get(step_name)
    draft = tuple(current) if isinstance(current, list) else ()
    return replace(state, cursor=step_name, editing=True, tries=0, page=0, draft=draft, guess=None)


def plain(text: str) -> Plain:
    return Plain(text)
