"""The officer's commands driven through ``conversations/`` alone, with plain values: no database.

handle(command, argument, context, state) -> Outcome(state, replies, effects): the moves asked of the
shell are checked against the one state machine (rules/dossier.py), the conflict of interest and the
service order (ND80 Art. 4.1).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from conversations.effects import AuditConflict, Transition
from conversations.engine import State
from conversations.messages import render
from conversations.officer.context import DossierRecord, Interest, ItemRecord, OfficerContext
from conversations.officer.handler import handle
from rules.agencies import load_agencies
from rules.catalogue import default_catalogue
from rules.deadline import Calendar

AGENCIES = load_agencies()
VI = State(lang="vi")  # an officer's conversation: a staff command leaves it as it was
AGENCY = AGENCIES["so-cong-thuong-quang-tri"]


def dossier(ref: str, status: str, filed: dt.date, **fields: Any) -> DossierRecord:
    item = ItemRecord(
        "consulting-small",
        "III.A.2.1",
        "Tư vấn",
        "Consulting",
        200_000_000,
        1,
        100_000_000,
        None,
        "ND80",
        "ND80",
    )
    base: dict[str, Any] = {
        "id": int(ref[-6:]),
        "ref": ref,
        "status": status,
        "version": 1,
        "firm": "Gốm Việt",
        "tax_code": "0100109106",
        "size": "small",
        "province": "Quảng Trị",
        "commune": "Vĩnh Thủy",
        "filed_on": filed,
        "total_state_vnd": 100_000_000,
        "items": (item,),
        "agency_id": AGENCY.id,
        "owner_id": 7,
    }
    base.update(fields)
    return DossierRecord(**base)


def context(*dossiers: DossierRecord, **fields: Any) -> OfficerContext:
    return OfficerContext(
        actor="console:bob",
        role="officer",
        today=dt.date(2026, 6, 10),
        catalogue=default_catalogue(),
        calendar=Calendar(),
        agencies=AGENCIES,
        agency=AGENCY,
        dossiers=dossiers,
        **fields,
    )


def said(outcome: Any) -> str:
    return "\n".join(render(r, "vi", {}) for r in outcome.replies)


def test_queue_oldest_first_priority_groups_first_among_equals_nd80_art4_1() -> None:
    day = dt.date(2026, 6, 1)
    plain = dossier("HS-2026-000001", "submitted", day)
    women = dossier("HS-2026-000002", "submitted", day, flags=frozenset({"women_owned"}))
    older = dossier("HS-2026-000003", "submitted", day - dt.timedelta(days=1))
    text = said(handle("/queue", "", context(plain, women, older), VI))
    order = [text.index(ref) for ref in ("HS-2026-000003", "HS-2026-000002", "HS-2026-000001")]
    assert order == sorted(order)


def test_claim_asks_the_shell_for_one_move_and_approve_needs_the_claim() -> None:
    d = dossier("HS-2026-000001", "submitted", dt.date(2026, 6, 1))
    [claimed] = handle("/claim", d.ref, context(d), VI).effects
    assert isinstance(claimed, Transition)
    assert (claimed.action, claimed.from_status, claimed.to_status) == (
        "claim",
        "submitted",
        "in_review",
    )
    assert claimed.version == 1  # the shell checks it: two officers cannot both win
    early = handle("/approve", d.ref, context(d), VI)
    assert early.effects == ()  # nothing moves before a claim
    assert "nhận" in said(early).lower()  # the claim is offered first


def test_approve_a_different_amount_with_the_reason() -> None:
    d = dossier("HS-2026-000001", "in_review", dt.date(2026, 6, 1), claimed_by="console:bob")
    [approved] = handle("/approve", f"{d.ref} III.A.2.1=80tr giảm theo báo giá", context(d), VI).effects
    assert isinstance(approved, Transition)
    assert (approved.to_status, approved.approvals) == ("approved", {"consulting-small": 80_000_000})
    assert approved.note == "giảm theo báo giá"
    assert approved.notify_params["approved_vnd"] == 80_000_000


def test_an_officer_cannot_decide_their_own_firm() -> None:
    d = dossier("HS-2026-000001", "in_review", dt.date(2026, 6, 1), claimed_by="console:bob")
    ctx = context(d, interests={"console:bob": Interest(None, frozenset({"0100109106"}))})
    refused = handle("/approve", d.ref, ctx, VI)
    assert refused.effects == (AuditConflict(d.id, d.ref, "approve", "firm"),)
    assert "/reassign" in said(refused)


def test_a_staff_typo_is_said_and_never_shows_the_owner_consent_screen() -> None:
    from conversations.engine import Input, State
    from conversations.officer import workbench

    assert workbench.concerns("/aprove", consented=False, pending=None)
    _, outcome = workbench.route(State(), Input(text="/aprove HS-2026-000001"), context())
    assert outcome is not None
    text = said(outcome)
    assert "không biết lệnh này" in text and "Nghị định 13/2023" not in text
    _, hello = workbench.route(State(), Input(text="/start"), context())
    assert hello is not None and "không biết lệnh này" not in said(hello)
