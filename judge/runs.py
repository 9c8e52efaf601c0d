"""The run directory: one self-describing, append-only, resumable record of an evaluation.

    runs/<name>/
      run.json          who/what/how: model, judge model, command, configs, versions, backends,
                        task list (+ sha256), the scoring identity `score_key`, a history of sessions
      results.jsonl     one JSON row per judged task, appended (never rewritten in place)
      summary.json      headline numbers of the latest session (`judge.report.summarize`)
      report.html       written by `judge report` / at the end of `judge evaluate`
      pages/<task_id>/index.html        the generated page, saved before it is scored
      pages/<task_id>/generation.json   the generation record (tokens, cost, cache, error)
      artifacts/<task_id>/...           filmstrip.png, steps.jsonl, step_<k>_*.png, trace.zip

Appends are atomic at the row level: one `write()` of one complete line under an
exclusive `flock`, then `fsync`. A process killed mid-write can leave at most a torn last
line; readers ignore it (`read_results`) and the next writer removes it (`repair`). Readers
take the **last row per task** (`latest`): a row with a `judge_error` is superseded by a
later successful one, and a re-score under a new configuration by its new rows. The file
is only ever rewritten by `compact`, atomically (temporary file + rename).

Writes that fail (a full disk, a read-only mount) raise `RunError` naming the file; a
failed append leaves no part of its line behind. `RunDir.check_writable` checks, before
any work, that the directory can be created and written and that its disk has room.

A run directory belongs to one model and one generation setup (`identity`) and one
scoring setup (`score_key`); `check_resumable` says what differs when a command does not
match the directory it points at.

`summarize(latest, task_ids)` turns the last rows into summary.json's headline numbers
(per family and overall; `task_score` is the per-task number runs are ranked by).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Iterable, Iterator

from judge import files
from judge.errors import InputError
from judge.records import RowError, digest, dump_meta, dump_row, load_meta, load_row  # noqa: F401 (digest re-exported)
from judge.summaries import COLUMNS, summarize, task_score  # noqa: F401 (summary.json: re-exported)

RESULTS = "results.jsonl"
RUN_JSON = "run.json"
SUMMARY = "summary.json"
LOCK = ".lock"
MIN_FREE_BYTES = 100 << 20  # free space a run directory's disk must have before a run starts
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


class RunError(InputError):
    """A run directory that cannot be used as asked (other model, other scoring, in use,
    not writable, its disk full)."""


def write_error(path: Path | str, e: OSError) -> RunError:
    """The `RunError` for a failed write of `path` (what was written before is kept)."""
    return RunError(f"{path}: cannot write ({e.strerror or e}): free space or fix the folder, then re-run "
                    "the same command to resume (rows already written are kept)")


@contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """Turn an `OSError` while writing `path` into `write_error(path, e)`."""
    try:
        yield
    except OSError as e:
        raise write_error(path, e) from None


def slug(model: str) -> str:
    """A folder-friendly name for a model string: `openai/gpt-4o` -> `openai-gpt-4o`,
    `replay:/data/pages` -> `replay-pages`."""
    if model.startswith("replay:"):
        model = "replay-" + (Path(model[len("replay:"):]).name or "pages")
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-.")
    return s or "run"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write `path` through a temporary file in the same folder and `os.replace`. A failed
    write (`write_error`) leaves the old file as it was."""
    with writing(path):
        files.atomic_write(path, data)


# ---- results.jsonl ----------------------------------------------------------------------
_APPEND_LOCK = threading.Lock()


def append_row(path: Path, row: dict) -> None:
    """Append one row: a single `write()` of one line under `flock`, then `fsync`. When the
    write fails (a full disk may take part of the line first), the file is cut back to
    where the line began: a partial line would swallow the next row appended after it."""
    line = dump_row(row)   # validated (`judge.records.TaskResult`), `version` added
    path.parent.mkdir(parents=True, exist_ok=True)
    with _APPEND_LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = os.lseek(fd, 0, os.SEEK_END)
            try:
                view = memoryview(line)
                while view:  # a regular file takes the whole line at once; loop for safety
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)  # closing releases the flock


def read_results(path: Path) -> tuple[list[dict], int]:
    """(valid rows in file order, number of unreadable lines skipped). A torn last line
    (no trailing newline: the writer was killed mid-write) is skipped silently."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return [], 0
    lines = data.split(b"\n")
    lines.pop()  # after the last newline: b"" or a torn line
    rows, bad = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            rows.append(load_row(line))
        except RowError:
            bad += 1
    return rows, bad


def repair(path: Path) -> int:
    """Drop a torn last line left by a killed writer; returns the bytes removed."""
    if not path.exists():
        return 0
    with open(path, "rb+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        block, pos = 1 << 16, size
        while pos > 0:  # find the last newline
            start = max(0, pos - block)
            f.seek(start)
            chunk = f.read(pos - start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                keep = start + i + 1
                break
            pos = start
        else:
            keep = 0
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
        return size - keep


def latest(rows: Iterable[dict]) -> dict[str, dict]:
    """The last row per task id (later rows supersede earlier ones)."""
    out: dict[str, dict] = {}
    for row in rows:
        out.pop(row["task_id"], None)  # keep insertion order = order of the latest rows
        out[row["task_id"]] = row
    return out


def compact(path: Path) -> tuple[int, int]:
    """Rewrite `path` with only the last row per task (atomic: temp file + rename).
    Returns (rows before, rows after)."""
    rows, _ = read_results(path)
    keep = list(latest(rows).values())
    atomic_write(path, b"".join(dump_row(r) for r in keep))
    return len(rows), len(keep)


# ---- the run directory --------------------------------------------------------------------
class RunDir:
    """Paths and stores of one run directory."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.results_path = self.path / RESULTS
        self.meta_path = self.path / RUN_JSON
        self.summary_path = self.path / SUMMARY
        self.report_path = self.path / "report.html"

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # pages and artifacts
    def page_path(self, task_id: str) -> Path:
        return self.path / "pages" / task_id / "index.html"

    def generation_path(self, task_id: str) -> Path:
        return self.path / "pages" / task_id / "generation.json"

    def artifacts_dir(self, task_id: str) -> Path:
        return self.path / "artifacts" / task_id

    def save_page(self, task_id: str, html: str | bytes) -> str:
        """Save a generated page (atomically); returns its sha256."""
        data = html.encode("utf-8") if isinstance(html, str) else html
        atomic_write(self.page_path(task_id), data)
        return hashlib.sha256(data).hexdigest()

    def load_page(self, task_id: str) -> bytes | None:
        try:
            return self.page_path(task_id).read_bytes()
        except FileNotFoundError:
            return None

    def save_generation(self, task_id: str, record: dict) -> None:
        atomic_write(self.generation_path(task_id), json.dumps(record, indent=2, default=str) + "\n")

    def load_generation(self, task_id: str) -> dict | None:
        try:
            return json.loads(self.generation_path(task_id).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    # results
    def append(self, row: dict) -> None:
        with writing(self.results_path):
            append_row(self.results_path, row)

    def rows(self) -> list[dict]:
        return read_results(self.results_path)[0]

    def latest(self) -> dict[str, dict]:
        return latest(self.rows())

    def repair(self) -> int:
        with writing(self.results_path):
            return repair(self.results_path)

    def compact(self) -> tuple[int, int]:
        return compact(self.results_path)

    # metadata
    def read_meta(self) -> dict | None:
        try:
            return load_meta(self.meta_path.read_text())
        except FileNotFoundError:
            return None
        except RowError as e:
            raise RunError(f"{self.meta_path}: {e}; move the folder away or fix it") from None

    def write_meta(self, meta: dict) -> None:
        atomic_write(self.meta_path, dump_meta(meta))

    def write_summary(self, summary: dict) -> None:
        atomic_write(self.summary_path, json.dumps(summary, indent=2, default=str) + "\n")

    def check_writable(self, min_free: int | None = None) -> None:
        """Before any work: the folder is (or can be made) a directory this process can write,
        on a disk with `min_free` bytes free (default `MIN_FREE_BYTES`); else `RunError`
        naming it. A folder made here is removed again when the check fails."""
        path, min_free = self.path, MIN_FREE_BYTES if min_free is None else min_free
        if path.exists() and not path.is_dir():
            raise RunError(f"{path}: not a directory: the run directory must be a folder (use another --out)")
        created = not path.exists()
        try:
            try:
                path.mkdir(parents=True, exist_ok=True)
                fd, probe = tempfile.mkstemp(dir=path, prefix=".write-check.")
                try:
                    os.write(fd, b"x")
                    os.fsync(fd)
                finally:
                    os.close(fd)
                    os.unlink(probe)
            except OSError as e:
                raise RunError(f"{path}: cannot write the run directory ({e.strerror or e}): "
                               "use another --out or fix its permissions") from None
            free = shutil.disk_usage(path).free
            if free < min_free:
                raise RunError(f"{path}: only {free / (1 << 20):.0f} MB free on its disk, at least "
                               f"{min_free / (1 << 20):.0f} MB needed: free space or use another --out")
        except RunError:
            if created:
                with contextlib.suppress(OSError):
                    path.rmdir()
            raise

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive use of the run directory by this process (released when it dies)."""
        with writing(self.path / LOCK):
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                raise RunError(f"{self.path}: in use by another judge evaluate (pid {other}); "
                               "wait for it or use another --out") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)


def check_resumable(old: dict, identity: dict, scoring: dict, score_key: str, rescore: bool) -> list[str]:
    """Why a run directory created with `old` (its run.json) cannot continue with this
    command: a list of lines (empty when it can). Model and generation setup must match
    (the saved pages came from them); the scoring setup must match unless `rescore`."""
    problems = []
    old_id = old.get("identity") or {}
    for key in sorted(set(old_id) | set(identity)):
        if old_id.get(key) != identity.get(key):
            problems.append(f"{key}: run has {json.dumps(old_id.get(key), default=str)}, "
                            f"command has {json.dumps(identity.get(key), default=str)}")
    if problems:
        problems.append("its pages came from another model or generation setup: use another --out "
                        "(or move the folder away)")
        return problems
    if old.get("score_key") != score_key and not rescore:
        was, now = old.get("scoring") or {}, scoring
        diff = [f"{k}: {was.get(k)} -> {now.get(k)}" for k in sorted(set(was) | set(now)) if was.get(k) != now.get(k)]
        problems.append("the scoring setup differs (" + ("; ".join(diff) or "scorer changed") + "): "
                        "add --rescore to re-score the saved pages under the new setup, or use another --out")
    return problems


def task_list_sha256(task_ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(task_ids)).encode()).hexdigest()


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def versions(chromium: str | None = None) -> dict:
    """Versions of everything that can change a score (no heavy imports)."""
    out = {"webjudge": _dist_version("webjudge"), "python": platform.python_version(),
           "playwright": _dist_version("playwright"), "chromium": chromium,
           "numpy": _dist_version("numpy"), "opencv": _dist_version("opencv-python-headless")}
    for name in ("torch", "torchvision", "dreamsim"):
        v = _dist_version(name)
        if v:
            out[name] = v
    return out
