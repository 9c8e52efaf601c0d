"""The worker side of `--executor ray`: one `ScoringWorker` actor per Ray worker slot, and
the packing of folders that travel between the driver and the workers.

An actor holds, for the life of a run, one Chromium and a `ScoringContext` of its own
(no metrics pool: the metrics run in a thread; with more than one task per actor, one
render at a time and an interactive judgment holding the browser for its whole length, as
the local executor does; the reference-feature cache on its node's disk and the resolved
backends in its process). It never writes the run directory:

- `ready()` starts the browser and returns the node's fingerprint: host, IP, Ray node
  id, Chromium version, fonts digest (`judge.executors.node_fingerprint`), the resolved
  backends and the provenance stamps of the scorers' code, for the driver to compare.
- `score(spec, [task_ref], tree_sha, html, state, budget)` scores one page. The task
  folder comes through the object store (`task_ref`, the `pack_task` tar of the folder)
  only when this node's cache (`judge.files.cache_dir("tasks")/<tree_sha>`) does not hold
  it yet; it is unpacked beside the cache and renamed into place, and its
  `judge.files.tree_sha256` must equal `tree_sha` (else a judge error). `state` is the
  driver's `artifacts/<task>/.judge` (judge checkpoints: an interrupted judgment
  resumes like a local one); `budget` the USD left under `--max-cost`.
  Returns `{"row", "judge_error", "traceback", "retry", "artifacts" (tar of the task's
  artifacts), "cost" (CostMeter.summary of this task's judge-model calls), "score_s"
  (seconds inside `score_page`: the rest of a call is the executor's overhead)}`: a
  `JudgeError` is a judge error to retry, any other exception a scorer bug (traceback,
  not retried), as in the local executor. Ray is imported only by the driver's
  `ray.remote(ScoringWorker)`; this module imports no Ray at import time.

No shared filesystem is assumed anywhere: the only paths an actor uses are its node's
cache and temporary folders.
"""
from __future__ import annotations

import contextlib
import copy
import io
import os
import shutil
import tarfile
import tempfile
import time
import traceback
from pathlib import Path

from judge.errors import JudgeError
from judge.files import cache_dir, code_sha256, tree_sha256


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in rel.parts)


def pack_task(root: Path | str) -> bytes:
    """A tar of the files `tree_sha256(root)` covers (symlinks followed: regular files
    only, hidden files and `__pycache__` left out), in sorted order."""
    root = Path(root).resolve()
    return _pack(root, sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p.relative_to(root))))


def pack_dir(root: Path | str) -> bytes | None:
    """A tar of every regular file under `root` (hidden ones included); None when it is
    missing or empty."""
    root = Path(root)
    if not root.is_dir():
        return None
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return _pack(root, files) if files else None


def _pack(root: Path, files: list[Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for p in files:
            data = p.read_bytes()
            info = tarfile.TarInfo(p.relative_to(root).as_posix())
            info.size, info.mode, info.mtime = len(data), 0o644, int(p.stat().st_mtime)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def unpack(data: bytes, dest: Path | str) -> Path:
    """Extract a tar made by `pack_*` into `dest` (tarfile's `data` filter: no absolute
    paths, no `..`, no links leaving `dest`, no devices)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tar.extractall(dest, filter="data")
    return dest


class ScoringWorker:
    """See the module docstring (made a Ray actor by the driver: `ray.remote(ScoringWorker)`)."""

    def __init__(self, config, families: list[str], cache_read: bool = True, paced: bool = True):
        self.config, self.families, self.cache_read, self.paced = config, set(families), cache_read, paced
        self.ctx = None
        self.fingerprint: dict | None = None

    async def ready(self) -> dict:
        import ray

        from agents.cache import ResponseCache
        from judge.context import ScoringContext
        from judge.executors import node_fingerprint

        if self.fingerprint is None:
            ctx = ScoringContext(self.config, families=self.families, workers=1,
                                 judge_cache=ResponseCache(read=self.cache_read), meter=None, paced=self.paced)
            await ctx.__aenter__()
            self.ctx = ctx
            browser = await ctx.ensure_browser()
            fp = node_fingerprint(browser.version, ray.get_runtime_context().get_node_id())
            fp.update(ip=ray.util.get_node_ip_address(), pid=os.getpid(), backends=dict(ctx.backends),
                      code={s.family: code_sha256(*s.code)[:16] for s in ctx.scorers})
            self.fingerprint = fp
        return self.fingerprint

    async def _task_root(self, tree_sha: str, task_box: list) -> Path:
        cache = cache_dir("tasks")
        root = cache / tree_sha[:32]
        if root.is_dir():
            return root
        data = await task_box[0]   # fetched from the object store only on a cache miss
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache, prefix=f".{tree_sha[:12]}."))
        try:
            unpack(data, tmp)
            got = tree_sha256(tmp)
            if got != tree_sha:
                raise JudgeError(f"the task folder arrived damaged (sha256 {got[:16]}, sent {tree_sha[:16]})")
            try:
                tmp.rename(root)
            except OSError:          # another actor on this node put it there first
                if not root.is_dir():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return root

    async def score(self, spec, task_box: list, tree_sha: str, html: bytes | None, state: bytes | None,
                    budget: float | None) -> dict:
        from agents.providers import CostMeter
        from judge.score import score_page
        from judge.scorers import get_scorer
        from judge.tasks import Task

        await self.ready()
        score_s = 0.0
        ctx = copy.copy(self.ctx)        # this call's own meter; browser, slots and judge model shared
        ctx.meter = meter = CostMeter(budget)
        holds_browser = get_scorer(spec.family).holds_browser
        art = Path(tempfile.mkdtemp(prefix="webjudge-artifacts-"))
        out = {"row": None, "judge_error": None, "traceback": None, "retry": False, "artifacts": None}
        try:
            try:
                task = Task(spec=spec, root=await self._task_root(tree_sha, task_box))
                if state:
                    unpack(state, art / ".judge")
                t0 = time.monotonic()
                try:
                    async with self.ctx.render_slots if holds_browser else contextlib.nullcontext():
                        out["row"] = await score_page(task, html, context=ctx, artifacts=art)
                finally:
                    score_s = time.monotonic() - t0
            except JudgeError as e:
                out.update(judge_error=str(e) or "JudgeError", retry=True)
            except Exception as e:  # a scorer bug: the judge's failure, never the page's
                out.update(judge_error=f"{type(e).__name__}: {e}", traceback=traceback.format_exc())
            out["artifacts"] = pack_dir(art)
        finally:
            shutil.rmtree(art, ignore_errors=True)
        out["cost"], out["score_s"] = meter.summary(), score_s
        return out

    async def close(self) -> None:
        if self.ctx is not None:
            ctx, self.ctx = self.ctx, None
            await ctx.aclose()
