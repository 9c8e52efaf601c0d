"""`judge evaluate TASKS --model X`: generate, score and record a whole suite (resumable).

    judge evaluate tasks/ --model reference                 # -> runs/reference/
    judge evaluate tasks/ --model openai/gpt-4o --workers 2 --max-cost 5 --out runs/gpt4o
    judge evaluate tasks/ --model openai/gpt-4o --out runs/gpt4o --embedder dreamsim --rescore
    judge evaluate tasks/ --model openai/gpt-4o --executor ray --ray-address auto   # on a Ray cluster

Re-running the same command resumes the run directory (see `judge.pipeline` and
docs/CONTRACTS.md): finished tasks are skipped, saved pages are never regenerated,
judge errors are retried. A directory made with another model or generation setup is
refused; one made with another scoring setup is re-scored only with `--rescore`.
At the end: the per-family summary table, `RUN/summary.json` and `RUN/report.html`.
`--executor ray` scores on a pool of Ray actors (`judge.executors.ray`): the same rows,
the nodes used listed at the end (and in summary.json `nodes`).

Exit codes: 0 every task has a score; 1 some tasks have judge errors or were not run
(budget): re-run to retry them; 2 bad input, one line naming the file or flag and the
field: a task that does not validate (`judge tasks validate`), an unknown model, a missing
API key of a model the run needs, a run directory in use, belonging to another model, not
writable or on a nearly full disk — all before any work — or a write failing mid-run (a
full disk: the rows already written stay, re-run to resume).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from judge.runs import RunDir, RunError, slug


def add_parser(subparsers) -> argparse.ArgumentParser:
    from judge.score import add_backend_args

    p = subparsers.add_parser("evaluate", help="generate a page per task with a model, score it, keep a resumable run")
    p.add_argument("tasks", nargs="+", type=Path, help="task folders, or folders holding them (recursively)")
    p.add_argument("--model", required=True, help="provider/model, or an offline baseline: reference, blank, "
                   "first-frame, replay:DIR")
    p.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<model-slug>)")
    p.add_argument("--workers", type=int, default=None, help="pages in the browser at once; N > 1 also runs the "
                   "animation metrics in N processes, overlapping the next renders (default 1: one task at a time); "
                   "with --executor ray: Ray actors, each with its own Chromium (default: the cluster's CPUs / 2)")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="where pages are scored: local (this process, default) or ray (a pool of Ray actors; "
                        "needs the ray extra: pip install 'webjudge[ray]')")
    p.add_argument("--ray-address", default=None, help="with --executor ray: auto (the cluster this machine is in), "
                   "ray://HOST:PORT (Ray client) or HOST:PORT (default: start a local Ray instance)")
    p.add_argument("--gen-workers", type=int, default=None, help="generations at once (default: max(4, workers))")
    p.add_argument("--limit", type=int, default=None, help="only the first N tasks (sorted by folder)")
    p.add_argument("--base-url", default=None, help="API base URL (OpenAI-compatible servers, proxies)")
    p.add_argument("--max-cost", type=float, default=None, help="stop generating once this many USD are spent")
    g = p.add_argument_group("generation")
    g.add_argument("--temperature", type=float, default=0.0)
    g.add_argument("--max-tokens", type=int, default=None)
    g.add_argument("--seed", type=int, default=None, help="sampling seed; also an epoch in the response cache key")
    g.add_argument("--animation-fps", type=float, default=2.0, help="frames/s of the reference video sent (animation)")
    g.add_argument("--interactive-fps", type=float, default=1.0, help="frames/s sent (interactive)")
    g.add_argument("--max-frames", type=int, default=None, help="at most N frames sent per video "
                   "(default: all for animation, 64 for interactive)")
    g.add_argument("--no-cache", action="store_true", help="do not read cached model answers (still writes them)")
    s = p.add_argument_group("scoring")
    add_backend_args(s)
    s.add_argument("--trace", action="store_true", help="interactive: keep a Playwright trace.zip per task")
    s.add_argument("--rescore", action="store_true", help="accept a changed scoring setup: re-score the saved pages")
    s.add_argument("--judge-retries", type=int, default=1, help="extra attempts after a judge error (default 1)")
    s.add_argument("--task-timeout", type=float, default=900.0, help="seconds of scoring per task before it is a judge error")
    p.add_argument("--compact", action="store_true", help="at the end, rewrite results.jsonl with the last row per task")
    p.add_argument("--no-report", action="store_true", help="do not write RUN/report.html")
    p.add_argument("--json", action="store_true", help="print summary.json instead of the table")
    p.set_defaults(func=run)
    return p


def options_from_args(args):
    """`EvalOptions` from parsed flags."""
    from agents.generator import GenerateOptions
    from agents.providers import GenerationConfig
    from judge.pipeline import EvalOptions
    from judge.score import config_from_args

    gen_opts = GenerateOptions(animation_fps=args.animation_fps, interactive_fps=args.interactive_fps,
                               animation_max_frames=args.max_frames,
                               interactive_max_frames=args.max_frames if args.max_frames else 64)
    score = config_from_args(args)
    return EvalOptions(model=args.model, score=score,
                       generation=GenerationConfig(temperature=args.temperature, max_tokens=args.max_tokens,
                                                   seed=args.seed),
                       gen_options=gen_opts, base_url=args.base_url, max_cost=args.max_cost,
                       workers=args.workers if args.workers is not None or args.executor == "ray" else 1,
                       executor=args.executor, ray_address=args.ray_address, gen_workers=args.gen_workers, limit=args.limit, judge_retries=args.judge_retries,
                       task_timeout_s=args.task_timeout, rescore=args.rescore,
                       command=getattr(args, "command_line", None) or ["judge", *sys.argv[1:]])


def run(args) -> int:
    from agents.cache import ResponseCache
    from agents.providers import AuthError, UnknownModel, get_model
    from judge.errors import UsageError
    from judge.pipeline import evaluate
    from judge.tasks import load_tasks
    from judge.validate import require_valid
    from metrics.embedders import BackendUnavailable

    if (args.workers is not None and args.workers < 1) or (args.gen_workers is not None and args.gen_workers < 1):
        raise UsageError("--workers/--gen-workers: must be >= 1")
    if args.ray_address is not None and args.executor != "ray":
        raise UsageError("--ray-address: only with --executor ray")
    if args.executor == "ray":
        from judge.executors.ray import _ray

        _ray()   # Ray missing: exit 2 before any work
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit: must be >= 1")
    for flag, spec in (("--model", args.model), ("--judge-model", args.judge_model)):
        try:
            if spec is not None:
                get_model(spec, base_url=args.base_url if flag == "--model" else None)
        except UnknownModel as e:
            raise UsageError(f"{flag}: {e}") from None
    tasks = load_tasks(args.tasks)
    if not tasks:
        raise UsageError(f"{' '.join(map(str, args.tasks))}: no task.json found")
    for task in tasks[:args.limit]:
        require_valid(task.root)  # a broken video or checkpoint: exit 2 before any work
    opts = options_from_args(args)
    run_dir = RunDir(args.out or Path("runs") / slug(args.model))
    cache = ResponseCache(read=not args.no_cache)
    try:
        result = asyncio.run(evaluate(tasks, run_dir, opts, cache=cache))
        return _finish(args, run_dir, opts, result)
    except UnknownModel as e:  # the provider does not know the model (HTTP 404)
        raise UsageError(f"--model: {e}") from None
    except (RunError, AuthError, BackendUnavailable) as e:
        raise UsageError(str(e)) from None


def _finish(args, run_dir: RunDir, opts, result) -> int:
    """Compact, summary.json, the table, report.html; the exit code."""
    from judge.report import format_summary, load_run, write_html

    if args.compact:
        before, after = run_dir.compact()
        print(f"compacted {run_dir.results_path}: {before} -> {after} rows", file=sys.stderr)
    info = load_run(run_dir.path)
    summary = {**info["summary"], "run": str(run_dir.path), "model": opts.model, "session": result.session,
               "judged_this_session": len(result.judged), "skipped_finished": len(result.skipped),
               "not_run": result.not_run, "elapsed_s": result.elapsed_s, "cost": result.cost, "notes": result.notes}
    if result.executor != "local":
        summary.update(executor=result.executor, nodes=result.nodes)
    run_dir.write_summary(summary)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(f"{run_dir.path}: {opts.model}: judged {len(result.judged)}, already finished {len(result.skipped)}"
              f", {result.elapsed_s:.1f} s")
        print(format_summary(summary))
        if result.executor != "local":
            print(f"executor: {result.executor}, {len(result.nodes)} node(s): " + ", ".join(
                f"{n.get('host')} {n.get('ip') or ''} {(n.get('id') or '')[:8]} ({n['tasks']} task(s))"
                for n in result.nodes))
        for note in result.notes:
            print(f"note: {note}")
    if not args.no_report:
        print(f"report: {write_html(info)}  (leaderboard across runs: judge report {run_dir.path} RUN…)")
    else:
        print(f"report: judge report {run_dir.path}")
    return 1 if summary["judge_errors"] or summary["missing"] else 0


def main(argv: list[str] | None = None) -> int:
    """`python -m judge.evaluate TASKS --model X …`: this command alone, without the other
    subcommands (same flags, output and exit codes as `judge evaluate`)."""
    parser = argparse.ArgumentParser(prog="judge")
    add_parser(parser.add_subparsers(dest="command", required=True))
    argv = ["evaluate", *(sys.argv[1:] if argv is None else argv)]
    args = parser.parse_args(argv)
    args.command_line = ["judge", *argv]
    from judge.cli import dispatch

    return dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
