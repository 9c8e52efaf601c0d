"""`evaluate`: generate a page per task with a model, score it, and record it in a run directory.

    opts = EvalOptions(model="reference", score=ScoreConfig(), workers=2)
    result = asyncio.run(evaluate(load_tasks(["tasks/"]), RunDir("runs/reference"), opts))

Per task: **page** (the saved `pages/<id>/index.html` if there is one, else `generate`,
and the page is saved before it is scored), then **score** (`judge.score.score_page`
with the task's artifacts folder), then **one row** appended to `results.jsonl`.

Resume: a task is skipped when its latest row has no `judge_error`, the same `score_key`
(scorer version + resolved backends + scoring options: `ScoringContext.key`) and the
`page_sha256` of the saved page (`None` for a failed generation, whose record is kept and
never regenerated). Rows carry a provenance stamp (scorer code, task folder, prompt); a
finished row stamped differently makes the run refuse unless `--rescore` (`stamp_problems`).

The live resources (browser, metrics pool, render slots, judge model, its cache and the
cost meter shared with generation) are one `judge.context.ScoringContext`, built once.
Failures are kept apart:
- generation failure of the model (`error_kind` "model": refusal, no HTML, missing replay
  page) -> scored like an empty page (exec false, zeros), `error` set, listed;
- provider/input failure of the generation, and any judge failure (`JudgeError`, a
  crash of the scorer, a timeout) -> a row with `judge_error` and no scores, retried
  `judge_retries` times within the run and again by the next run;
- `BudgetExceeded` stops new generations (already generated pages are still scored);
  `AuthError` aborts the run.

Before any work (and before anything is written): an unknown model fails; a missing API
key fails when that model is needed — the generation model when a page must be generated
that neither the run directory nor the response cache holds, the judge model when an
interactive task may have to be judged (`require_keys`); a run directory that cannot be
written, or whose disk is nearly full, fails (`RunDir.check_writable`). A write failing
mid-run (a full disk) stops the run with a `RunError` naming the file; the rows already
written stay (a re-run resumes).

Where pages are scored is the executor's business (`judge.executors`): `local` (default;
`workers` = N pages in the shared `Browser` at once, the animation metrics in a pool of N
processes when N > 1, two stages so 2N tasks in flight; N = 1 is strictly one task at a
time) or `ray` (a pool of Ray actors, each with its own Chromium; `workers` actors,
default the cluster's CPUs / 2). Either way this module builds every row and is the only
writer of the run directory; each row records the `node` it was scored on. Generation
runs here, ahead, with `gen_workers` calls at once.
"""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from agents.cache import ResponseCache
from agents.generator import GenerateOptions, generate, needs_request, prompt_stamp
from agents.providers import AuthError, BudgetExceeded, CostMeter, GenerationConfig, get_model
from judge.browser.runtime import Browser
from judge.context import ScoringContext
from judge.executors import Executor, NodeMismatch, make_executor, node_name, row_mismatch
from judge.files import code_sha256, tree_sha256
from judge.progress import Progress
from judge.records import SCORER_VERSION, Provenance, ScoreConfig
from judge.runs import RunDir, RunError, check_resumable, now_iso, task_list_sha256, versions
from judge.score import JudgeError, score_page  # noqa: F401 (JudgeError re-exported)
from judge.scorers import get_scorer
from judge.tasks import Task

Scorer = Callable[..., Awaitable[dict]]   # scorer(task, html, context=, artifacts=) -> row


@dataclass
class EvalOptions:
    """Everything that decides what `evaluate` does (the CLI fills it from its flags)."""

    model: str
    score: ScoreConfig = field(default_factory=ScoreConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    gen_options: GenerateOptions = field(default_factory=GenerateOptions)
    base_url: str | None = None
    model_kwargs: dict = field(default_factory=dict)  # to get_model: api_key, http_client, max_attempts, ...
    max_cost: float | None = None
    workers: int | None = 1             # local: pages at once (None: 1); ray: actors (None: cluster CPUs / 2)
    gen_workers: int | None = None      # default: max(4, workers)
    executor: str = "local"             # local | ray (judge.executors)
    ray_address: str | None = None      # ray: "auto", "ray://host:port", "host:port"; None: a local Ray instance
    limit: int | None = None
    judge_retries: int = 1              # extra attempts after a JudgeError, within one run
    task_timeout_s: float = 900.0       # a task's scoring beyond this is a judge error
    rescore: bool = False               # accept a changed scoring setup: re-score the saved pages
    command: list[str] | None = None

    def identity(self) -> dict:
        """What the saved pages depend on: a run directory holds one identity."""
        return {"model": self.model, "generation": self.generation.key_dict(),
                "inputs": dataclasses.asdict(self.gen_options)}


@dataclass
class EvalResult:
    run: RunDir
    task_ids: list[str]
    judged: list[str] = field(default_factory=list)      # tasks scored (or failed) in this session
    skipped: list[str] = field(default_factory=list)     # already finished before this session
    not_run: list[str] = field(default_factory=list)     # no page: budget used up
    session: str = ""
    elapsed_s: float = 0.0
    cost: dict = field(default_factory=dict)
    repaired_bytes: int = 0
    notes: list[str] = field(default_factory=list)
    executor: str = "local"
    nodes: list[dict] = field(default_factory=list)     # ray: the nodes that scored tasks this session


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data else None


def is_finished(row: dict | None, score_key: str, page_sha256: str | None) -> bool:
    """A row that needs no more work under this scoring setup and this page."""
    return bool(row) and not row.get("judge_error") and row.get("score_key") == score_key \
        and row.get("page_sha256") == page_sha256


class _Evaluation:
    """One session of `evaluate` (state shared by the task coroutines)."""

    def __init__(self, model: Any, run: RunDir, opts: EvalOptions, ctx: ScoringContext, executor: Executor,
                 progress: Progress | None, cache: ResponseCache, meter: CostMeter, result: EvalResult):
        self.model, self.run, self.opts, self.ctx, self.executor = model, run, opts, ctx, executor
        self.progress, self.score_key, self.result = progress, ctx.key, result
        self.cache, self.meter = cache, meter
        self.budget_exhausted = False
        self.gen_sem = asyncio.Semaphore(opts.gen_workers or max(4, opts.workers or executor.slots))
        self.task_slots = asyncio.Semaphore(executor.slots)  # tasks the executor is handed at once

    async def page(self, task: Task) -> tuple[bytes | None, dict | None]:
        """(page, generation record); (None, None) when no page could be asked for (budget)."""
        html = self.run.load_page(task.id)
        record = self.run.load_generation(task.id)
        if html is not None:
            return html, record or {}
        if record and record.get("error_kind") == "model":
            return None, record  # a failed generation is final: never regenerated
        async with self.gen_sem:
            if self.budget_exhausted:
                return None, None
            try:
                gen = await generate(task, self.model, self.opts.generation, self.cache, self.meter,
                                     options=self.opts.gen_options)
            except BudgetExceeded as e:
                self.budget_exhausted = True
                self.result.notes.append(str(e))
                return None, None
        record = gen.model_dump(exclude={"html"})
        record["generated"] = now_iso()
        if gen.html is not None:
            record["page_sha256"] = self.run.save_page(task.id, gen.html)
        self.run.save_generation(task.id, record)
        return (gen.html.encode("utf-8") if gen.html is not None else None), record

    async def one(self, task: Task) -> None:
        t0 = time.monotonic()
        html, record = await self.page(task)
        if html is None and record is None:
            self.result.not_run.append(task.id)
            return
        sha = _sha(html)
        gen_error = record.get("error") if html is None else None
        kind = record.get("error_kind") if html is None else None
        base = {"task_id": task.id, "family": task.family, "model": self.opts.model, "page_sha256": sha,
                "scorer_version": SCORER_VERSION, "score_key": self.score_key, "session": self.result.session,
                "provenance": stamp(task, record).model_dump()}
        unscored = {f[0]: None for f in get_scorer(task.family).fields}
        if html is None and kind != "model":  # provider/input failure: nobody's score, retried next run
            row = {**base, **unscored, "error": None,
                   "judge_error": f"generation failed ({kind}): {gen_error}", "attempts": 0}
        else:
            async with self.task_slots:
                out = await self.executor.score(task, html, self.run.artifacts_dir(task.id))
            scored, attempts = out.row, out.attempts
            if scored is None:
                row = {**base, **unscored, "error": gen_error, "judge_error": out.judge_error, "attempts": attempts}
            else:
                page_fault = scored.get("error") or (scored.get("render") or {}).get("fatal")
                row = {**scored, **base, "error": gen_error or (page_fault if html else None),
                       "error_kind": "generation" if gen_error else ("page" if page_fault else None),
                       "judge_error": None, "attempts": attempts}
            row["node"] = out.node
        row["generation"] = {k: (record or {}).get(k) for k in ("cost_usd", "input_tokens", "output_tokens",
                                                                "cached", "latency_s", "prompt_sha256")}
        row["wall_s"] = round(time.monotonic() - t0, 3)
        row["finished"] = now_iso()
        self.run.append(row)
        self.result.judged.append(task.id)
        if self.progress:
            self.progress.update(row)


def stamp(task: Task, record: dict | None) -> Provenance:
    """The provenance stamp of a row: the scorer's code, the task folder, the prompt the
    page was generated with (from its generation record; None for baselines)."""
    return Provenance(scorer=code_sha256(*get_scorer(task.family).code)[:16], task=tree_sha256(task.root)[:16],
                      prompt=(record or {}).get("prompt_stamp"))


def stamp_problems(run: RunDir, tasks: list[Task], latest: dict, score_key: str, rescore: bool) -> tuple[list[str], set[str]]:
    """(why the run cannot continue, tasks to re-score). A finished row whose scorer or task
    stamp differs from this session's is re-scored with `--rescore`, else the run is
    refused (its rows would mix scorers or task versions). A saved page generated with
    another prompt than this code builds cannot be fixed by re-scoring: refused."""
    differ: dict[str, list[str]] = {}
    prompts: list[str] = []
    current_prompt = prompt_stamp()
    for t in tasks:
        record = run.load_generation(t.id) or {}
        if record.get("prompt_stamp") not in (None, current_prompt) and run.load_page(t.id) is not None:
            prompts.append(t.id)
        row = latest.get(t.id)
        if not is_finished(row, score_key, _sha(run.load_page(t.id))):
            continue
        old = row.get("provenance")
        if old is None:
            differ.setdefault("stamp (rows written before provenance stamps)", []).append(t.id)
            continue
        now = stamp(t, record)
        for part in Provenance.model_validate(old).differences(now):
            if part != "prompt":
                differ.setdefault({"scorer": "scorer code", "task": "task folder"}[part], []).append(t.id)
    problems = []
    if prompts:
        problems.append(f"the saved pages of {len(prompts)} task(s) ({_ids(prompts)}) were generated with another "
                        "prompt than this version builds: their rows would mix prompts; use another --out "
                        "(re-scoring cannot change a page's prompt)")
    if differ and not rescore:
        what = "; ".join(f"{k}: {_ids(v)}" for k, v in differ.items())
        problems.append(f"finished rows were scored under another {what}: add --rescore to re-score them "
                        "(a run never mixes rows whose stamps differ), or use another --out")
    return problems, ({t for v in differ.values() for t in v} if rescore else set())


def node_problems(run: RunDir, tasks: list[Task], latest: dict, result: EvalResult, reference: dict | None,
                  rescore: bool) -> list[Task]:
    """The kept rows (`result.skipped`) scored on a machine whose Chromium build, font set
    or BLAS kernels differ from this session's (`reference`): with `--rescore` they are
    re-scored here (returned, and no longer skipped), else the run is refused before any
    write (`NodeMismatch`, exit 2), naming the file, the field and the tasks."""
    if not reference:
        return []
    differ: dict[str, list[str]] = {}
    for tid in result.skipped:
        node = (latest.get(tid) or {}).get("node")
        why = row_mismatch(reference, node) if isinstance(node, dict) else []
        if why:
            differ.setdefault(f"node {node_name(node)}: " + "; ".join(why), []).append(tid)
    if not differ:
        return []
    if not rescore:
        what = "; ".join(f"{k} (tasks {_ids(v)})" for k, v in differ.items())
        raise NodeMismatch(f"{run.results_path}: field `node`: finished rows were scored on another machine: {what}: "
                           "a run never mixes browser builds, font sets or BLAS kernels; add --rescore to re-score "
                           "them here, run on a node like theirs, or use another --out")
    again = {t for v in differ.values() for t in v}
    result.skipped[:] = [t for t in result.skipped if t not in again]
    return [t for t in tasks if t.id in again]


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:5]) + (f", ... ({len(ids)} in all)" if len(ids) > 5 else "")


async def evaluate(tasks: list[Task], run: RunDir, opts: EvalOptions, *, browser: Browser | None = None,
                   scorer: Scorer = score_page, progress: Progress | bool | None = True,
                   cache: ResponseCache | None = None) -> EvalResult:
    """Run (or resume) the evaluation of `tasks` into `run`. Raises `RunError` when the run
    directory belongs to another model/setup or is in use; `AuthError`/`UnknownModel` from
    the model. `progress=True` reports on stderr; pass a `Progress` or None/False.
    `scorer(task, html, context=, artifacts=)` defaults to `score_page`."""
    if opts.limit is not None:
        tasks = tasks[:opts.limit]
    result = EvalResult(run=run, task_ids=[t.id for t in tasks], session=uuid.uuid4().hex[:12])
    model = get_model(opts.model, base_url=opts.base_url, **opts.model_kwargs)  # unknown: fails before any write
    cache = cache if cache is not None else ResponseCache()
    require_keys(model, tasks, run, opts, cache)  # a needed model without its key: fails before any write
    run.check_writable()                          # not writable, disk nearly full: fails before any work
    meter = CostMeter(opts.max_cost)              # generation and judge-model calls share the budget
    t0 = time.monotonic()
    local = opts.executor == "local"   # ray: no browser or metrics pool here, the actors have their own
    result.executor = opts.executor
    with run.lock():
        try:
            async with ScoringContext(opts.score, families={t.family for t in tasks},
                                      workers=(opts.workers or 1) if local else 1, browser=browser if local else None,
                                      judge_cache=cache, meter=meter) as ctx:
                async with make_executor(opts, ctx, scorer) as executor:
                    await _evaluate(model, run, opts, tasks, ctx, executor, progress, cache, meter, result, t0)
        finally:
            await model.aclose()
    return result


async def _evaluate(model: Any, run: RunDir, opts: EvalOptions, tasks: list[Task], ctx: ScoringContext,
                    executor: Executor, progress: Any, cache: ResponseCache, meter: CostMeter, result: EvalResult,
                    t0: float) -> None:
    old = run.read_meta()
    if old is not None:
        problems = check_resumable(old, opts.identity(), ctx.identity, ctx.key, opts.rescore)
        if problems:
            raise RunError(f"{run.path} cannot be resumed by this command:\n  " + "\n  ".join(problems))
    result.repaired_bytes = run.repair()
    if result.repaired_bytes:
        result.notes.append(f"removed a torn last line ({result.repaired_bytes} bytes) from results.jsonl")
    latest = run.latest()
    problems, restamp = stamp_problems(run, tasks, latest, ctx.key, opts.rescore)
    if problems:
        raise RunError(f"{run.path} cannot be resumed by this command:\n  " + "\n  ".join(problems))
    todo = []
    for t in tasks:
        if t.id not in restamp and is_finished(latest.get(t.id), ctx.key, _sha(run.load_page(t.id))):
            result.skipped.append(t.id)
        else:
            todo.append(t)
    if todo:
        await executor.start()   # the browser, or the actors (NodeMismatch: nodes that differ)
        todo += node_problems(run, tasks, latest, result, executor.reference, opts.rescore)
    meta = _run_meta(old, run, opts, tasks, ctx, result, executor)
    run.write_meta(meta)
    bar = progress if isinstance(progress, Progress) else (Progress(len(todo)) if progress else None)
    ev = _Evaluation(model, run, opts, ctx, executor, bar, cache, meter, result)
    failed = True
    try:
        await _run_all([ev.one(t) for t in todo])
        failed = False
    finally:
        if bar is not None:
            bar.close()
        result.cost = meter.summary()
        result.elapsed_s = round(time.monotonic() - t0, 3)
        result.nodes = executor.nodes()
        meta["history"][-1].update(finished=now_iso(), judged=len(result.judged), elapsed_s=result.elapsed_s,
                                   cost=result.cost, not_run=len(result.not_run))
        if result.nodes:
            meta["history"][-1]["nodes"] = result.nodes
        try:
            run.write_meta(meta)
        except RunError:
            if not failed:  # else the first error (often the same full disk) is the one to report
                raise


def require_keys(model: Any, tasks: list[Task], run: RunDir, opts: EvalOptions, cache: ResponseCache) -> None:
    """Raise `AuthError` (naming the variable to set) when this command needs a model whose
    API key is missing: the generation model when a page must be generated that neither
    `run` nor `cache` holds; the judge model (`opts.score.judge_model`) when an interactive
    task may have to be judged (no finished row under the run's scoring setup, or
    `--rescore`). Read-only; run before anything is written."""
    def missing_key(m: Any) -> AuthError | None:
        try:
            m.require_key()
        except AuthError as e:
            return e
        return None

    def refuse(e: AuthError, need: list[str], what: str) -> None:
        if need:
            ids = ", ".join(need[:5]) + (", ..." if len(need) > 5 else "")
            raise AuthError(f"{e}; it is needed {what} ({ids})", provider=e.provider) from None

    e = missing_key(model)
    if e is not None:
        unsaved = [t for t in tasks if run.load_page(t.id) is None
                   and (run.load_generation(t.id) or {}).get("error_kind") != "model"]
        refuse(e, [t.id for t in unsaved if needs_request(t, model, opts.generation, cache, opts.gen_options)],
               f"to generate the pages that neither {run.path} nor the response cache holds")
    interactive = [t for t in tasks if get_scorer(t.family).needs_judge_model]
    e = missing_key(get_model(opts.score.judge_model)) if opts.score.judge_model and interactive else None
    if e is not None:
        old = run.read_meta()
        key = None if old is None or opts.rescore else old.get("score_key")
        latest = run.latest()
        refuse(e, [t.id for t in interactive if not is_finished(latest.get(t.id), key, _sha(run.load_page(t.id)))],
               f"to judge the {'/'.join(sorted({t.family for t in interactive}))} tasks")


async def _run_all(coros: list) -> None:
    """Run the task coroutines; the first unexpected exception cancels the others and is raised."""
    pending = {asyncio.ensure_future(c) for c in coros}
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            errors = [f.exception() for f in done if f.exception() is not None]  # retrieves them all
            if errors:
                raise errors[0]
    finally:
        for f in pending:
            f.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _run_meta(old: dict | None, run: RunDir, opts: EvalOptions, tasks: list[Task], ctx: ScoringContext,
              result: EvalResult, executor: Executor) -> dict:
    chromium = executor.chromium
    command = opts.command if opts.command is not None else sys.argv
    session = {"session": result.session, "started": now_iso(), "command": command, "score_key": ctx.key,
               "pid": os.getpid()}
    score_cfg = ctx.config.as_json()
    trace = score_cfg.pop("trace")
    for k in ("llm_timeout_s", "llm_attempts"):
        score_cfg.pop(k)
    return {
        "name": run.path.name, "model": opts.model, "judge_model": opts.score.judge_model, "command": command,
        "config": {"score": score_cfg, "generation": opts.generation.key_dict(),
                   "inputs": dataclasses.asdict(opts.gen_options), "base_url": opts.base_url,
                   "max_cost": opts.max_cost, "workers": opts.workers, "gen_workers": opts.gen_workers,
                   "limit": opts.limit, "judge_retries": opts.judge_retries, "task_timeout_s": opts.task_timeout_s,
                   "trace": trace, "executor": executor.describe()},
        "versions": versions(chromium or ((old or {}).get("versions") or {}).get("chromium")), "backends": ctx.backends,
        "scoring": ctx.identity, "score_key": ctx.key,
        "identity": opts.identity(), "tasks": [t.id for t in tasks],
        "task_list_sha256": task_list_sha256(t.id for t in tasks),
        "task_roots": {t.id: str(t.root.resolve()) for t in tasks},
        "created": (old or {}).get("created") or now_iso(), "updated": now_iso(),
        "history": [*(old or {}).get("history", []), session],
    }
