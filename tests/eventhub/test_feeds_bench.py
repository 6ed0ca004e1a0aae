"""bench/bench_calendars.py runs end to end in a tiny size, so that it never rots (no time is
asserted: figures are only printed)."""

from __future__ import annotations

from bench import bench_calendars


def test_calendar_benchmark_runs_in_a_tiny_size(capsys):
    figures = bench_calendars.run(tiny=True)
    assert figures["public_feed"]["events"] == 4
    assert figures["personal_feed"]["events"] == 2
    assert set(figures["programme_page"]) == {"bytes", "cold", "warm", "304"}
    printed = capsys.readouterr().out
    assert "cold / icalendar same calendar" in printed and "programme page" in printed
