"""The local executor (`--executor local`, the default): pages scored in this process.

`workers` = N pages in the run's shared `Browser` at once (a context each: an animation
render, or a whole interactive judgment). With N > 1 the animation metrics run in the
scoring context's pool of N processes and up to N more tasks may be there while the next
pages render (`slots` = 2N); N = 1 is strictly one task at a time.

A call of the scorer that raises `JudgeError` (the metrics pool is renewed when a worker
died) or takes longer than `task_timeout_s` is retried `judge_retries` times; any other
exception is a scorer bug: a judge error at once, its traceback in
`artifacts/judge_error.txt`. A full disk while writing artifacts stops the run
(`RunError`). Contract of executors: `judge.executors`.
"""
from __future__ import annotations

import asyncio
import contextlib
import traceback
from pathlib import Path

from judge.errors import JudgeError
from judge.executors import Executor, Outcome, node_fingerprint
from judge.runs import DISK_FULL, write_error, writing
from judge.scorers import get_scorer


class LocalExecutor(Executor):
    name = "local"

    def __init__(self, ctx, scorer, *, workers: int = 1, task_timeout_s: float = 900.0, judge_retries: int = 1):
        self.ctx, self.scorer = ctx, scorer
        self.workers, self.task_timeout_s, self.judge_retries = max(1, workers), task_timeout_s, judge_retries
        self.slots = 2 * self.workers if ctx.pool is not None else self.workers
        self.node: dict | None = None

    async def start(self) -> None:
        browser = await self.ctx.ensure_browser()
        self.chromium = getattr(browser, "version", None)
        self.node = node_fingerprint(self.chromium)

    @property
    def reference(self) -> dict | None:
        return self.node

    def describe(self) -> dict:
        return {"name": self.name}

    async def score(self, task, html: bytes | None, artifacts: Path) -> Outcome:
        error, attempts = None, 0
        holds_browser = get_scorer(task.family).holds_browser
        for attempts in range(1, self.judge_retries + 2):
            try:
                async with self.ctx.render_slots if holds_browser else contextlib.nullcontext():
                    row = await asyncio.wait_for(self.scorer(task, html, context=self.ctx, artifacts=artifacts),
                                                 self.task_timeout_s)
                return Outcome(row, None, attempts, self.node)
            except JudgeError as e:
                error = str(e) or "JudgeError"
                self.ctx.renew_pool()
            except asyncio.TimeoutError:
                error = f"scoring took longer than {self.task_timeout_s:g} s"
            except Exception as e:  # a scorer bug is the judge's failure, never the page's
                if isinstance(e, OSError) and e.errno in DISK_FULL:  # nowhere to write: stop the run
                    raise write_error(e.filename or artifacts, e) from None
                error = f"{type(e).__name__}: {e}"
                with writing(artifacts / "judge_error.txt"):
                    artifacts.mkdir(parents=True, exist_ok=True)
                    (artifacts / "judge_error.txt").write_text(traceback.format_exc())
                break
        return Outcome(None, error, attempts, self.node)
