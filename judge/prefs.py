"""Loading the inputs of `judge align`: human preferences, judge verdicts, run scores.

Preference files are CSV or JSONL (one JSON object per line); the format is detected
from the columns (``--prefs-format auto``) or forced (``a2c`` / ``generic``).

Animation2Code format (``a2c``; the released ``valid_trials.csv``)
    columns ``model_1, model_2, example`` and one ``winner_<dimension>`` column per
    dimension (released: ``winner_overall, winner_motion, winner_appearance``). A
    winner is ``model_1``'s or ``model_2``'s name, or ``EQUAL`` (a tie; case-insensitive).
    Each row is one annotator's judgment and yields one rating per dimension; the file
    has no annotator id.

Generic format (``generic``)
    columns ``task_id, a, b, dimension, winner`` with winner ∈ ``a | b | tie``
    (case-insensitive; it names the side, not the model) and optional ``annotator``;
    ``order`` (ab | ba: which model was shown first), ``time_s`` and ``labelled_at`` are
    accepted and not used (`judge view` writes them; see `judge.view.labels`).

Any other column is an error (a misspelt optional column must not be ignored silently).

Orientation: every rating is stored with ``a`` = the alphabetically first model of the
pair and ``outcome`` ∈ {A_WINS, B_WINS, TIE} relative to that order, so "model_1 wins"
from rows that list the pair in different orders is the same category.

Pairwise judge verdicts (``pairwise.jsonl``, written by ``judge pairwise``; see
docs/CONTRACTS.md): ``task_id, a, b, dimension, order, verdict, judge_model`` (+ ``raw``
and any other field, ignored). ``a``/``b`` are model names; ``order`` is ``ab`` when a
was shown first and ``ba`` when b was shown first; ``verdict`` ∈ ``a | b | tie`` names
the winning *field* (a or b), independent of the order shown. A null verdict is a judge
failure: counted, not scored.

Run directories (docs/CONTRACTS.md): `load_runs` reads ``results.jsonl`` (one row per
task) and ``run.json`` of each ``--run [NAME=]RUN``.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from judge.errors import InputError
from judge.runs import latest, read_results
from metrics.alignment import A_WINS, B_WINS, TIE

A2C_REQUIRED = ("model_1", "model_2", "example")
GENERIC_REQUIRED = ("task_id", "a", "b", "dimension", "winner")
GENERIC_OPTIONAL = ("annotator", "order", "time_s", "labelled_at")  # the last three: written by judge view
PAIRWISE_REQUIRED = ("task_id", "a", "b", "dimension", "order", "verdict", "judge_model")
FORMATS = ("auto", "a2c", "generic")


class PrefsError(InputError, ValueError):
    """Bad alignment input. ``str()`` is one line: ``path: [row N: ][field: ]message``."""

    def __init__(self, path: Path | str, message: str, field: str = "", row: int | None = None):
        self.path, self.field, self.row, self.message = str(path), field, row, message
        where = "".join([f"row {row}: " if row is not None else "", f"{field}: " if field else ""])
        super().__init__(f"{path}: {where}{message}")


@dataclass(frozen=True)
class Rating:
    """One human rating of one comparison on one dimension (``a`` < ``b`` alphabetically)."""
    task_id: str
    a: str
    b: str
    dimension: str
    outcome: int
    annotator: str | None
    row: int


@dataclass(frozen=True)
class Verdict:
    """One judge verdict, oriented like `Rating` (``a`` < ``b``); ``outcome`` None = judge failure."""
    task_id: str
    a: str
    b: str
    dimension: str
    order: str
    outcome: int | None
    judge_model: str
    row: int

    @property
    def shown_first(self) -> str:
        """The model presented first to the judge."""
        return self.a if self.order == "ab" else self.b


@dataclass
class Prefs:
    path: str
    format: str
    n_rows: int
    ratings: list[Rating]

    @property
    def models(self) -> list[str]:
        return sorted({r.a for r in self.ratings} | {r.b for r in self.ratings})

    @property
    def dimensions(self) -> list[str]:
        return list(dict.fromkeys(r.dimension for r in self.ratings))


def _records(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """Columns and (row number, record) pairs of a CSV (row = line number) or JSONL file."""
    if not path.is_file():
        raise PrefsError(path, "file not found")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json") or text.lstrip().startswith("{"):
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise PrefsError(path, f"invalid JSON ({e.msg})", row=n) from None
            if not isinstance(obj, dict):
                raise PrefsError(path, "expected a JSON object", row=n)
            rows.append((n, obj))
        columns = list(dict.fromkeys(k for _, r in rows for k in r))
        return columns, iter(rows)
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in (reader.fieldnames or [])]
    reader.fieldnames = columns

    def gen():
        for rec in reader:
            if None in rec:
                raise PrefsError(path, "more values than columns", row=reader.line_num)
            yield reader.line_num, rec
    return columns, gen()


def _value(path: Path, row: int, rec: dict[str, Any], field: str) -> str:
    v = rec.get(field)
    if v is None or (isinstance(v, str) and not v.strip()) or isinstance(v, (dict, list)):
        raise PrefsError(path, "missing or empty value", field, row)
    return str(v).strip()


def detect_format(columns: list[str]) -> str | None:
    """'a2c' or 'generic' from the column names, None if neither fits."""
    cols = set(columns)
    if set(A2C_REQUIRED) <= cols and any(c.startswith("winner_") for c in cols):
        return "a2c"
    if set(GENERIC_REQUIRED) <= cols:
        return "generic"
    return None


def _orient(x: str, y: str, winner: str | None) -> tuple[str, str, int]:
    """(a, b, outcome) with a < b; ``winner`` is the winning model name or None for a tie."""
    a, b = sorted((x, y))
    return a, b, TIE if winner is None else (A_WINS if winner == a else B_WINS)


def load_prefs(path: Path | str, fmt: str = "auto") -> Prefs:
    """Load a preference file (see module docstring); raises `PrefsError` on bad input."""
    path = Path(path)
    if fmt not in FORMATS:
        raise PrefsError(path, f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})", "--prefs-format")
    columns, records = _records(path)
    found = detect_format(columns)
    if fmt == "auto":
        if found is None:
            raise PrefsError(path, f"columns {columns} match neither the a2c format ({', '.join(A2C_REQUIRED)}, "
                                   f"winner_<dimension>) nor the generic format ({', '.join(GENERIC_REQUIRED)})",
                             "columns")
        fmt = found
    if fmt == "a2c":
        missing = [c for c in A2C_REQUIRED if c not in columns]
        dims = [c for c in columns if c.startswith("winner_") and len(c) > len("winner_")]
        if missing or not dims:
            raise PrefsError(path, f"missing column(s) {missing or ['winner_<dimension>']}", "columns")
        known = set(A2C_REQUIRED) | set(dims)
    else:
        missing = [c for c in GENERIC_REQUIRED if c not in columns]
        if missing:
            raise PrefsError(path, f"missing column(s) {missing}", "columns")
        known = set(GENERIC_REQUIRED) | set(GENERIC_OPTIONAL)
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise PrefsError(path, f"unknown column(s) {unknown} for the {fmt} format (expected {sorted(known)})",
                         "columns")
    ratings: list[Rating] = []
    n_rows = 0
    for row, rec in records:
        n_rows += 1
        if fmt == "a2c":
            m1, m2, task = (_value(path, row, rec, c) for c in A2C_REQUIRED)
            if m1 == m2:
                raise PrefsError(path, f"model_1 and model_2 are both {m1!r}", "model_2", row)
            for col in dims:
                w = _value(path, row, rec, col)
                if w.upper() == "EQUAL":
                    w = None
                elif w not in (m1, m2):
                    raise PrefsError(path, f"unknown winner {w!r} (expected {m1!r}, {m2!r} or EQUAL)", col, row)
                a, b, out = _orient(m1, m2, w)
                ratings.append(Rating(task, a, b, col[len("winner_"):], out, None, row))
        else:
            task, x, y, dim, w = (_value(path, row, rec, c) for c in GENERIC_REQUIRED)
            if x == y:
                raise PrefsError(path, f"a and b are both {x!r}", "b", row)
            w = w.lower()
            if w not in ("a", "b", "tie"):
                raise PrefsError(path, f"unknown winner {w!r} (expected a, b or tie)", "winner", row)
            ann = rec.get("annotator")
            a, b, out = _orient(x, y, None if w == "tie" else (x if w == "a" else y))
            ratings.append(Rating(task, a, b, dim, out, None if ann in (None, "") else str(ann), row))
    if not ratings:
        raise PrefsError(path, "no preference rows")
    return Prefs(str(path), fmt, n_rows, ratings)


def load_pairwise(path: Path | str) -> list[Verdict]:
    """Load a ``pairwise.jsonl`` verdict file (see module docstring); raises `PrefsError`."""
    path = Path(path)
    _, records = _records(path)
    out: list[Verdict] = []
    for row, rec in records:
        task, x, y, dim, order, _, judge = (
            _value(path, row, rec, c) if c != "verdict" else "" for c in PAIRWISE_REQUIRED)
        if x == y:
            raise PrefsError(path, f"a and b are both {x!r}", "b", row)
        if order not in ("ab", "ba"):
            raise PrefsError(path, f"unknown order {order!r} (expected ab or ba)", "order", row)
        raw = rec.get("verdict")
        v = None if raw is None else str(raw).lower()
        if v not in (None, "a", "b", "tie"):
            raise PrefsError(path, f"unknown verdict {raw!r} (expected a, b, tie or null)", "verdict", row)
        a, b, outcome = _orient(x, y, None if v in (None, "tie") else (x if v == "a" else y))
        if a != x:  # stored order flipped: presentation order flips with it
            order = "ba" if order == "ab" else "ab"
        out.append(Verdict(task, a, b, dim, order, None if raw is None else outcome, judge, row))
    if not out:
        raise PrefsError(path, "no verdict rows")
    return out


def load_runs(specs: list[str]) -> tuple[dict[tuple[str, str], dict], list[dict]]:
    """Scores keyed by (model, task_id) from ``[NAME=]RUN`` specs, plus per-run info.

    ``NAME=`` is recognised when the text before the first ``=`` contains no ``/``.
    A (model, task) pair given by two runs is an error.
    """
    scores: dict[tuple[str, str], dict] = {}
    info = []
    for spec in specs:
        name, _, path = spec.partition("=") if "=" in spec and "/" not in spec.split("=", 1)[0] else ("", "", spec)
        run = Path(path)
        res = run / "results.jsonl"
        if not res.is_file():
            raise PrefsError(res, "run results not found")
        meta: dict = {}
        if (run / "run.json").is_file():
            try:
                meta = json.loads((run / "run.json").read_text())
            except json.JSONDecodeError as e:
                raise PrefsError(run / "run.json", f"invalid JSON ({e.msg})") from None
        rows, bad = read_results(res)  # a torn last line (writer killed mid-write) is skipped
        if bad:
            raise PrefsError(res, f"{bad} unreadable line(s) before the last one; run "
                             "`judge evaluate` on this run again to repair it")
        n_rows = n_jerr = 0
        models = set()
        # a task re-scored in the same run has several rows: the last one is its result
        for row in latest(rows).values():
            model = name or row.get("model") or meta.get("model")
            if not model:
                raise PrefsError(res, f"task {row['task_id']!r}: missing value (give --run NAME=RUN "
                                 "for the model)", "model")
            n_rows += 1
            models.add(str(model))
            if row.get("judge_error"):
                n_jerr += 1
                continue
            key = (str(model), str(row["task_id"]))
            if key in scores:
                raise PrefsError(res, f"model {key[0]!r} task {key[1]!r} is already scored by {scores[key]['_run']}",
                                 "task_id")
            scores[key] = {**row, "_run": str(run)}
        info.append({"path": str(run), "models": sorted(models), "n_rows": n_rows, "n_judge_error": n_jerr})
    return scores, info
