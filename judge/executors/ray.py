"""The Ray executor (`judge evaluate ... --executor ray [--ray-address ADDRESS]`): a pool
of Ray actors (`judge.executors.ray_actor.ScoringWorker`), each with its own Chromium,
scoring the pages the driver hands them; the driver stays the only writer of the run.

- Address: None starts a local Ray instance (stopped at the end); `auto` joins the
  cluster this machine belongs to; `ray://host:port` (Ray client) or `host:port` a remote
  one. Ray missing: `UsageError` (exit 2) naming the extra to install.
- Pool: `workers` actors (default: the cluster's CPUs / 2), one CPU each, spread over the
  nodes; each holds `PER_ACTOR` task(s) at once (1); a task goes to the next free slot. Every actor's fingerprint must agree with
  the one most of them share on Chromium version and fonts, and with the driver on resolved
  backends and scorer code: else `NodeMismatch` (exit 2) naming the node, before any row
  is written (a replacement that joins mid-run on a differing node stops the run).
  Actors that cannot be placed within `start_timeout_s` are dropped (a note); none at
  all is a `JudgeError`.
- Transfer: each task folder is `ray.put` once per run (keyed by `tree_sha256`);
  artifacts come back as a tar with the result and are written here.
- Faults: an actor that dies mid-task (its process or its node killed) is replaced and
  the task goes to another actor: a judge error, never a page failure, retried up to
  `MAX_LOST` times on top of `judge_retries`; a call over `task_timeout_s` is cancelled
  (`ray.cancel`), and its actor killed and replaced when it does not stop within
  `cancel_grace_s`. Cancellation (Ctrl-C) cancels the calls in flight and kills the
  actors. Judge-model spend on the actors is added to the driver's `CostMeter`.
"""
from __future__ import annotations

import asyncio
import time
import warnings
from pathlib import Path

from judge.browser.limits import unpaced
from judge.errors import JudgeError, UsageError
from judge.executors import COMPARED, Executor, NodeMismatch, Outcome, mismatch, node_name
from judge.executors.ray_actor import ScoringWorker, pack_dir, pack_task, unpack
from judge.files import code_sha256, tree_sha256
from judge.runs import writing
from judge.scorers import get_scorer

MAX_LOST = 3   # actors lost under one task before it is a judge error (a page that kills every worker)
PER_ACTOR = 1  # tasks an actor holds at once (2 overlapped render and metrics, but measured no faster on one
               # machine and delayed Ctrl-C by the other task's length: README "Running on a cluster")


def _ray():
    try:
        import ray
    except ImportError:
        raise UsageError("--executor ray: Ray is not installed: pip install 'webjudge[ray]' (or `make setup`)") from None
    return ray


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, ctx, *, workers: int | None = None, address: str | None = None, task_timeout_s: float = 900.0,
                 judge_retries: int = 1, start_timeout_s: float = 180.0, cancel_grace_s: float = 10.0):
        self.ctx, self.workers, self.address = ctx, workers, address
        self.task_timeout_s, self.judge_retries = task_timeout_s, judge_retries
        self.start_timeout_s, self.cancel_grace_s = start_timeout_s, cancel_grace_s
        self.slots = workers or 1
        self._ray = None
        self._own_ray = False
        self._remote = None
        self._live: dict[int, object] = {}      # id(handle) -> handle
        self._fps: dict[int, dict] = {}          # id(handle) -> fingerprint
        self._starting: dict[int, object] = {}  # actors spawned, not ready yet
        self._free: asyncio.Queue | None = None
        self._pending: set[asyncio.Task] = set()  # replacements starting
        self._refs: dict[str, object] = {}      # tree sha -> ObjectRef of the packed task folder
        self._used: dict[str, dict] = {}        # node id -> {host, ip, id, chromium, fonts, tasks}
        self._fatal: BaseException | None = None
        self._paced = True                      # set by start(): frames paced at 60 Hz in the actors' Chromium
        self._reference: dict | None = None
        self.notes: list[str] = []

    # ---- start ----------------------------------------------------------------------------
    async def start(self) -> None:
        ray = self._ray = _ray()
        if not ray.is_initialized():
            warnings.filterwarnings("ignore", message="Tip: In future versions of Ray", category=FutureWarning)
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         logging_level="WARNING")
            except (ConnectionError, ValueError, RuntimeError) as e:
                if ray.is_initialized():   # a half-made connection (a client server that failed) must not linger
                    ray.shutdown()
                hint = (" (Ray's client server could not fork a server for this client: start the head with "
                        "GRPC_ENABLE_FORK_SUPPORT=false, see the README's \"Running on a cluster\")"
                        if "Starting Ray client server failed" in str(e) else "")
                raise UsageError(f"--ray-address: cannot join the Ray cluster at {self.address or 'a new local instance'}"
                                 f": {e}{hint}") from None
            self._own_ray = True
        cpus = int(ray.cluster_resources().get("CPU", 0))
        n = self.workers or max(1, cpus // 2)
        self.slots = n * PER_ACTOR
        self._paced = not unpaced(n * PER_ACTOR, cpus)   # as locally: unpaced frames only with a spare core each
        self._remote = ray.remote(ScoringWorker)
        self._free = asyncio.Queue()
        actors = [self._spawn() for _ in range(n)]
        results = await asyncio.gather(*(self._ready(a) for a in actors), return_exceptions=True)
        ready = []
        for actor, fp in zip(actors, results):
            if isinstance(fp, BaseException):
                self._kill(actor)
                self.notes.append(f"an actor could not start within {self.start_timeout_s:g} s: "
                                  f"{type(fp).__name__}: {str(fp)[:200]}")
            else:
                ready.append((actor, fp))
        if not ready:
            raise JudgeError(f"no Ray actor could start ({cpus} CPUs in the cluster): " + "; ".join(self.notes[-3:]))
        # the run's reference: the fingerprint most nodes share (the odd one out is the one named)
        keys = [tuple(fp.get(k) for k in COMPARED) for _, fp in ready]
        self._reference = ready[max(range(len(ready)), key=lambda i: (keys.count(keys[i]), -i))][1]
        for actor, fp in ready:
            why = self._refuse(fp)
            if why:
                for a, _ in ready:
                    self._kill(a)
                raise NodeMismatch(why)
        for actor, fp in ready:
            self._add(actor, fp, 1)
        for _ in range(PER_ACTOR - 1):      # the second slots after every actor's first: spread over the nodes
            for actor, _ in ready:
                self._free.put_nowait(actor)
        self.chromium = self._reference.get("chromium")

    def _spawn(self):
        actor = self._remote.options(num_cpus=1, scheduling_strategy="SPREAD", max_restarts=0, max_task_retries=0,
                                    max_concurrency=4).remote(self.ctx.config, sorted({s.family for s in self.ctx.scorers}),
                                                              getattr(self.ctx.judge_cache, "read", True), self._paced)
        self._starting[id(actor)] = actor
        return actor

    async def _ready(self, actor) -> dict:
        return await asyncio.wait_for(self._await(actor.ready.remote()), self.start_timeout_s)

    def _refuse(self, fp: dict) -> str | None:
        """Why a node's actor may not score this run's rows (None: it may)."""
        why = mismatch(self._reference, fp)
        if why:
            return why
        mine = {k: v for k, v in self.ctx.backends.items()}
        theirs = {k: (fp.get("backends") or {}).get(k) for k in mine}
        if theirs != mine:
            diff = "; ".join(f"{k} {theirs[k]!r} (driver: {mine[k]!r})" for k in mine if theirs[k] != mine[k])
            return f"node {node_name(fp)} resolves other scoring backends: {diff}: install the same extras on every node"
        code = {s.family: code_sha256(*s.code)[:16] for s in self.ctx.scorers}
        if (fp.get("code") or {}) != code:
            return (f"node {node_name(fp)} runs other scorer code (stamps {fp.get('code')}, driver {code}): "
                    "install the same webjudge commit on every node")
        return None

    def _add(self, actor, fp: dict, slots: int | None = None) -> None:
        key = id(actor)
        self._starting.pop(key, None)
        self._live[key], self._fps[key] = actor, fp
        for _ in range(PER_ACTOR if slots is None else slots):
            self._free.put_nowait(actor)

    # ---- the pool ---------------------------------------------------------------------------
    @staticmethod
    def _await(ref) -> asyncio.Future:
        return asyncio.wrap_future(ref.future())

    def _kill(self, actor) -> None:
        self._starting.pop(id(actor), None)
        try:
            self._ray.kill(actor, no_restart=True)
        except Exception:
            pass

    def _lose(self, actor) -> None:
        """Drop an actor (dead, or stuck and killed) and start a replacement."""
        key = id(actor)
        if self._live.pop(key, None) is None:
            return                 # already lost (its other call failed first): one replacement per actor
        self._kill(actor)
        task = asyncio.ensure_future(self._replace())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _replace(self) -> None:
        actor = self._spawn()
        try:
            fp = await self._ready(actor)
        except Exception as e:       # no room for it (its node is gone), or it died starting
            self._kill(actor)
            self.notes.append(f"a replacement actor did not start: {type(e).__name__}")
            return
        why = self._refuse(fp)
        if why:
            self._kill(actor)
            self._fatal = NodeMismatch(why)
            return
        self._add(actor, fp)

    async def _acquire(self):
        while True:
            if self._fatal is not None:
                raise self._fatal
            if not self._live and not [t for t in self._pending if not t.done()]:
                raise JudgeError("every Ray actor of this run died and none could be replaced: "
                                 "re-run the same command to resume once the cluster has room")
            try:
                actor = await asyncio.wait_for(self._free.get(), 1.0)
            except asyncio.TimeoutError:
                continue
            if id(actor) in self._live:      # a lost actor's other slot is dropped here
                return actor

    def _release(self, actor) -> None:
        if id(actor) in self._live:
            self._free.put_nowait(actor)

    def _task_ref(self, task):
        sha = tree_sha256(task.root)
        if sha not in self._refs:
            self._refs[sha] = self._ray.put(pack_task(task.root))
        return sha, self._refs[sha]

    # ---- scoring ----------------------------------------------------------------------------
    async def score(self, task, html: bytes | None, artifacts: Path) -> Outcome:
        from ray.exceptions import RayError

        sha, ref = self._task_ref(task)
        state = pack_dir(artifacts / ".judge") if get_scorer(task.family).replays else None
        error, node, attempts, judged, lost = None, None, 0, 0, 0
        while judged <= self.judge_retries and lost < MAX_LOST:
            actor = await self._acquire()
            fp = self._fps[id(actor)]
            node = {k: fp.get(k) for k in ("host", "id", *COMPARED)}
            attempts += 1
            call = actor.score.remote(task.spec, [ref], sha, html, state, self.ctx.meter.remaining_usd
                                      if self.ctx.meter is not None else None)
            fut = self._await(call)
            t0 = time.monotonic()
            try:
                out = await asyncio.wait_for(asyncio.shield(fut), self.task_timeout_s)
            except asyncio.TimeoutError:
                judged += 1
                error = f"scoring took longer than {self.task_timeout_s:g} s (cancelled on node {node_name(fp)})"
                await self._cancel(actor, call, fut)
                continue
            except asyncio.CancelledError:
                self._ray.cancel(call)   # Ctrl-C: the actors are killed by close()
                raise
            except RayError as e:
                lost += 1
                error = (f"the Ray worker on node {node_name(fp)} died after {time.monotonic() - t0:.1f} s "
                         f"({type(e).__name__}); not the page's fault")
                self._lose(actor)
                continue
            self._release(actor)
            self._merge_cost(out.get("cost") or {})
            if out.get("artifacts"):
                with writing(artifacts):
                    unpack(out["artifacts"], artifacts)
            if out.get("row") is not None:
                used = self._used.setdefault(fp.get("id") or fp.get("host"), {
                    **{k: fp.get(k) for k in ("host", "ip", "id", *COMPARED)}, "tasks": 0, "overhead_ms": 0.0})
                # dispatch, transfers, (un)packing: the call's time outside score_page, mean per task
                overhead = max(0.0, time.monotonic() - t0 - (out.get("score_s") or 0.0)) * 1000
                used["overhead_ms"] = round((used["overhead_ms"] * used["tasks"] + overhead) / (used["tasks"] + 1), 1)
                used["tasks"] += 1
                return Outcome(out["row"], None, attempts, node)
            error = out.get("judge_error") or "judge error"
            if out.get("traceback"):
                with writing(artifacts / "judge_error.txt"):
                    artifacts.mkdir(parents=True, exist_ok=True)
                    (artifacts / "judge_error.txt").write_text(out["traceback"])
                break
            judged += 1
        return Outcome(None, error, attempts, node)

    async def _cancel(self, actor, call, fut) -> None:
        """Cancel an over-time call; kill and replace its actor when it does not stop."""
        self._ray.cancel(call)
        try:
            await asyncio.wait_for(fut, self.cancel_grace_s)
        except asyncio.TimeoutError:
            self._lose(actor)          # stuck: the force step
            return
        except Exception:
            pass                       # TaskCancelledError: it stopped
        self._release(actor)

    def _merge_cost(self, cost: dict) -> None:
        meter = self.ctx.meter
        if meter is None or not cost:
            return
        with meter._lock:
            meter.spent_usd += cost.get("spent_usd") or 0.0
            meter.saved_usd += cost.get("saved_usd") or 0.0
            for k in ("calls", "cached_calls", "unpriced_calls", "input_tokens", "output_tokens"):
                setattr(meter, k, getattr(meter, k) + (cost.get(k) or 0))

    # ---- reporting and closing --------------------------------------------------------------
    def nodes(self) -> list[dict]:
        return list(self._used.values())

    @property
    def reference(self) -> dict | None:
        return self._reference

    def describe(self) -> dict:
        return {"name": self.name, "address": self.address, "actors": self.slots // PER_ACTOR}

    async def close(self) -> None:
        for t in list(self._pending):
            t.cancel()
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._ray is None:
            return
        for actor in [*self._live.values(), *self._starting.values()]:
            self._kill(actor)
        self._live.clear()
        self._refs.clear()
        if self._own_ray:
            self._ray.shutdown()
            self._own_ray = False
