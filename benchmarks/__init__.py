"""Benchmarks (see README.md); not part of the fraiseql package."""
