"""`judge replay TASK_DIR --page PAGE.html --out DIR`: watch the interactive judge work.

Runs the judge agent (`agents.judge_graph`) on one page and writes into DIR:

    steps/step_<k>_before.png, steps/step_<k>_after.png   the page around each action
    initial.png                                            the state VFS compares first
    steps.jsonl      one line per action: action, rung, element, every grounding
                     candidate considered with its evidence, the decision, verdict,
                     source, timings, errors
    result.json      the scores (IFS, ifs_steps, VFS and its components, Final, backends)
    trace.zip        a Playwright trace, one group per step; view it offline with
                     `playwright show-trace --host 127.0.0.1 --port 9323 DIR/trace.zip`
    .judge/          the judgment's checkpoints: re-running the same command after a
                     crash resumes it (`--fresh` starts over)

and prints a table of the steps, then per step the grounding decision and its best
candidates with their evidence (`--candidates N`, default 3; 0 for none). Exit codes: 0 judged (whatever the scores), 2 bad
input, 3 judge error (infrastructure: not the page's fault).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path


def add_parser(sub) -> argparse.ArgumentParser:
    from judge.score import add_backend_args

    p = sub.add_parser("replay", help="replay an interactive task on a page: per-step screenshots, steps.jsonl, trace.zip")
    p.add_argument("task", type=Path, help="interactive task folder (with task.json)")
    p.add_argument("--page", type=Path, required=True, help="candidate HTML file")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--fresh", action="store_true", help="discard a previous judgment in --out instead of resuming it")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    p.add_argument("--candidates", type=int, default=3, metavar="N",
                   help="grounding candidates shown per step with their evidence (default 3; 0: none)")
    add_backend_args(p)
    p.set_defaults(func=run)
    return p


def format_steps(result: dict) -> str:
    """The step table printed by `judge replay`."""
    rows = [("#", "action", "rung", "element", "ok", "source", "note")]
    for s in result["steps"]:
        note = (s.get("error") or s.get("verdict_reason") or "")[:60]
        rows.append((str(s["index"]), f"{s['type']}: {s['description']}"[:44], s.get("rung") or "-",
                     (s.get("element") or "-")[:38], "PASS" if s["passed"] else "FAIL",
                     s.get("verdict_source") or "-", note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    vfs = result.get("vfs")
    lines.append(f"ifs={result['ifs']:.3f}  ifs_steps={result['ifs_steps']:.3f}  "
                 f"vfs={'n/a' if vfs is None else f'{vfs:.3f}'}  final={result['final']:.3f}  "
                 f"exec={result['exec']}" + (f"  page error: {result['error']}" if result.get("error") else ""))
    b = result.get("backends", {})
    lines.append("backends: " + ", ".join(f"{k}={v}" for k, v in b.items() if v))
    return "\n".join(lines)


def format_decisions(steps: list[dict], limit: int = 3) -> str:
    """Per step: why the grounding chose its element, and the best candidates considered."""
    lines = ["grounding decisions:"]
    for s in steps:
        lines.append(f"  step {s['index']}: {s.get('decision') or s.get('error') or s.get('rung') or '-'}")
        best: dict[str, dict] = {}
        for c in sorted(s.get("candidates") or [], key=lambda c: -c["score"]):
            best.setdefault(c["path"], c)
        for c in list(best.values())[:limit]:
            ev = ", ".join(f"{k}={v}" for k, v in c.get("evidence", {}).items() if k != "anchor")
            lines.append(f"      {c['score']:.2f}  {c['source']:<22} {c['element'][:48]}  {ev}"[:160])
    return "\n".join(lines)


def run(args) -> int:
    from judge.errors import UsageError
    from judge.score import config_from_args, score_in_own_browser
    from judge.scorers import get_scorer
    from judge.tasks import load_task
    from judge.validate import require_valid

    task = load_task(args.task)
    if not get_scorer(task.family).replays:
        raise UsageError(f"{args.task}: family: replay needs a task judged step by step (interactive), "
                         f"this one is {task.family!r}")
    if not args.page.is_file():
        raise UsageError(f"{args.page}: page not found")
    require_valid(task.root)  # as judge score: a broken video or checkpoint fails before anything is written
    html = args.page.read_bytes()
    if args.fresh and (args.out / ".judge").exists():
        shutil.rmtree(args.out / ".judge")
    args.out.mkdir(parents=True, exist_ok=True)
    config = dataclasses.replace(config_from_args(args), trace=True)

    result = score_in_own_browser(task, html, config, args.out)   # a JudgeError: exit 3 (judge.cli.dispatch)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(format_steps(result))
        from judge.libs import page_block   # hook: libraries served, requests blocked, page errors
        for line in page_block(result):
            print(line)
        steps_file = args.out / "steps.jsonl"
        if args.candidates > 0 and steps_file.exists():
            print(format_decisions([json.loads(x) for x in steps_file.read_text().splitlines() if x.strip()],
                                   args.candidates))
        print(f"artifacts: {args.out}" + ("  (trace.zip)" if (args.out / "trace.zip").exists() else ""))
    return 0
