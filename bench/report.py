"""One table for every benchmark: each figure with its goal and its ratio to a baseline
measured in the same run.

A benchmark's ``main()`` returns a list of :class:`Figure`; ``python -m bench`` prints them all
in one table and writes ``bench/results.json``. Figures are reported, never asserted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class Figure:
    """One measured figure, e.g. "40 rooms ready" 0.82 s against 12 s one after another."""

    bench: str
    name: str
    value: float
    unit: str
    #: The goal as a bound on ``value`` (``"<= 1"``, ``">= 0.5x"`` on the ratio), or "".
    goal: str = ""
    baseline: float | None = None
    baseline_name: str = ""

    @property
    def ratio(self) -> float | None:
        """value / baseline."""
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        """Whether the goal holds (None without a goal)."""
        if not self.goal:
            return None
        op, _, bound = self.goal.partition(" ")
        on_ratio = bound.endswith("x")
        subject = self.ratio if on_ratio else self.value
        if subject is None:
            return None
        limit = float(bound.rstrip("x"))
        return subject <= limit if op == "<=" else subject >= limit


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def table(figures: list[Figure]) -> str:
    """The Markdown table README's Performance section shows."""
    lines = ["| bench | figure | value | goal | baseline (same run) | ratio | goal met |",
             "|---|---|---:|---|---|---:|---|"]
    for f in figures:
        base = f"{_number(f.baseline)} {f.unit} ({f.baseline_name})" if f.baseline else "-"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        met = {True: "yes", False: "**no**", None: "-"}[f.met]
        lines.append(f"| {f.bench} | {f.name} | {_number(f.value)} {f.unit} | "
                     f"{f.goal or '-'} | {base} | {ratio} | {met} |")
    return "\n".join(lines)


def write(figures: list[Figure], path: Path = RESULTS) -> None:
    """``bench/results.json``: every figure with its ratio and whether its goal is met."""
    rows = [{**asdict(f), "ratio": f.ratio, "met": f.met} for f in figures]
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
