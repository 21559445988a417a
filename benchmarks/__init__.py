"""Measurements of lienthong's signing paths (run them as modules: ``python -m benchmarks.X``)."""
