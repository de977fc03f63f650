"""90 % intervals on model-based numbers from the fits' parameter uncertainty (integration pending)."""

from __future__ import annotations


def change_interval(db, key: str, period, compare: str = "previous", filters: dict | None = None):
    return None
