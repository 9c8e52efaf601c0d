"""The typed core: what a run writes, and the frozen scoring configuration.

- `ScoreConfig`: the frozen scoring configuration (options only, no live objects); its
  `identity(backends)` is the one identity of a scoring setup: `score_key` in rows and
  `run.json`, the judge's LangGraph thread key, `run.json`'s `scoring`.
- `TaskResult`: one row of `results.jsonl`; `StepResult`: one line of an interactive
  task's `steps.jsonl`; `RunMeta`: `run.json`. The fields every row has are declared
  here; a family's score fields (`exec`, `appearance`, ... / `ifs`, `vfs`, ...) are
  declared by its scorer (`judge.scorers`) and kept as extra fields. Rows are JSON
  objects on disk and dicts in memory (their JSON field names are the contract in
  docs/CONTRACTS.md); every row is validated by `TaskResult` when written and read, and
  carries `version` (`RECORD_VERSION`; rows written before it have none: version 0).
- `Provenance`: the stamp on every row (hashes of the scorer's code, the task folder and
  the generation prompt), as WebArena-Verified stamps its results; a run refuses to mix
  rows whose stamps differ unless `--rescore`.

`dump_row` / `load_row` are the one read/write API for a row (the run store,
`judge.runs`, does the appending, locking and repairing); `load_meta` / `dump_meta` for
`run.json`. Lower layer: imports nothing of ours but `judge.errors`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

RECORD_VERSION = 1
SCORER_VERSION = "2"  # bump when a score for the same page can change (2: interactive verdict rules)


# ---- the scoring configuration ----------------------------------------------------------------
@dataclass(frozen=True)
class ScoreConfig:
    """How pages are scored: the options of `judge score` / `judge evaluate` (frozen; the
    live resources of a run are in `judge.context.ScoringContext`)."""

    embedder: str = "auto"          # auto | classic | dreamsim
    tracker: str = "auto"           # auto | opencv | cotracker
    time_base: str = "absolute"     # absolute | resampled
    scale: str = "shared"           # shared | own
    judge_model: str | None = None  # provider/model for grounding, assertions, rubric (None: offline)
    libraries: str = "mirror"       # mirror | nearest | off: CDN libraries served offline (judge.browser.mirror)
    cache_dir: Path | None = None   # reference features cache (default: judge.files.cache_dir("features"))
    trace: bool = False             # record a Playwright trace of each interactive judgment
    llm_timeout_s: float = 120.0    # one judge-model call
    llm_attempts: int = 3           # judge-model re-asks on malformed/refused/timed-out replies

    def identity(self, backends: dict | None = None) -> dict:
        """What a score depends on besides the page and the task: the scorer version, the
        *resolved* backends (`auto` picking DreamSim later is a change) and the options.
        Without `backends` (one page scored outside a run) the requested names stand in."""
        b = backends or {}
        return {"scorer_version": SCORER_VERSION, "embedder": b.get("embedder", self.embedder),
                "tracker": b.get("tracker", self.tracker), "time_base": self.time_base, "scale": self.scale,
                "judge_model": self.judge_model, "libraries": self.libraries, "library_lock": b.get("library_lock")}

    def key(self, backends: dict | None = None) -> str:
        """`score_key`: the short digest of `identity(backends)`."""
        return digest(self.identity(backends))

    def backend_key(self) -> str:
        return f"{self.embedder}|{self.tracker}|{self.time_base}|{self.scale}|{self.judge_model}|{self.libraries}"

    def as_json(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


def digest(obj: Any, n: int = 16) -> str:
    """Short sha256 of a canonical JSON document."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


# ---- rows -----------------------------------------------------------------------------------------
class Provenance(BaseModel):
    """Where a score came from: hashes of the scorer's code (its module and everything it
    runs: metrics, agents, browser), of the task folder (every file) and of the generation
    prompt (the system prompt and the inputs' options; None for offline baselines, which
    use no prompt)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scorer: str
    task: str
    prompt: str | None = None

    def differences(self, other: "Provenance") -> list[str]:
        return [k for k in ("scorer", "task", "prompt") if getattr(self, k) != getattr(other, k)]


class StepResult(BaseModel):
    """One action of an interactive judgment (a line of `steps.jsonl`; `steps` in a row)."""

    model_config = ConfigDict(extra="allow")
    index: int
    passed: bool | None = None


class TaskResult(BaseModel):
    """One row of `results.jsonl` (fields every row has; a family's score fields are extra)."""

    model_config = ConfigDict(extra="allow")
    task_id: str
    family: str | None = None
    version: int = 0
    model: str | None = None
    page_sha256: str | None = None
    scorer_version: str | None = None
    score_key: str | None = None
    session: str | None = None
    error: str | None = None
    error_kind: Literal["generation", "page"] | None = None
    judge_error: str | None = None
    attempts: int | None = None
    backends: dict | None = None
    provenance: Provenance | None = None
    generation: dict | None = None
    wall_s: float | None = None
    finished: str | None = None
    steps: list[StepResult] | None = None
    node: dict | None = None        # where it was scored: host, id (Ray node or None), chromium, fonts


class RowError(ValueError):
    """A results.jsonl line that is not a valid row."""


def dump_row(row: dict) -> bytes:
    """The line (with its newline) for `row`, validated; `version` is set when missing."""
    if "version" not in row:
        row = {**row, "version": RECORD_VERSION}
    try:
        TaskResult.model_validate(row)
    except ValidationError as e:
        raise RowError(f"not a valid row: {_first(e)}") from None
    return (json.dumps(row, ensure_ascii=False, default=str, allow_nan=False) + "\n").encode("utf-8")


def load_row(line: bytes | str) -> dict:
    """A row from one line of `results.jsonl` (as written: a dict). Raises `RowError`."""
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RowError(f"not JSON ({e})") from None
    if not isinstance(row, dict) or not row.get("task_id"):
        raise RowError("not a row (no task_id)")
    try:
        TaskResult.model_validate(row)
    except ValidationError as e:
        raise RowError(f"not a valid row: {_first(e)}") from None
    return row


def _first(e: ValidationError) -> str:
    err = e.errors()[0]
    return f"{'.'.join(map(str, err['loc']))}: {err['msg']}"


# ---- run.json -------------------------------------------------------------------------------------
class RunMeta(BaseModel):
    """`run.json`: who/what/how of a run directory (fields as in docs/CONTRACTS.md)."""

    model_config = ConfigDict(extra="allow")
    version: int = 0
    name: str | None = None
    model: str | None = None
    judge_model: str | None = None
    command: list[str] | None = None
    config: dict = {}
    versions: dict = {}
    backends: dict = {}
    scoring: dict = {}
    score_key: str | None = None
    identity: dict = {}
    tasks: list[str] = []
    task_list_sha256: str | None = None
    task_roots: dict[str, str] = {}
    created: str | None = None
    updated: str | None = None
    history: list[dict] = []


def dump_meta(meta: dict) -> str:
    if "version" not in meta:
        meta = {"version": RECORD_VERSION, **meta}
    try:
        RunMeta.model_validate(meta)
    except ValidationError as e:
        raise RowError(f"not a valid run.json: {_first(e)}") from None
    return json.dumps(meta, indent=2, default=str) + "\n"


def load_meta(text: str) -> dict:
    """`run.json` as a dict, validated. Raises `RowError` (with the JSON message)."""
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as e:
        raise RowError(f"not valid JSON ({e.msg})") from None
    if not isinstance(meta, dict):
        raise RowError("not a JSON object")
    try:
        RunMeta.model_validate(meta)
    except ValidationError as e:
        raise RowError(f"not a valid run.json: {_first(e)}") from None
    return meta
