"""Benchmarks at real size (bench/run.py); not part of the product."""
