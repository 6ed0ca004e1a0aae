"""Benchmarks: each module's ``main()`` prints its figures (never part of the test suite)."""
