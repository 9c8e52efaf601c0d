"""Time the interactive judge offline (no judge model) and count model-free grounding.

Usage: ``python benchmarks/bench_interactive.py [--repeat 1] [--json] [TASK_DIR ...]``

Tasks: every interactive task folder given (or, by default, `tasks/interactive/*`:
recorded into a temporary folder first when it has only `reference.html` +
`actions.json`), plus the test suite's own tasks (groceries, settings, board). Each
task's reference page is judged, once with its target hints and once as IWR-Bench gives
tasks (`descr-only`: descriptions only, no hints, no bbox); the groceries task also on
three candidates that need the lower rungs (renamed DOM, different layout, text-less icons).

Reports, over all judgments:
- seconds per action, *steps*: ground + act + settle (1 s of virtual time) + observe +
  verify, per action (median and p90);
- seconds per action, *total*: the judgment's wall time (page load, VFS with OCR,
  checkpoint writes included) divided by its number of actions (median);
- the share of element-targeting actions grounded without a model call, and the rungs.
Goals: <= 1 s per action, >= 90 % grounded without a model.

``--corpus [--mutants]``: the real-world corpus instead (`tests/corpus/`: third-party
apps, recorded on each behaviour's reference implementation), every implementation in
both modes (hinted, descriptions-only), and with ``--mutants`` every wrong-effect mutant
in both modes. Reports per mode: seconds per action (steps median, total median),
share grounded without a model, candidates per step (median, p90, max), and for the
mutants the exact-prefix share, false-positive steps and every miss.
Goals: <= 0.5 s per action, >= 95 % grounded without a model descriptions-only, 0 false
positives, >= 95 % of mutants at their exact expected prefix.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from agents.judge_graph import judge_page  # noqa: E402
from judge.browser.runtime import Browser  # noqa: E402
from judge.record import load_actions_file, record_interactive  # noqa: E402
from judge.score import ScoreConfig  # noqa: E402
from judge.tasks import Action, Viewport, load_task  # noqa: E402


async def prepare(browser: Browser, dirs: list[Path], tmp: Path) -> list[tuple[object, list[tuple[str, str]]]]:
    """(task, [(candidate name, html)]) for every task."""
    import test_judge_actions as A
    import test_judge_pages as P

    out = []
    for d in dirs:
        if (d / "task.json").exists():
            task = load_task(d)
        else:
            meta = json.loads((d / "meta.json").read_text()) if (d / "meta.json").exists() else {}
            await record_interactive(browser, d / "reference.html", load_actions_file(d / "actions.json"), tmp / d.name,
                                     task_id=d.name, viewport=Viewport.parse(meta.get("viewport", "1024x768")), fps=10)
            task = load_task(tmp / d.name)
        out.append((task, [("reference", (task.root / task.spec.reference_page).read_text())]))
    own = {"groceries": (P.grocery_page(), P.GROCERY_ACTIONS, [("renamed", P.GROCERY_RENAMED),
                                                                ("relayout", P.GROCERY_RELAYOUT),
                                                                ("icons", P.GROCERY_ICONS)]),
           "settings": (P.SETTINGS, P.SETTINGS_ACTIONS, []), "board": (A.BOARD, A.BOARD_ACTIONS, [])}
    for name, (html, actions, variants) in own.items():
        (tmp / f"{name}_src").mkdir()
        (tmp / f"{name}_src" / "reference.html").write_text(html)
        await record_interactive(browser, tmp / f"{name}_src" / "reference.html",
                                 [Action.model_validate(a) for a in actions], tmp / name, task_id=name, viewport=P.VP, fps=10)
        out.append((load_task(tmp / name), [("reference", html)] + variants))
    return out


async def bench(args) -> dict:
    default = sorted(p for p in (ROOT / "tasks" / "interactive").iterdir() if (p / "reference.html").exists())
    dirs = [Path(d) for d in args.tasks] or default
    config = ScoreConfig(embedder="classic")
    step_s, total_s, rows = [], [], []
    rungs: Counter = Counter()
    free = element = 0
    import test_judge_actions as A

    with tempfile.TemporaryDirectory() as tmp:
        async with Browser() as browser:
            jobs = await prepare(browser, dirs, Path(tmp))
            for rep in range(args.repeat):
                for task0, candidates in jobs:
                    runs = [(task0, c) for c in candidates] + [(A.without_hints(task0), ("descr-only", candidates[0][1]))]
                    for task, (cname, html) in runs:
                        t0 = time.perf_counter()
                        r = await judge_page(task, html, browser=browser, config=config)
                        wall = time.perf_counter() - t0
                        n = len(task.spec.actions)
                        total_s.append(wall / n)
                        g = r["grounding"]
                        rungs.update(g["rungs"])
                        element += g["element_actions"]
                        free += round((g["without_model"] or 0) * g["element_actions"])
                        rows.append({"task": task.id, "candidate": cname, "actions": n, "ifs": r["ifs"],
                                     "vfs": round(r["vfs"], 3), "wall_s": round(wall, 2)})
                        step_s.extend(r["judge_run"]["step_seconds"])
    q = statistics.quantiles(step_s, n=10) if len(step_s) > 1 else step_s * 9
    return {"judgments": len(rows), "actions": len(step_s),
            "median_s_per_action_steps": round(statistics.median(step_s), 3), "p90_s_per_action_steps": round(q[-1], 3),
            "median_s_per_action_total": round(statistics.median(total_s), 3),
            "grounded_without_model": round(free / element, 3) if element else None,
            "rungs": dict(rungs), "rows": rows}


def corpus_report(results) -> dict:
    """Per mode: speed, model-free grounding, candidates per step; mutants: exactness and misses."""
    out = {}
    for mode in ("hinted", "descr-only"):
        js = [j for j in results if j.mode == mode]
        if not js:
            continue
        steps = [t for j in js for t in j.result["judge_run"]["step_seconds"]]
        total = [j.wall_s / j.n for j in js]
        cands = sorted(s.get("n_candidates", 0) for j in js for s in j.result["steps"] if s.get("rung") not in
                       ("none", "focused", "window", None))
        element = sum(j.result["grounding"]["element_actions"] for j in js)
        free = sum(round((j.result["grounding"]["without_model"] or 0) * j.result["grounding"]["element_actions"])
                   for j in js)
        correct = [j for j in js if j.mutant is None]
        muts = [j for j in js if j.mutant is not None]
        out[mode] = {
            "judgments": len(js), "actions": len(steps),
            "median_s_per_action_steps": round(statistics.median(steps), 3),
            "median_s_per_action_total": round(statistics.median(total), 3),
            "grounded_without_model": round(free / element, 3) if element else None,
            "candidates_per_step": {"median": statistics.median(cands) if cands else 0,
                                    "p90": cands[int(0.9 * (len(cands) - 1))] if cands else 0,
                                    "max": cands[-1] if cands else 0},
            "correct_full_ifs": f"{sum(j.exact for j in correct)}/{len(correct)}",
            "mutants_exact": f"{sum(j.exact for j in muts)}/{len(muts)}" if muts else None,
            "false_positive_steps": sum(len(j.false_positives) for j in muts),
            "misses": [j.line() for j in js if not j.exact or j.false_positives],
        }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("tasks", nargs="*", help="interactive task folders (default: tasks/interactive/*)")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--json", action="store_true")
    p.add_argument("--corpus", action="store_true", help="judge the real-world corpus (tests/corpus) in both modes")
    p.add_argument("--mutants", action="store_true", help="with --corpus: the wrong-effect mutants too")
    args = p.parse_args()
    if args.corpus:
        sys.path.insert(0, str(ROOT / "tests" / "corpus"))
        import harness

        res = corpus_report(asyncio.run(harness.run_all(args.tasks, args.mutants,
                                                        out=(lambda s: None) if args.json else print)))
        print(json.dumps(res, indent=2))
        return 0
    res = asyncio.run(bench(args))
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    for row in res["rows"]:
        print(f"{row['task']:<20} {row['candidate']:<10} n={row['actions']:<2} ifs={row['ifs']:.2f} vfs={row['vfs']:.3f} "
              f"wall={row['wall_s']:.1f}s")
    print(f"\n{res['judgments']} judgments, {res['actions']} actions (offline: no judge model)")
    print(f"seconds per action, steps: median {res['median_s_per_action_steps']}  p90 {res['p90_s_per_action_steps']}")
    print(f"seconds per action, total (load + VFS + I/O included): median {res['median_s_per_action_total']}")
    print(f"grounded without a model call: {res['grounded_without_model']:.1%}  rungs: {res['rungs']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
