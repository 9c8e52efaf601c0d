"""One scorer per task family, behind a registry.

A family (`animation`, `interactive`, ...) is one module here that defines `SCORER`, an
object with:

- `family`, and `fields`: its headline score fields as `(field, header, kind)` (kind
  `pct`: share of true as %, `num`: mean), declared once for summaries, tables, reports;
- `holds_browser`: whether its whole scoring holds one of the run's browser slots (an
  interactive judgment does; an animation holds a render slot only while rendering);
- `uses_pool`: whether its metrics run in the run's process pool;
- `needs_judge_model`: whether `--judge-model` is called while scoring it;
- `code`: the modules and packages whose source decides its scores (the provenance stamp);
- `async backends(config, pool)` -> resolved backend names (`{"embedder": ...}`);
- `async score(task, html, ctx, artifacts)` -> the family's part of the row;
- `task_score(row)` -> the per-task number runs are ranked by (None: not scored);
- `text(row)` -> the one-line text of `judge score`;
- `report_section(row, artifacts, base, inline)` -> the HTML of its media in the report.

The pipeline, run store, summaries, report, align and replay ask the registry and never
branch on a family's name. Adding a family: a module here, one line in `_MODULES`, the
family's name in `judge.tasks.TaskSpec.family`, and its tests.
"""
from __future__ import annotations

import importlib
from typing import Any

_MODULES = {"animation": "judge.scorers.animation", "interactive": "judge.scorers.interactive"}
FAMILIES = tuple(_MODULES)


class UnknownFamily(KeyError):
    pass


def get_scorer(family: str) -> Any:
    """The scorer of `family` (its module is imported on first use)."""
    try:
        module = _MODULES[family]
    except KeyError:
        raise UnknownFamily(f"no scorer for family {family!r} (known: {', '.join(FAMILIES)})") from None
    return importlib.import_module(module).SCORER


def scorers(families=None) -> list[Any]:
    """The scorers of `families` (default: every registered family), in registry order."""
    return [get_scorer(f) for f in FAMILIES if families is None or f in families]


def fields() -> dict[str, tuple]:
    """{family: its headline fields}."""
    return {f: tuple(get_scorer(f).fields) for f in FAMILIES}


def task_score(row: dict) -> float | None:
    """The per-task number of a row (None for a judge-error row or an unknown family)."""
    if row.get("judge_error") or row.get("family") not in _MODULES:
        return None
    return get_scorer(row["family"]).task_score(row)
