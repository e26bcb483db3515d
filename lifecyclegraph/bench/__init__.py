"""Benchmarks, run with ``lifecyclegraph bench <name>``; never part of the test suite."""
