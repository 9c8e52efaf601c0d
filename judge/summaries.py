"""What `summary.json` and the tables say about a run: the headline columns, the per-task
score runs are ranked by, and the summary over a run's latest rows (the run store,
`judge.runs`, reads and writes the rows; this module only counts them)."""
from __future__ import annotations

from typing import Any

from judge.scorers import fields as scorer_fields
from judge.scorers import task_score as family_task_score


# each family's headline score fields, declared by its scorer (`judge.scorers`): (field,
# header, kind), kind pct = share of true as %, num = mean (Static %: lower is better). A
# judge-error row carries them as null.
FIELDS = {family: list(cols) for family, cols in scorer_fields().items()}
COLUMNS = [c for cols in FIELDS.values() for c in cols]
HEADLINE = {family: tuple(c[0] for c in cols) for family, cols in FIELDS.items()}


def task_score(row: dict) -> float | None:
    """The per-task number runs are ranked by (the family scorer's `task_score`: e.g.
    mean(appearance, temporal) for an animation, Final for an interactive task); None for
    a judge-error row."""
    return family_task_score(row)


def _metrics(rows: list[dict]) -> dict:
    out: dict[str, Any] = {}
    for fld, _, kind in COLUMNS:
        vals = [r[fld] for r in rows if isinstance(r.get(fld), (bool, int, float))]
        if vals:
            mean = sum(float(v) for v in vals) / len(vals)
            out[fld] = round(100 * mean, 2) if kind == "pct" else round(mean, 4)
        else:
            out[fld] = None
        out[f"n_{fld}"] = len(vals)
    scores = [s for s in map(task_score, rows) if s is not None]
    out["score"] = round(sum(scores) / len(scores), 4) if scores else None
    return out


def summarize(latest: dict[str, dict], task_ids: list[str] | None = None) -> dict:
    """Headline numbers over `task_ids` (default: every task with a row)."""
    ids = list(task_ids) if task_ids is not None else list(latest)
    rows = [latest[t] for t in ids if t in latest]
    missing = [t for t in ids if t not in latest]
    scored = [r for r in rows if not r.get("judge_error")]
    out: dict[str, Any] = {"tasks": len(ids), "scored": len(scored), "judge_errors": len(rows) - len(scored),
                           "missing": len(missing), "families": {}}
    for fam in sorted({r.get("family") or "?" for r in rows}):
        frows = [r for r in rows if (r.get("family") or "?") == fam]
        fscored = [r for r in frows if not r.get("judge_error")]
        out["families"][fam] = {"tasks": len(frows), "scored": len(fscored),
                                "judge_errors": len(frows) - len(fscored),
                                "generation_failures": sum(r.get("error_kind") == "generation" for r in fscored),
                                "page_errors": sum(r.get("error_kind") == "page" for r in fscored),
                                **_metrics(fscored)}
        if any("blocked_requests" in r for r in fscored):   # hook (judge.libs): tasks whose page had requests blocked
            out["families"][fam]["blocked_request_tasks"] = sum(1 for r in fscored if r.get("blocked_requests"))
        if any("weak_steps" in r for r in fscored):   # passed steps whose only evidence was "pixels changed"
            out["families"][fam]["weak_steps"] = sum(int(r.get("weak_steps") or 0) for r in fscored)
    out["overall"] = _metrics(scored)
    out["generation_failures"] = [{"task_id": r["task_id"], "error": r.get("error")}
                                  for r in scored if r.get("error_kind") == "generation"]
    out["judge_error_list"] = [{"task_id": r["task_id"], "judge_error": r.get("judge_error")}
                               for r in rows if r.get("judge_error")]
    out["missing_list"] = missing
    out["blocked_request_tasks"] = [r["task_id"] for r in scored if r.get("blocked_requests")]
    return out
