"""The owner's journey driven through ``conversations/`` alone, with plain values: no database, no shell.

(state, input, context) -> Outcome(state, replies, effects): the journey the end-to-end tests play through
the service, here checked on the core's own contract — what is said, and which effects are asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from conversations.context import Context
from conversations.effects import Effect, FileDossier, RecordConsent
from conversations.engine import Input, State
from conversations.messages import render
from conversations.owner.handler import handle
from rules.agencies import load_agencies
from rules.catalogue import default_catalogue
from rules.estimate import Used

HANOI = ["Ha Noi", "Hoan Kiem", "12 Hang Bac", "0912345678", "bo qua"]


@dataclass
class CoreOwner:
    """An owner talking to the pure core; the shell's only part played here: consent recorded."""

    ctx: Context
    state: State = field(default_factory=State)
    effects: list[Effect] = field(default_factory=list)

    def send(self, text: str = "", payload: str | None = None) -> str:
        out = handle(self.state, Input(text=text, payload=payload), self.ctx)
        self.state = out.state
        self.effects.extend(out.effects)
        if any(isinstance(e, RecordConsent) for e in out.effects):
            self.ctx = replace(self.ctx, consented=True)
        results: dict[str, Any] = {"dossier_ref": "HS-TEST"}
        return "\n".join(render(r, self.state.lang, results) for r in out.replies)

    def script(self, *lines: str) -> str:
        out = ""
        for line in lines:
            out = self.send(line)
        return out


def context(**changes: Any) -> Context:
    base = Context(
        today=dt.date(2026, 6, 1),
        catalogue=default_catalogue(),
        agencies=tuple(load_agencies().values()),
    )
    return replace(base, **changes)


def test_micro_services_firm_files_consulting_through_the_core_alone() -> None:
    owner = CoreOwner(context())
    assert "Nghị định 13/2023/NĐ-CP" in owner.send("/start")
    owner.script("dong y", "Dịch vụ Lõi", "0100109106", "1", *HANOI)
    size = owner.script("dich vu", "6", "4", "3 ty", "1 ty", "12", "khong", "khong", "khong", "1")
    assert "Doanh nghiệp siêu nhỏ" in size and "Điều 5 Nghị định 80/2021/NĐ-CP" in size
    owner.send("1")
    owner.send(payload="III.A")
    owner.send("xong")
    review = owner.script("40 trieu", "co", "TVV-7", "chua")
    assert "ngân sách nhà nước hỗ trợ 40 triệu đồng" in review  # micro: 100% up to 50 M (ND80 Art. 13.2.a)
    filed = owner.send("nop ho so")
    assert "HS-TEST" in filed and "14 ngày làm việc" in filed
    [dossier] = [e for e in owner.effects if isinstance(e, FileDossier)]
    [item] = dossier.data["items"]
    assert (item["code"], item["content"], item["state_vnd"]) == ("III.A.1.1", "consulting", 40_000_000)
    assert [type(e) for e in owner.effects].count(RecordConsent) == 1


def test_what_the_firm_received_this_year_reaches_the_estimate_tt06_art3_5() -> None:
    """The shell passes the year's use per content; the core takes it from the yearly cap."""
    owner = CoreOwner(context(consented=True, used={"consulting": Used(30_000_000, 1)}))
    owner.send("/start")
    owner.script("Dịch vụ Lõi", "0100109106", "1", *HANOI)
    owner.script("dich vu", "6", "1", "3 ty", "1 ty", "12", "khong", "khong", "khong", "1", "1")
    owner.send(payload="III.A")
    owner.send("xong")
    review = owner.script("40 trieu", "co", "TVV-7", "chua")
    assert "ngân sách nhà nước hỗ trợ 20 triệu đồng" in review  # 50 M a year, 30 M already received


def test_an_open_dossier_hides_its_content_tt06_art3_4() -> None:
    owner = CoreOwner(context(consented=True, open_item_ids=frozenset({"consulting-micro"})))
    owner.send("/start")
    owner.script("Dịch vụ Lõi", "0100109106", "1", *HANOI)
    items = owner.script("dich vu", "6", "4", "3 ty", "1 ty", "12", "khong", "khong", "khong", "1", "1")
    assert "III.A" not in items.split("không hiển thị")[0] and "1 nội dung không hiển thị" in items
