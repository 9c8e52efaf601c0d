"""Interaction scores of a replayed task (IWR-Bench definitions, plus a diagnostic).

For a task with n actions and per-action outcomes `passed[0..n-1]`:

- `ifs` (Interactive Functionality Score) = (number of actions passed before the first
  failure) / n -- IWR-Bench's definition: the replay is judged as a prefix, so a task
  broken at action k (1-based) scores (k-1)/n whatever happens after.
- `ifs_steps` = (actions passed anywhere) / n -- the judge keeps replaying after a
  failure, so later steps are still reported; this is a diagnostic, not the benchmark.
- `final` = 0.7 * ifs + 0.3 * vfs (IWR-Bench's Final), with `vfs` from `metrics.visual`.

An action that was never attempted (the page failed earlier) counts as not passed.
"""
from __future__ import annotations

from typing import Sequence

IFS_WEIGHT = 0.7


def passed_prefix(passed: Sequence[bool]) -> int:
    k = 0
    for p in passed:
        if not p:
            break
        k += 1
    return k


def ifs(passed: Sequence[bool]) -> float:
    """Passed prefix / total; 0.0 for a task without actions."""
    return passed_prefix(passed) / len(passed) if len(passed) else 0.0


def ifs_steps(passed: Sequence[bool]) -> float:
    """Passed actions / total, not stopping at the first failure."""
    return sum(bool(p) for p in passed) / len(passed) if len(passed) else 0.0


def final_score(ifs_value: float, vfs_value: float, ifs_weight: float = IFS_WEIGHT) -> float:
    """IWR-Bench's Final = 0.7 * IFS + 0.3 * VFS."""
    return ifs_weight * ifs_value + (1.0 - ifs_weight) * vfs_value


def ifs_pair(passed: Sequence[bool]) -> tuple[float, float]:
    """(ifs, ifs_steps)."""
    return ifs(passed), ifs_steps(passed)


def summarize_steps(steps: list[dict], actions: Sequence, page_failed: str | None) -> list[dict]:
    """One record per action, in action order: the judged steps as given, and for every
    action never attempted (the page failed earlier) a failed, unreached record."""
    by_index = {s["index"]: s for s in steps}
    out = []
    for i, a in enumerate(actions):
        if i in by_index:
            out.append(by_index[i])
            continue
        out.append({"index": i, "type": a.type, "description": a.description, "assertion": a.assertion,
                    "rung": None, "element": None, "path": None, "executed": False, "passed": False,
                    "verdict_source": "rule:not-reached", "reached": False, "after": None, "model_calls": 0,
                    "verdict_reason": "not reached: " + (page_failed or "the replay stopped earlier"),
                    "error": page_failed, "timings": {}})
    return out


MODEL_RUNGS = ("llm", "vlm")
PAGE_LEVEL_RUNGS = ("none", "focused", "window")


def grounding_stats(steps: list[dict]) -> dict:
    """How actions were grounded. `without_model` = share of the actions that needed an
    element (not wait / targetless press or scroll) and were grounded with no model call;
    unreached actions are left out."""
    reached = [s for s in steps if s.get("reached", True)]
    element = [s for s in reached if s.get("rung") not in PAGE_LEVEL_RUNGS]
    free = [s for s in element if s.get("rung") and s["rung"] not in MODEL_RUNGS and not s.get("model_calls")]
    rungs: dict[str, int] = {}
    for s in reached:
        key = s.get("rung") or "failed"
        rungs[key] = rungs.get(key, 0) + 1
    return {"rungs": rungs, "model_calls": sum(s.get("model_calls", 0) for s in reached),
            "element_actions": len(element), "without_model": len(free) / len(element) if element else None}
