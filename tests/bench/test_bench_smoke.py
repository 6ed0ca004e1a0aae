"""Each benchmark runs once in a tiny size, so that none rots: it must finish and report its
figures. No time is asserted (make bench measures; the suite only runs)."""

from __future__ import annotations

import pytest

from bench import bench_api, bench_provisioning
from bench.report import Figure, table


@pytest.mark.parametrize("bench", [bench_provisioning, bench_api], ids=["provisioning", "api"])
def test_benchmark_runs_and_reports(bench):
    figures = bench.main(quick=True)
    assert figures and all(isinstance(f, Figure) and f.value > 0 for f in figures)
    assert all(f.baseline for f in figures)  # every figure beside its baseline
    assert table(figures).count("\n") == len(figures) + 1


def test_goals_read_as_bounds():
    assert Figure("b", "n", 0.8, "s", goal="<= 1").met is True
    assert Figure("b", "n", 1.2, "s", goal="<= 1").met is False
    assert Figure("b", "n", 30, "req/s", goal=">= 0.5x", baseline=50).met is True
    assert Figure("b", "n", 20, "req/s", goal=">= 0.5x", baseline=50).met is False
    assert Figure("b", "n", 20, "req/s").met is None
