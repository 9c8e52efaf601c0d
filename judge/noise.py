"""`judge noise RUN --repeats K`: how often does a judge change its mind on the same input?

    judge noise RUN --repeats K [--judge-model provider/model] [--task ID ...] [--limit N] [--json]

Contract:
- Inputs: the interactive tasks of a run directory (read through `judge.read_run`; task
  folders from run.json `task_roots`) whose last row is scored and whose page is saved.
  `--task` narrows them, `--limit N` keeps the first N.
- Each page is judged K times (`agents.judge_graph.judge_page`) with the same task, page
  and backends, each time from scratch: no artifacts or checkpoints of the run are read
  (a fresh temporary work folder per repeat) and the response cache is bypassed
  (`judge_cache=None`), so a judge model is really asked again.
  The judge model is `--judge-model`, else run.json's `judge_model`, else none (the
  offline rules).
- Flip: a step (task, action index) whose `passed` differs between repeats. Per verdict
  source (`rule:quoted-text`, `llm:openai/gpt-4o`, ...; a step judged by different sources
  in different repeats counts under `mixed`), `steps`, `flipped` and `flip_rate`; per task
  the Final of each repeat and whether it changed. The offline path is deterministic: it
  must report 0 flips (tested).
- Output: a table, or one JSON object with `--json` (`{"repeats", "judge_model", "tasks",
  "sources": {source: {steps, flipped, flip_rate}}, "overall": {...}}`). Writes nothing.
  Exit 0; 2 bad input (no such run, K < 2, no interactive task); 3 a judge/infrastructure
  error (a judgment failed: not a flip).
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from collections import defaultdict
from pathlib import Path

from judge.errors import UsageError


def flip_table(repeats: dict[str, list[list[dict]]]) -> dict:
    """Flips per verdict source from {task: [steps of repeat 1, steps of repeat 2, ...]}."""
    sources: dict[str, dict] = defaultdict(lambda: {"steps": 0, "flipped": 0})
    examples = []
    for tid, runs in repeats.items():
        by_index: dict[int, list[dict]] = defaultdict(list)
        for steps in runs:
            for i, st in enumerate(steps):
                by_index[int(st.get("index", i))].append(st)
        for k, sts in sorted(by_index.items()):
            srcs = {str(s.get("verdict_source") or "none") for s in sts}
            src = srcs.pop() if len(srcs) == 1 else "mixed"
            flipped = len({bool(s.get("passed")) for s in sts}) > 1 or len(sts) < len(runs)
            sources[src]["steps"] += 1
            sources[src]["flipped"] += int(flipped)
            if flipped:
                examples.append({"task_id": tid, "index": k, "source": src,
                                 "passed": [s.get("passed") for s in sts]})
    out = {s: {**v, "flip_rate": v["flipped"] / v["steps"]} for s, v in sorted(sources.items())}
    n, f = sum(v["steps"] for v in out.values()), sum(v["flipped"] for v in out.values())
    return {"sources": out, "overall": {"steps": n, "flipped": f, "flip_rate": f / n if n else None},
            "flips": examples}


async def measure(run_path: Path, repeats: int, judge_model: str | None = None, task_ids: list[str] | None = None,
                  limit: int | None = None, *, browser=None, model=None, config=None) -> dict:
    """Judge each page `repeats` times (see the module docstring); returns the report.
    `model` (a provider model object) and `config` (a `ScoreConfig`) are seams for tests."""
    from agents.judge_graph import judge_page
    from judge import read_run
    from judge.browser.runtime import Browser
    from judge.runs import RunDir
    from judge.score import ScoreConfig
    from judge.tasks import load_task

    if repeats < 2:
        raise UsageError("--repeats: must be at least 2")
    try:
        info = read_run(run_path)
    except FileNotFoundError as e:
        raise UsageError(f"{run_path}: RUN: {e}") from None
    meta, rd = info["meta"], RunDir(run_path)
    judge_model = judge_model or meta.get("judge_model")
    roots = meta.get("task_roots") or {}
    todo = []
    for tid, row in info["latest"].items():
        if row.get("family") != "interactive" or row.get("judge_error") or (task_ids and tid not in task_ids):
            continue
        html = rd.load_page(tid)
        if html is None or tid not in roots:
            continue
        todo.append((load_task(roots[tid]), html))
    todo = todo[:limit] if limit is not None else todo
    if not todo:
        raise UsageError(f"{run_path}: RUN: no scored interactive task with a saved page and task folder")
    config = dataclasses.replace(config or ScoreConfig(judge_model=judge_model), trace=False)
    own_model = model is None and bool(config.judge_model)
    if own_model:   # resolved once for every repeat, closed at the end
        from agents.providers import get_model

        model = get_model(config.judge_model)
    own = browser is None
    browser = browser or await Browser().start()
    per_task: dict[str, list[list[dict]]] = {}
    finals: dict[str, list] = {}
    try:
        for task, html in todo:
            for _ in range(repeats):
                row = await judge_page(task, html, browser=browser, config=config, model=model, judge_cache=None)
                per_task.setdefault(task.id, []).append([s for s in row.get("steps") or [] if isinstance(s, dict)])
                finals.setdefault(task.id, []).append(row.get("final"))
    finally:
        if own:
            await browser.close()
        if own_model and hasattr(model, "aclose"):
            await model.aclose()
    report = flip_table(per_task)
    report.update(repeats=repeats, judge_model=judge_model, run=str(run_path),
                  tasks=[{"task_id": t, "final": f, "changed": len(set(f)) > 1} for t, f in finals.items()])
    return report


def render(r: dict) -> str:
    lines = [f"judge noise: {r['run']}, {len(r['tasks'])} interactive task(s) judged {r['repeats']} times each "
             f"(judge model: {r['judge_model'] or 'none, offline rules'}; response cache bypassed)",
             f"{'verdict source':<34}{'steps':>7}{'flipped':>9}{'flip rate':>11}"]
    for s, v in r["sources"].items():
        lines.append(f"{s:<34}{v['steps']:>7}{v['flipped']:>9}{v['flip_rate']:>11.1%}")
    o = r["overall"]
    lines.append(f"{'all':<34}{o['steps']:>7}{o['flipped']:>9}{(o['flip_rate'] or 0):>11.1%}")
    for t in r["tasks"]:
        if t["changed"]:
            lines.append(f"  {t['task_id']}: Final changed between repeats: {t['final']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    report = asyncio.run(measure(args.run, args.repeats, args.judge_model, args.task or None, args.limit))
    print(json.dumps(report, default=str) if args.json else render(report), flush=True)
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("noise", help="re-judge a run's interactive pages K times (no cache): flip rate per "
                                            "verdict source", description=__doc__.split("\n\n")[0])
    p.add_argument("run", type=Path, metavar="RUN", help="run directory (from judge evaluate)")
    p.add_argument("--repeats", type=int, required=True, metavar="K", help="judgments per page (at least 2)")
    p.add_argument("--judge-model", default=None, metavar="provider/model",
                   help="judge model (default: the run's; none: the offline rules)")
    p.add_argument("--task", action="append", default=[], metavar="ID", help="only this task (repeatable)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N tasks")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
    return p
