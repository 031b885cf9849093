"""Helpers for the browser tests and UI benchmarks (not part of the app)."""
