"""Pairwise human labels for `judge view`: which pairs to show, and the label file.

Contract:
- Units: (task, pair of runs) where both runs scored the task (no judge error) and have
  something to show: animation, the saved page (`pages/<task>/index.html`, rendered on
  demand); interactive, step screenshots or `initial.png`. In a unit `a` < `b` are the run
  labels (`judge.view.data`), alphabetically, as `judge.prefs` orients them.
- `sample(units, n, seed)`: stratified by task and by score difference: units are
  grouped by task and by the bin of |Δ task score| (`DELTA_BINS`; an undefined Δ is its
  own bin); tasks take turns (in a seeded random order), and within a task its bins take
  turns, each bin in a seeded random order. The first `n` are the session's pairs, the
  same for the same runs, `n` and seed.
- Shown order: per (seed, annotator, unit) a seeded coin gives `order` `ab` (a is
  Candidate 1, on the left) or `ba`; the same on every reload.
- Dimensions: `DIMENSIONS[family]` (animation: overall, motion, appearance;
  interactive: behaviour, look). An answer per dimension is the screen position (`1`,
  `2`, `tie`), turned into the winning field with `agents.pairwise.to_field`.
- The label file is JSONL in the generic prefs format of `judge.prefs`, read by
  `judge align --prefs` unchanged: one row per (pair, dimension) with `task_id, a, b,
  dimension, winner` (a | b | tie: the field, never the screen side), `annotator`,
  `order`, `time_s` (seconds the annotator spent on the pair, all its dimensions) and
  `labelled_at` (UTC ISO time). All rows of a pair are appended with one `write()` under
  `flock`, then fsync: a crash leaves a pair wholly labelled or not at all (a torn last
  line is ignored by readers here; `judge align` rejects it, so repair a file from a
  crashed machine by deleting that line).
- Resume: a pair counts as done for an annotator when the file has a row for each of its
  dimensions from that annotator; `next_pair` returns the first pair of the sample that
  is not done. Submitting a done pair again writes nothing.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
import zlib
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from judge.errors import InputError
from judge.summaries import task_score
from judge.view.data import Catalog, resolve

DIMENSIONS = {"animation": ("overall", "motion", "appearance"), "interactive": ("behaviour", "look")}
DELTA_BINS = (0.05, 0.2)        # |Δ score| < 0.05: close; < 0.2: moderate; else: clear
ANSWERS = ("1", "2", "tie")


class LabelError(InputError):
    """A bad label submission or label file (one line; HTTP 400 in the viewer)."""


@dataclass(frozen=True)
class Unit:
    task_id: str
    family: str
    a: str
    b: str
    run_a: int
    run_b: int
    delta: float | None       # task score of a minus b

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.task_id, self.a, self.b)

    @property
    def stratum(self) -> int:
        if self.delta is None:
            return len(DELTA_BINS) + 1
        return next((i for i, edge in enumerate(DELTA_BINS) if abs(self.delta) < edge), len(DELTA_BINS))


def _showable(cat: Catalog, run, task_id: str, family: str) -> bool:
    if family == "animation":
        return resolve(run.path, f"pages/{task_id}/index.html") is not None
    return cat.initial(run, task_id) is not None or any(s["shots"].get("after") for s in cat.steps(run, task_id))


def units(cat: Catalog) -> list[Unit]:
    """Every labelable (task, run pair), in task then run order."""
    out = []
    for tid in cat.task_ids():
        fam = cat.family(tid)
        if fam not in DIMENSIONS or cat.task(tid) is None:
            continue
        ok = [r for r in cat.runs if (row := r.row(tid)) and not row.get("judge_error") and _showable(cat, r, tid, fam)]
        for x, y in combinations(ok, 2):
            ra, rb = (x, y) if x.label < y.label else (y, x)
            sa, sb = task_score(ra.row(tid)), task_score(rb.row(tid))
            out.append(Unit(tid, fam, ra.label, rb.label, ra.index, rb.index,
                            None if sa is None or sb is None else sa - sb))
    return out


def sample(all_units: list[Unit], n: int, seed: int = 0) -> list[Unit]:
    """The session's pairs (see the module docstring)."""
    rng = np.random.default_rng(seed)
    by_task: dict[str, dict[int, list[Unit]]] = {}
    for u in all_units:
        by_task.setdefault(u.task_id, {}).setdefault(u.stratum, []).append(u)
    queues = []
    for tid in sorted(by_task):
        bins = [by_task[tid][k] for k in sorted(by_task[tid])]
        bins = [[b[i] for i in rng.permutation(len(b))] for b in bins]
        merged = []
        while any(bins):             # the task's bins take turns
            for b in bins:
                if b:
                    merged.append(b.pop(0))
        queues.append(merged)
    queues = [queues[i] for i in rng.permutation(len(queues))]
    out: list[Unit] = []
    while any(queues) and len(out) < n:   # tasks take turns
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def shown_order(seed: int, annotator: str, unit: Unit) -> str:
    rng = np.random.default_rng([seed, zlib.crc32(annotator.encode()), zlib.crc32("|".join(unit.key).encode())])
    return "ab" if rng.random() < 0.5 else "ba"


class LabelFile:
    """The JSONL label file (see the module docstring)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def rows(self) -> list[dict]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        lines.pop()  # after the last newline: b"" or a torn line
        out = []
        for line in lines:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def done(self, annotator: str) -> dict[tuple[str, str, str], set[str]]:
        """(task, a, b) -> dimensions this annotator labelled."""
        out: dict[tuple[str, str, str], set[str]] = {}
        for r in self.rows():
            if r.get("annotator") == annotator:
                a, b = sorted((str(r.get("a")), str(r.get("b"))))
                out.setdefault((str(r.get("task_id")), a, b), set()).add(str(r.get("dimension")))
        return out

    def append(self, rows: list[dict]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = os.lseek(fd, 0, os.SEEK_END)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)


class Session:
    """A labelling study over a catalog: its pairs, the label file, resume."""

    def __init__(self, cat: Catalog, labels: Path | str, n_pairs: int = 20, seed: int = 0):
        self.cat, self.seed = cat, seed
        self.file = LabelFile(labels)
        self.pairs = sample(units(cat), n_pairs, seed)

    def is_done(self, unit: Unit, done: dict) -> bool:
        return set(DIMENSIONS[unit.family]) <= done.get(unit.key, set())

    def progress(self, annotator: str) -> tuple[int, int]:
        done = self.file.done(annotator)
        return sum(self.is_done(u, done) for u in self.pairs), len(self.pairs)

    def next_pair(self, annotator: str) -> tuple[int, Unit] | None:
        done = self.file.done(annotator)
        return next(((i, u) for i, u in enumerate(self.pairs) if not self.is_done(u, done)), None)

    def submit(self, annotator: str, index: int, answers: dict, order: str, time_s: float) -> int:
        """Append the rows of one labelled pair; returns how many (0 when it was already done)."""
        from agents.pairwise import to_field

        annotator = (annotator or "").strip()
        if not annotator:
            raise LabelError("annotator: missing (type your name first)")
        if not isinstance(index, int) or not 0 <= index < len(self.pairs):
            raise LabelError(f"pair: {index!r} is not a pair of this session (0..{len(self.pairs) - 1})")
        unit = self.pairs[index]
        if order != shown_order(self.seed, annotator, unit):
            raise LabelError(f"order: {order!r} is not the order pair {index} was shown in")
        dims = DIMENSIONS[unit.family]
        bad = [d for d in dims if str(answers.get(d)) not in ANSWERS]
        extra = [d for d in answers if d not in dims]
        if bad or extra:
            raise LabelError(f"answers: need one of 1, 2, tie for each of {', '.join(dims)}"
                             f"{' (unknown: ' + ', '.join(map(str, extra)) + ')' if extra else ''}")
        if self.is_done(unit, self.file.done(annotator)):
            return 0
        try:
            spent = round(max(0.0, float(time_s)), 3)
        except (TypeError, ValueError):
            raise LabelError(f"time_s: {time_s!r} is not a number") from None
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rows = [{"task_id": unit.task_id, "a": unit.a, "b": unit.b, "dimension": d,
                 "winner": to_field(str(answers[d]), order), "annotator": annotator, "order": order,
                 "time_s": spent, "labelled_at": when} for d in dims]
        self.file.append(rows)
        return len(rows)
