"""Dataset importers: turn a public benchmark's layout into webjudge task folders.

- `judge.importers.iwr.import_iwr`: IWR-Bench (`data.jsonl` + `data/<id>/`), interactive tasks.
- `judge.importers.a2c.import_a2c`: Animation2Code sample folders, animation tasks.

Both write each task into a staging folder inside the output folder and rename it into
place only when it is complete, so a failing task never leaves a half-written folder and
never touches tasks written before it (an existing `out/<id>` is replaced only by a
complete new one). Both import every task they can, then raise one `ImportFailed` listing
every problem (file, line where there is one, field) together with the folders written.
Warnings (suspicious but importable) go to the `judge.importers` logger and into the
task's `metadata.import_warnings`.
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from judge.errors import InputError

log = logging.getLogger("judge.importers")


@dataclass(frozen=True)
class ImportProblem:
    """One problem found while importing: `path[:line]: field: message`."""

    path: Path
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ImportFailed(InputError):
    """Some tasks could not be imported. `problems` says why; `written` lists the task
    folders that were imported anyway."""

    def __init__(self, problems: list[ImportProblem], written: list[Path] | None = None):
        self.problems = list(problems)
        self.written = list(written or [])
        lines = [f"{len(self.problems)} problem(s) while importing ({len(self.written)} task(s) written):"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class TaskImportError(InputError):
    """Raised inside an importer for one task; collected into `ImportFailed`."""

    def __init__(self, problem: ImportProblem):
        self.problem = problem
        super().__init__(str(problem))


@dataclass
class Staging:
    """A staging folder for one task; `final` is where it goes on success."""

    dir: Path
    final: Path


@contextmanager
def stage_task_dir(out_dir: Path, task_id: str):
    """Yield a `Staging` folder inside `out_dir`; on normal exit rename it to
    `out_dir/task_id` (replacing an existing folder), on an exception delete it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{task_id}.importing-", dir=out_dir))
    final = out_dir / task_id
    try:
        yield Staging(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists() or final.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{task_id}.old-", dir=out_dir))
        os.replace(final, old / "task")
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def copy_or_link(src: Path, dst: Path, link: bool) -> None:
    """Copy a file or a folder to `dst`, or symlink it (absolute target) with `link`."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if link:
        dst.symlink_to(src.resolve(), target_is_directory=src.is_dir())
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=False)
    else:
        shutil.copyfile(src, dst)


@contextmanager
def log_to_stderr():
    """For the CLI: while active, print importer warnings to stderr as `warning: ...` lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    propagate = log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


__all__ = ["ImportProblem", "ImportFailed"]
