"""Benchmarks (``dynapose bench ...``): speed and memory, measured, never asserted in tests."""
