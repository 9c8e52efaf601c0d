"""What `judge view` knows about its runs: a read-only catalog over run directories.

Contract:
- `Catalog(paths)` reads every run through `judge.read_run` (run.json, the last row per
  task, the summary); nothing here parses results.jsonl itself. Runs are numbered in the
  order given; each has a unique `label` (run.json `name`, else the folder name; `/` and
  `=` replaced, a suffix `-2`, `-3`… on clashes) that names it in label files and in the
  `judge align --run LABEL=PATH` command the viewer prints.
- Task folders come from run.json `task_roots` (the first run naming a task wins) and are
  loaded with `judge.tasks.load_task`; a folder that no longer loads is reported as
  missing, never served.
- `task_rows()`: one entry per task of any run: family, per-run headline fields, the
  task score (`judge.summaries.task_score`), judge errors, and the spread of task scores
  between runs (`disagreement` = max − min over the runs that scored it).
- `steps(run, task)`: the interactive judge's step records, from
  `artifacts/<task>/steps.jsonl` when present (the full records: candidates, decision,
  evidence), else the row's `steps`; with the before/after screenshot and the reference
  checkpoint of each step as paths relative to the run / task folder.
- `resolve(root, rel)` is the one path check for files served from a run or a task folder:
  no absolute paths, no `..` segment, and the resolved file (symlinks followed) must lie
  under the resolved root; else None.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judge.errors import UsageError
from judge.html import read_jsonl
from judge.summaries import HEADLINE, task_score
from judge.tasks import Task, load_task


@dataclass
class Run:
    index: int
    label: str
    path: Path
    meta: dict
    latest: dict[str, dict]
    task_ids: list[str]
    summary: dict
    model: str

    def row(self, task_id: str) -> dict | None:
        return self.latest.get(task_id)


def resolve(root: Path, rel: str) -> Path | None:
    """`root/rel` when it is a file inside `root` (see the module docstring), else None."""
    if not rel or "\x00" in rel or rel.startswith(("/", "\\")):
        return None
    parts = re.split(r"[/\\]", rel)
    if any(p in ("..", "") for p in parts) or re.match(r"^[A-Za-z]:", rel):
        return None
    base = root.resolve()
    try:
        target = (base / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_file() or not target.is_relative_to(base):
        return None
    return target


def _label(meta: dict, path: Path, taken: set[str]) -> str:
    base = re.sub(r"[/=\s]+", "-", str(meta.get("name") or path.name)).strip("-") or "run"
    label, k = base, 2
    while label in taken:
        label, k = f"{base}-{k}", k + 1
    taken.add(label)
    return label


@dataclass
class Catalog:
    runs: list[Run] = field(default_factory=list)
    task_roots: dict[str, Path] = field(default_factory=dict)
    _tasks: dict[str, Task | None] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: list[Path | str]) -> "Catalog":
        from judge import read_run

        cat, taken = cls(), set()
        for i, p in enumerate(paths):
            path = Path(p)
            try:
                info = read_run(path)
            except FileNotFoundError as e:
                raise UsageError(f"{path}: RUN: {e}") from None
            meta = info["meta"]
            cat.runs.append(Run(i, _label(meta, path, taken), path.resolve(), meta, info["latest"],
                                list(info["task_ids"]), info["summary"], str(info["model"])))
            for tid, folder in (meta.get("task_roots") or {}).items():
                cat.task_roots.setdefault(tid, Path(folder))
        if not cat.runs:
            raise UsageError("RUN: give at least one run directory")
        return cat

    # ---- tasks ------------------------------------------------------------------------
    def task_ids(self) -> list[str]:
        ids: dict[str, None] = {}
        for r in self.runs:
            for t in [*r.task_ids, *r.latest]:
                ids.setdefault(t, None)
        return list(ids)

    def task(self, task_id: str) -> Task | None:
        """The task's spec and folder, None when no run names a folder that loads."""
        if task_id not in self._tasks:
            folder = self.task_roots.get(task_id)
            try:
                self._tasks[task_id] = load_task(folder) if folder is not None else None
            except Exception:  # a moved or broken task folder: shown as missing, never served
                self._tasks[task_id] = None
        return self._tasks[task_id]

    def family(self, task_id: str) -> str | None:
        for r in self.runs:
            row = r.row(task_id)
            if row and row.get("family"):
                return row["family"]
        t = self.task(task_id)
        return t.family if t else None

    def run(self, index: int) -> Run | None:
        return self.runs[index] if 0 <= index < len(self.runs) else None

    def task_rows(self) -> list[dict]:
        out = []
        for tid in self.task_ids():
            fam = self.family(tid)
            per = []
            for r in self.runs:
                row = r.row(tid)
                if row is None:
                    per.append(None)
                    continue
                per.append({"score": task_score(row), "judge_error": row.get("judge_error"),
                            "error": row.get("error"), "exec": row.get("exec"),
                            **{k: row.get(k) for k in HEADLINE.get(fam or "", ())}})
            scores = [p["score"] for p in per if p and p["score"] is not None]
            out.append({"task_id": tid, "family": fam, "runs": per,
                        "disagreement": (max(scores) - min(scores)) if len(scores) >= 2 else None,
                        "judge_errors": sum(1 for p in per if p and p["judge_error"]),
                        "has_task": self.task(tid) is not None})
        return out

    # ---- interactive evidence ------------------------------------------------------------
    def steps(self, run: Run, task_id: str) -> list[dict]:
        """Step records of one judgment with image paths (see the module docstring)."""
        art = run.path / "artifacts" / task_id
        sj = art / "steps.jsonl"
        if resolve(run.path, f"artifacts/{task_id}/steps.jsonl"):
            recs = read_jsonl(sj)
        else:
            row = run.row(task_id) or {}
            recs = [dict(s) for s in row.get("steps") or [] if isinstance(s, dict)]
        task = self.task(task_id)
        out = []
        for i, st in enumerate(recs):
            k = st.get("index", i)
            shots = {}
            for side in ("before", "after"):
                names = [st[side]] if isinstance(st.get(side), str) else []
                if isinstance(k, int):
                    names += [f"steps/step_{k:02d}_{side}.png", f"step_{k}_{side}.png"]
                for name in names:
                    if resolve(run.path, f"artifacts/{task_id}/{name}"):
                        shots[side] = f"artifacts/{task_id}/{name}"
                        break
            ref = None
            if task is not None and isinstance(k, int) and 0 <= k < len(task.spec.actions):
                cp = task.checkpoint_path(k)
                if cp is not None and cp.is_file():
                    ref = cp.resolve().relative_to(task.root.resolve()).as_posix()
            out.append({**_jsonable(st), "index": k, "shots": shots, "reference": ref})
        return out

    def initial(self, run: Run, task_id: str) -> str | None:
        rel = f"artifacts/{task_id}/initial.png"
        return rel if resolve(run.path, rel) else None

    def trace(self, run: Run, task_id: str) -> str | None:
        rel = f"artifacts/{task_id}/trace.zip"
        return rel if resolve(run.path, rel) else None


def _jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, default=str))
