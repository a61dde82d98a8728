"""Benchmarks that print tables: `python bench/run.py` (see `run.py`)."""
