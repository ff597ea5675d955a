"""``/programme_add``, ``/programme_publish``, ``/programme_close``, ``/programmes`` (officers) and the
budget guard of ``/approve`` (issue 16).

A programme is the YAML of ``rules/data/programmes/``: validated here with
:func:`rules.catalogue.parse_programme` and against the live catalogue (unique ids, known contents and
documents), stored by the shell as a draft version, published or closed only by an officer of an
agency whose area covers the programme's region (or an admin). The shipped programmes cannot be
shadowed.
"""

from __future__ import annotations

import re

from conversations.effects import AuditRefused
from conversations.messages import Choice, Line, Money, Plain, say
from conversations.officer.base import Answer, answer
from conversations.officer.context import DossierRecord, OfficerContext, ProgrammeRecord
from conversations.programme_effects import ProgrammeDraft, ProgrammeStatus
from rules.agencies import Agency
from rules.catalogue import Catalogue, CatalogueError, Programme, Region, parse_programme
from rules.places import same_place

#: "items: Tuple should have at least 1 item after validation, not 0": said of the list when an item of
#: it is invalid, which the item's own errors already name.
_CASCADE = re.compile(r"items: .*at least 1 item")

#: The word that confirms an approval over the programme's remaining budget.
CONFIRM = "confirm"


def covers(agency: Agency | None, region: Region) -> bool:
    """An agency's area covers a programme's region: a national agency everything; a province's every
    programme of that province (and its communes); a commune's only that commune's. None: an admin."""
    if agency is None:
        return True
    if agency.province is None:
        return True
    if region.level == "national" or not same_place(agency.province, region.province or ""):
        return False
    if agency.commune is None:
        return True
    return region.level == "commune" and same_place(agency.commune, region.commune or "")


def _shipped(ctx: OfficerContext) -> set[str]:
    return {p.id for p in ctx.programmes if p.status == "shipped"}


def _fits_catalogue(programme: Programme, ctx: OfficerContext) -> str | None:
    """Why the programme cannot join the live catalogue (an item id already used, an unknown content or
    document), or None."""
    others = [p for pid, p in ctx.catalogue.programmes.items() if pid != programme.id]
    try:
        Catalogue([*others, programme], ctx.catalogue.evidence, ctx.catalogue.contents)
    except CatalogueError as exc:
        return str(exc)
    return None


def programme_add(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    text = arg.strip("\n")
    if not text.strip():
        return answer(say("programmes.add_usage"))
    try:
        programme = parse_programme(text, "programme.yaml")
    except CatalogueError as exc:
        errors = [line.strip() for line in str(exc).splitlines()[1:]] or [str(exc)]
        if any(" item '" in line for line in errors):  # the list's own error only repeats a bad item's
            errors = [line for line in errors if not _CASCADE.search(line)] or errors
        return answer(say("programmes.add_invalid", count=len(errors), errors=Plain("\n".join(errors))))
    if programme.id in _shipped(ctx):
        return answer(say("programmes.shipped", id=programme.id))
    if not covers(ctx.agency, programme.region):
        return answer(say("programmes.not_your_area", id=programme.id))
    problem = _fits_catalogue(programme, ctx)
    if problem is not None:
        return answer(say("programmes.add_invalid", count=1, errors=Plain(problem)))
    known = ctx.programme(programme.id)
    draft = ProgrammeDraft(programme.id, text, ctx.agency.id if ctx.agency else None)
    return answer(
        say(
            "programmes.added",
            id=programme.id,
            version=(known.version if known else 0) + 1,
            title=Plain(programme.title.get(lang)),
            items=len(programme.items),
        ),
        effects=(draft,),
    )


def _stored(arg: str, ctx: OfficerContext, command: str) -> ProgrammeRecord | Answer:
    programme_id = arg.strip().split(" ")[0].lower()
    if not programme_id:
        return answer(say("programmes.need_id", command=command))
    record = ctx.programme(programme_id)
    if record is None:
        return answer(say("programmes.unknown", id=programme_id))
    if record.status == "shipped":
        return answer(say("programmes.shipped_fixed", id=programme_id))
    if not covers(ctx.agency, record.programme.region):
        return Answer(
            (answer(say("programmes.not_your_area", id=programme_id)).replies),
            (AuditRefused(f"{command} {programme_id}"),),
        )
    return record


def programme_publish(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    record = _stored(arg, ctx, "/programme_publish")
    if isinstance(record, Answer):
        return record
    if record.status == "published":
        return answer(say("programmes.already", id=record.id, status=say("programmes.status.published")))
    problem = _fits_catalogue(record.programme, ctx)
    if problem is not None:
        return answer(say("programmes.add_invalid", count=1, errors=Plain(problem)))
    effect = ProgrammeStatus(record.id, record.version, "published", record.status)
    title = Plain(record.programme.title.get(lang))
    return answer(
        say("programmes.published", id=record.id, version=record.version, title=title), effects=(effect,)
    )


def programme_close(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    record = _stored(arg, ctx, "/programme_close")
    if isinstance(record, Answer):
        return record
    if record.live_version is None:
        return answer(say("programmes.not_published", id=record.id))
    effect = ProgrammeStatus(record.id, record.live_version, "closed", "published")
    title = Plain(record.programme.title.get(lang))
    return answer(say("programmes.closed", id=record.id, title=title), effects=(effect,))


def period(programme: Programme) -> str:
    until = programme.valid_to.isoformat() if programme.valid_to else "…"
    return f"{programme.valid_from.isoformat()} – {until}"


def programmes(arg: str, ctx: OfficerContext, lang: str, version: int | None) -> Answer:
    lines: list[Line] = [say("programmes.list_title", count=len(ctx.programmes))]
    for record in ctx.programmes:
        p = record.programme
        budget: Line = (
            say("programmes.budget", used=Money(record.used_vnd), total=Money(p.budget_vnd))
            if p.budget_vnd is not None
            else say("programmes.budget_open", used=Money(record.used_vnd))
        )
        lines.append(
            say(
                "programmes.list_line",
                id=p.id,
                title=Plain(p.title.get(lang)),
                status=say(f"programmes.status.{record.status}")
                if record.status == "shipped"
                else say(
                    "programmes.status_version",
                    status=say(f"programmes.status.{record.status}"),
                    version=record.version,
                ),
                period=period(p),
                budget=budget,
                dossiers=record.dossiers,
            )
        )
    return answer(*lines)


def over_budget(
    d: DossierRecord, approvals: dict[str, int], text: str, ctx: OfficerContext, lang: str
) -> Answer | None:
    """An approval that would pass a programme's remaining budget: shown with the remainder, made only
    with an explicit ``confirm`` (a word of the command, or the button). None when within budget or
    confirmed."""
    if CONFIRM in text.lower().split():
        return None
    # by the programmes' own items, so a dossier of a programme closed since it was filed is counted too
    programme_of = {i.id: r.id for r in ctx.programmes for i in r.programme.items}
    per_programme: dict[str, int] = {}
    for item in d.items:
        if item.item_id in programme_of:
            pid = programme_of[item.item_id]
            per_programme[pid] = per_programme.get(pid, 0) + approvals.get(item.item_id, 0)
    lines: list[Line] = []
    for pid, amount in per_programme.items():
        record = ctx.programme(pid)
        budget = record.programme.budget_vnd if record else None
        if record is None or budget is None or amount == 0:
            continue
        remaining = budget - record.used_vnd
        if amount > remaining:
            title = Plain(record.programme.title.get(lang))
            lines.append(
                say(
                    "programmes.over_budget",
                    id=pid,
                    title=title,
                    amount=Money(amount),
                    remaining=Money(max(remaining, 0)),
                    total=Money(budget),
                )
            )
    if not lines:
        return None
    again = f"/approve {d.ref} {text} {CONFIRM}".replace("  ", " ")
    lines.append(say("programmes.confirm_hint", command=again))
    return answer(*lines, choices=(Choice(again, say("programmes.confirm_button")),))


def strip_confirm(note: str) -> str:
    return " ".join(w for w in note.split() if w.lower() != CONFIRM)
