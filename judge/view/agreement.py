"""Judge-vs-human in the viewer: where the metrics and the labels disagree, per task.

Contract:
- `align_command(cat, labels)`: the `judge align` command line over the label file and
  the viewed runs (`--run LABEL=PATH`, so the label file's model names match), with
  `--metric` mappings for the dimensions `judge align` has no default for
  (`behaviour=ifs`, `look=vfs`).
- `report(cat, labels)`: reads the label file with `judge.prefs.load_prefs` (exactly what
  `judge align --prefs` reads) and the runs with `judge.prefs.load_runs`, runs
  `judge.align.align` (α per dimension, ROC-AUC and agreement per metric; bootstrap 200)
  and adds, per task, the units where the metric's choice differs from the human
  consensus (mean vote, `metrics.alignment.consensus`). The metric of a dimension is
  `VIEW_METRICS`: overall = the task score (`judge.summaries.task_score`, the leaderboard
  number), motion = temporal, appearance = appearance, behaviour = ifs, look = vfs.
  A unit whose metric is undefined for either side is listed as `no metric` (not a
  disagreement).
  Without labels yet: `{"labels": 0, ...}` and no statistics.
"""
from __future__ import annotations

import shlex
from collections import defaultdict
from pathlib import Path

import numpy as np

from judge.summaries import task_score
from judge.view.data import Catalog
from metrics import alignment as st

VIEW_METRICS = {"overall": "score", "motion": "temporal", "appearance": "appearance", "behaviour": "ifs", "look": "vfs"}
EXTRA_METRICS = {"behaviour": "ifs", "look": "vfs"}   # dimensions judge align has no default for


def _value(row: dict | None, metric: str) -> float | None:
    if row is None or row.get("judge_error"):
        return None
    v = task_score(row) if metric == "score" else row.get(metric)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def align_command(cat: Catalog, labels: Path, dims: list[str] | None = None) -> str:
    parts = ["judge", "align", "--prefs", str(labels)]
    for r in cat.runs:
        parts += ["--run", f"{r.label}={r.path}"]
    for d in dims or []:
        if d in EXTRA_METRICS:
            parts += ["--metric", f"{d}={EXTRA_METRICS[d]}"]
    return shlex.join(parts)


def report(cat: Catalog, labels: Path) -> dict:
    from judge.align import align
    from judge.prefs import PrefsError, load_prefs, load_runs

    labels = Path(labels)
    out: dict = {"labels": 0, "command": align_command(cat, labels), "dimensions": {}, "alignment": [],
                 "tasks": [], "notes": []}
    if not labels.is_file() or not labels.read_text(encoding="utf-8").strip():
        return out
    try:
        prefs = load_prefs(labels, "generic")
    except PrefsError as e:
        out["notes"].append(str(e))
        return out
    dims = prefs.dimensions
    out["labels"] = len(prefs.ratings)
    out["command"] = align_command(cat, labels, dims)
    scores, info = load_runs([f"{r.label}={r.path}" for r in cat.runs])
    specs = [f"{d}={m}" for d, m in EXTRA_METRICS.items() if d in dims]
    rep = align(prefs, scores, info, specs, n_boot=200, seed=0, allow_missing=True)
    out["notes"] += rep["notes"]
    out["dimensions"] = {d: {k: h[k] for k in ("n_ratings", "n_units", "n_annotators", "alpha_nominal",
                                                "alpha_nominal_no_ties", "tie_rate_ratings")}
                         for d, h in rep["human"].items()}
    out["alignment"] = [{k: a.get(k) for k in ("kind", "dimension", "name", "n_used", "auc", "auc_ci", "agreement")}
                        for a in rep["alignment"]]
    # per unit: human votes -> consensus; the metric's pick
    votes: dict[tuple, np.ndarray] = defaultdict(lambda: np.zeros(3, int))
    for r in prefs.ratings:
        votes[(r.task_id, r.a, r.b, r.dimension)][r.outcome] += 1
    runs = {r.label: r for r in cat.runs}
    per_task: dict[str, list] = defaultdict(list)
    for (tid, a, b, dim), counts in votes.items():
        human = int(st.consensus(counts))
        metric = VIEW_METRICS.get(dim, dim)
        va = _value(runs[a].row(tid), metric) if a in runs else None
        vb = _value(runs[b].row(tid), metric) if b in runs else None
        pick = None if va is None or vb is None else (st.A_WINS if va > vb else st.B_WINS if va < vb else st.TIE)
        name = {st.A_WINS: a, st.B_WINS: b, st.TIE: "tie", None: "no metric"}
        per_task[tid].append({"a": a, "b": b, "dimension": dim, "metric": metric, "score_a": va, "score_b": vb,
                              "human": name[human], "metric_pick": name[pick], "votes": counts.tolist(),
                              "disagree": pick is not None and pick != human})
    for tid in sorted(per_task):
        units = per_task[tid]
        out["tasks"].append({"task_id": tid, "units": len(units), "disagreements": sum(u["disagree"] for u in units),
                             "details": units})
    out["tasks"].sort(key=lambda t: (-t["disagreements"], t["task_id"]))
    return out
