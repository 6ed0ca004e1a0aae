"""Run every benchmark (``make bench``), or the ones named: ``python -m bench calendars``."""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = ("provisioning", "calendars", "live", "mail")


def main(argv: list[str]) -> int:
    """Run the named benchmarks (default: all) one after another."""
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.bench_{name}").main()
        print(f"=== {name} took {time.perf_counter() - started:.1f} s ===", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
