"""Each benchmark runs once in a tiny size, so that none rots: it must finish and report its
figures. No time is asserted (make bench measures; the suite only runs)."""

from __future__ import annotations

import pytest

from bench import bench_api, bench_live, bench_provisioning
from bench.report import Figure, table


@pytest.mark.parametrize("bench", [bench_provisioning, bench_api], ids=["provisioning", "api"])
def test_benchmark_runs_and_reports(bench):
    figures = bench.main(quick=True)
    assert figures and all(isinstance(f, Figure) and f.value > 0 for f in figures)
    assert all(f.baseline for f in figures)  # every figure beside its baseline
    assert table(figures).count("\n") == len(figures) + 1


def test_live_benchmark_runs_on_serve_and_reports():
    """Tiny: 20 clients on `serve` (`make run`'s server), on the bare server and (with the
    local Redis) split over two serve processes; each figure named with what it held."""
    figures = bench_live.main(quick=True)
    names = [f.name for f in figures]
    delivery = next(f for f in figures if f.name.startswith("serve: delivery p99, 20 clients"))
    assert "(20 of 20 connected, missed 0)" in delivery.name
    assert delivery.value > 0 and delivery.baseline > 0  # beside the bare server's
    assert "serve: switch request p50, 20 clients" in names
    assert table(figures).count("\n") == len(figures) + 1


def test_goals_read_as_bounds():
    assert Figure("b", "n", 0.8, "s", goal="<= 1").met is True
    assert Figure("b", "n", 1.2, "s", goal="<= 1").met is False
    assert Figure("b", "n", 30, "req/s", goal=">= 0.5x", baseline=50).met is True
    assert Figure("b", "n", 20, "req/s", goal=">= 0.5x", baseline=50).met is False
    assert Figure("b", "n", 20, "req/s").met is None
