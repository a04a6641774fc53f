"""Helpers over generated QA records."""
from __future__ import annotations

from collections import defaultdict


def group_by_task(records) -> dict:
    out = defaultdict(list)
    for qa in records:
        out[qa.task].append(qa)
    return out
