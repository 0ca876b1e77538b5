"""Percentiles for the benchmarks' reports."""

from __future__ import annotations


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(label: str, values: list[float], width: int = 22) -> str:
    """p50/p95/p99/max of `values` (milliseconds) on one line."""
    return (
        f"{label:{width}s} p50 {pct(values, 50):6.2f} ms  p95 {pct(values, 95):6.2f} ms  "
        f"p99 {pct(values, 99):6.2f} ms  max {max(values):6.2f} ms  n={len(values)}"
    )
