"""Benchmarks and reference implementations for the rule engine (not shipped)."""
