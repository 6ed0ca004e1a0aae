"""Run every benchmark (``make bench``), or the ones named: ``python -m bench calendars``."""

from __future__ import annotations

import importlib
import sys
import time

from bench import report

BENCHMARKS = ("provisioning", "api", "calendars", "live", "mail")


def main(argv: list[str]) -> int:
    """Run the named benchmarks (default: all) one after another."""
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    figures: list[report.Figure] = []
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.perf_counter()
        figures += importlib.import_module(f"bench.bench_{name}").main() or []
        print(f"=== {name} took {time.perf_counter() - started:.1f} s ===", flush=True)
    print("\n=== all figures ===\n")
    print(report.table(figures))
    report.write(figures)
    print(f"\nwritten to {report.RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
