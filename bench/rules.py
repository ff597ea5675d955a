"""Benchmark: classify + estimate of every firm item for one profile. Not a test; prints figures.

Target (issue 3): under 1 ms per profile. The baseline, run in the same process, is classify alone, so
the ratio says how much the estimates add whatever the machine's speed today.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable

from rules.catalogue import Flag, default_catalogue
from rules.estimate import Profile, estimate
from rules.size import Declaration, Sector, classify

DECL = Declaration(Sector.industry, 8, 2_500_000_000, 5_000_000_000, female_workers=5)
TODAY = dt.date(2026, 6, 1)
FLAGS = frozenset({Flag.women_owned, Flag.cluster, Flag.production_processing})


def one_profile() -> int:
    result = classify(DECL)
    profile = Profile.of(result, FLAGS)
    catalogue = default_catalogue()
    total = 0
    for rows in catalogue.families().values():
        total += estimate(rows, profile, 120_000_000, 2, on=TODAY).state_vnd
    return total


def baseline() -> int:
    return classify(DECL).alternatives.__len__()


def measure(fn: Callable[[], int], rounds: int = 7, per_round: int = 300) -> float:
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            fn()
        samples.append((time.perf_counter() - start) / per_round)
    return statistics.median(samples)


def main() -> None:
    families = len({i.family_key for _, i in default_catalogue().items.values() if i.for_firms})
    base = measure(baseline, per_round=3000)
    full = measure(one_profile)
    print(f"rules: {families} item families estimated per profile")
    print(f"baseline classify only : {base * 1e6:8.1f} µs")
    print(f"classify + all items   : {full * 1e6:8.1f} µs per profile  (target < 1000 µs)")
    print(f"ratio full / baseline  : {full / base:8.1f}x")


if __name__ == "__main__":
    main()
