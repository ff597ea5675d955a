"""Every effect the core may ask for has exactly one runner in the shell, found by its type (issue 14)."""

from __future__ import annotations

from typing import get_args

from bot.effects import RUNNERS, Results
from conversations.effects import Effect
from conversations.messages import ResultName


def test_each_effect_type_has_one_runner_and_nothing_else_is_registered() -> None:
    assert set(RUNNERS) == set(get_args(Effect))


def test_results_name_the_values_a_reply_may_show() -> None:
    results = Results(dossier_refs=["HS-2026-000001", "HS-2026-000002"], outcome="ok")
    assert set(results.shown()) == set(get_args(ResultName))
    assert results.shown()["dossier_ref"] == "HS-2026-000001, HS-2026-000002"
