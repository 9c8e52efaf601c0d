"""The live resources of a scoring run, built once and closed at its end.

    async with ScoringContext(config, families={"animation"}, workers=2) as ctx:
        row = await score_page(task, html, context=ctx)

`ScoringContext` holds what `ScoreConfig` (frozen options) must not: the shared
`Browser` (started on first need, or given), the metrics process pool (when more than
one worker scores animations), the render slots (pages rendering at once), the judge
model (resolved once from `config.judge_model`, closed at the end, its answers cached
under the run's cache policy, its spend metered into the run's `CostMeter`), the
resolved backend names (with the library mirror's lock) and the scoring identity
(`identity`, `key` = `score_key`).

Every process that scores runs its BLAS and torch with one thread (`pin_blas_threads`: this one
when the context opens, each metrics worker when it starts): float32 matrix products
(cosine distances of embeddings, the classic embedder's einsum) round differently with
another thread count, and a score must not depend on the core count of the machine that
computed it (`judge.executors`: a Ray actor and a local run give the same floats).
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from judge.browser.mirror import lock
from judge.browser.limits import unpaced
from judge.browser.runtime import Browser
from judge.records import ScoreConfig
from judge.scorers import scorers


def _init_metrics_worker(threads: int) -> None:
    import cv2

    cv2.setNumThreads(threads)
    import metrics.animation  # noqa: F401  (imports paid once, before the first task)

    pin_blas_threads()


_BLAS: list[str] = []


def pin_blas_threads() -> str | None:
    """One thread for every BLAS library loaded in this process (numpy's, OpenCV's; the
    metrics are imported first so theirs are loaded) and for torch's intra-op pool. Returns their kernels, e.g.
    `openblas:Haswell` (a node's fingerprint: other kernels may round differently)."""
    import metrics.animation  # noqa: F401
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(1, user_api="blas")
    # torch (DreamSim, CoTracker3) keeps its own intra-op pool: one thread too. Set before
    # it is imported (it reads OMP_NUM_THREADS then), and directly when it already is.
    os.environ["OMP_NUM_THREADS"] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    kernels = sorted({f"{i.get('internal_api')}:{i.get('architecture')}" for i in threadpool_info()
                      if i.get("user_api") == "blas"})
    _BLAS[:] = kernels
    return ",".join(kernels) or None


def blas_kernels() -> str | None:
    """The BLAS kernels `pin_blas_threads` found (None before it ran, or without BLAS)."""
    return ",".join(_BLAS) or None


def metrics_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool for the metrics (spawned, not forked: the parent runs an event loop
    and Playwright threads)."""
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_metrics_worker, initargs=(threads,))


_DEFAULT_CACHE = object()


class ScoringContext:
    """See the module docstring. `browser`: a running `Browser` to use (not closed here);
    `judge_cache`: the `ResponseCache` for judge-model answers (default: a new one; None:
    no cache); `meter`: the run's `CostMeter` (None: not metered); `judge_model`: a
    resolved model object overriding `config.judge_model`'s (tests, recorded exchanges);
    `paced`: whether a browser started here paces its frames at 60 Hz (default: when the
    `workers` pages at once leave no spare core each, `judge.browser.limits.unpaced`)."""

    def __init__(self, config: ScoreConfig | None = None, *, families=None, workers: int = 1,
                 browser: Browser | None = None, judge_cache: Any = _DEFAULT_CACHE, meter: Any = None,
                 judge_model: Any = None, paced: bool | None = None):
        self.config = config or ScoreConfig()
        self.scorers = scorers(families)
        self.workers = max(1, workers)
        self.browser = browser
        self._own_browser = browser is None
        # the browser started here paces its frames unless each page at once has a spare core
        self.paced = (not unpaced(self.workers)) if paced is None else paced
        self._judge_cache = judge_cache
        self.meter = meter
        self.judge_model = judge_model
        self._own_judge_model = False
        self.pool: ProcessPoolExecutor | None = None
        self._pools: list[ProcessPoolExecutor] = []
        self.render_slots = asyncio.Semaphore(self.workers)
        self.backends: dict = {"judge_model": self.config.judge_model}
        self.identity: dict = self.config.identity(self.backends)
        self.key: str = self.config.key(self.backends)

    @property
    def judge_cache(self):
        if self._judge_cache is _DEFAULT_CACHE:
            from agents.cache import ResponseCache

            self._judge_cache = ResponseCache()
        return self._judge_cache

    async def __aenter__(self) -> "ScoringContext":
        try:
            if self.workers > 1 and any(s.uses_pool for s in self.scorers):
                self.pool = metrics_pool(self.workers)
                self._pools.append(self.pool)
            for s in self.scorers:   # in the pool when there is one: it warms it up
                self.backends.update(await s.backends(self.config, self.pool))
            await asyncio.to_thread(pin_blas_threads)
            self.backends["library_lock"] = None if self.config.libraries == "off" else lock().sha256
            self.identity = self.config.identity(self.backends)
            self.key = self.config.key(self.backends)
            if self.judge_model is None and self.config.judge_model and any(s.needs_judge_model for s in self.scorers):
                from agents.providers import get_model

                self.judge_model, self._own_judge_model = get_model(self.config.judge_model), True
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def ensure_browser(self) -> Browser:
        """The shared browser, started on first need."""
        if self.browser is None:
            self.browser = await Browser(paced=self.paced).start()
        return self.browser

    def renew_pool(self) -> None:
        """Replace a pool broken by a killed worker (the old one is shut down at close)."""
        if self.pool is not None and getattr(self.pool, "_broken", False):
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = metrics_pool(self.workers)
            self._pools.append(self.pool)

    async def aclose(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)
        self._pools.clear()
        if self._own_judge_model and hasattr(self.judge_model, "aclose"):
            await self.judge_model.aclose()
            self._own_judge_model = False
        if self._own_browser and self.browser is not None:
            browser, self.browser = self.browser, None
            await browser.close()
