"""Benchmarks: the app against minimal handlers, side by side, on one machine.

Run with `python -m benchmarks.run` (see benchmarks/README.md). Never part of
the test suite; `tests/bench/test_smoke.py` only checks that the harness
still produces numbers.
"""
