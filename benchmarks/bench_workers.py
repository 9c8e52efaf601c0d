"""Throughput of `judge evaluate` with 1 and 2 workers, measured in one process run.

Usage: ``python benchmarks/bench_workers.py [TASKS] [--workers 1 2] [--model reference]
[--limit N] [--cold] [--json]``

For each worker count, the suite (default: the shipped ``tasks/``) is evaluated into a
fresh run directory with the same model (default ``reference``) and offline backends
(classic embedder, OpenCV tracker), sharing Chromium started before timing (one with frames
unpaced for the worker counts that leave each page a spare core, one paced for the others,
as `judge evaluate` chooses: `judge.browser.limits.unpaced`).
Reported: wall seconds (median of ``--repeat`` runs, alternating the order of the worker
counts so background load affects them alike), tasks/minute, the speed-up of each count
over the first, and the 1-minute load average (other processes on the machine skew it).

Reference features: by default a warm-up evaluation (untimed) fills a private feature
cache first, so every timed run does the same work (the steady state when several models
are evaluated on one suite); ``--cold`` gives each timed run an empty cache instead.

Shipped tasks without ``task.json`` (not recorded yet) are recorded from their
``reference.html`` into a temporary folder first (``duration_s`` of their ``meta.json``,
else ``--duration`` seconds; 1024x768, 30 fps), and the output says so.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def _record_missing(browser, src: Path, dst: Path, duration: float) -> list[str]:
    """Record every `animation/*/reference.html` under `src` lacking a task.json into `dst`."""
    from judge.record import render_page
    from judge.tasks import TaskSpec, Viewport, save_spec

    made = []
    for page in sorted(src.glob("animation/*/reference.html")):
        if (page.parent / "task.json").exists():
            continue
        folder = dst / page.parent.name
        folder.mkdir(parents=True)
        html = page.read_bytes()
        meta = page.parent / "meta.json"
        seconds = float(json.loads(meta.read_text()).get("duration_s", duration)) if meta.is_file() else duration
        (folder / "reference.html").write_bytes(html)
        assets = page.parent / "assets"
        vp = Viewport()
        await render_page(browser, html, viewport=vp, fps=30.0, n_frames=int(round(seconds * 30)),
                          folders={"": page.parent, **({"assets/": assets} if assets.is_dir() else {})},
                          video_path=folder / "video.mp4", keep_frames=False)
        save_spec(TaskSpec(id=page.parent.name, family="animation", viewport=vp, fps=30.0, duration_s=seconds,
                           video="video.mp4", reference_page="reference.html",
                           assets_dir="assets" if assets.is_dir() else None,
                           metadata={"recorded_by": "bench_workers"}), folder)
        if assets.is_dir():
            (folder / "assets").symlink_to(assets.resolve())
        made.append(page.parent.name)
    return made


async def bench(args) -> dict:
    from judge.browser.limits import unpaced
    from judge.browser.runtime import Browser
    from judge.pipeline import EvalOptions, evaluate
    from judge.runs import RunDir
    from judge.score import ScoreConfig
    from judge.tasks import load_tasks

    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    notes = []
    # as judge evaluate does: frames unpaced when each page at once has a spare core, else paced
    async with Browser() as browser, Browser(paced=True) as paced:
        def browser_for(workers: int) -> Browser:
            return browser if unpaced(workers) else paced

        tasks = load_tasks([args.tasks])
        if not tasks:
            made = await _record_missing(browser, args.tasks, tmp / "suite", args.duration)
            notes.append(f"{len(made)} tasks had no task.json: recorded from reference.html "
                         f"(meta.json durations, 1024x768, 30 fps) into {tmp / 'suite'}")
            tasks = load_tasks([tmp / "suite"])
        if args.limit:
            tasks = tasks[:args.limit]
        n = len(tasks)

        def options(workers: int, cache: Path) -> EvalOptions:
            return EvalOptions(model=args.model, workers=workers, command=["bench_workers"],
                               score=ScoreConfig(embedder="classic", tracker="opencv", cache_dir=cache))

        if not args.cold:
            t0 = time.perf_counter()
            await evaluate(tasks, RunDir(tmp / "warmup"), options(max(args.workers), tmp / "features"),
                           browser=browser_for(max(args.workers)), progress=None)
            notes.append(f"warm-up (reference features) {time.perf_counter() - t0:.1f} s, untimed")
        walls: dict[int, list[float]] = {w: [] for w in args.workers}
        loads = []
        for rep in range(args.repeat):  # alternate the order so background load hits both alike
            for w in (args.workers if rep % 2 == 0 else args.workers[::-1]):
                cache = tmp / (f"features-cold-{w}-{rep}" if args.cold else "features")
                t0 = time.perf_counter()
                res = await evaluate(tasks, RunDir(tmp / f"run-w{w}-{rep}"), options(w, cache), browser=browser_for(w),
                                     progress=None)
                walls[w].append(time.perf_counter() - t0)
                loads.append(os.getloadavg()[0])
                assert len(res.judged) == n, f"workers={w}: judged {len(res.judged)} of {n}"
        results = []
        for w in args.workers:
            wall = statistics.median(walls[w])
            results.append({"workers": w, "tasks": n, "wall_s": round(wall, 2), "walls_s": [round(x, 2) for x in walls[w]],
                            "tasks_per_min": round(60 * n / wall, 2)})
        base = results[0]["tasks_per_min"]
        for r in results:
            r["speedup"] = round(r["tasks_per_min"] / base, 3)
    return {"cpus": os.cpu_count(), "model": args.model, "cold": args.cold, "repeat": args.repeat,
            "load_avg_1min": [round(x, 2) for x in loads], "results": results, "notes": notes, "scratch": str(tmp)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("tasks", nargs="?", type=Path, default=ROOT / "tasks")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--model", default="reference")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--duration", type=float, default=3.0, help="seconds, for tasks recorded on the fly")
    p.add_argument("--repeat", type=int, default=1, help="timed runs per worker count (median; order alternates)")
    p.add_argument("--cold", action="store_true", help="empty reference-feature cache for every timed run")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    out = asyncio.run(bench(args))
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for note in out["notes"]:
        print(f"note: {note}")
    print(f"{out['cpus']} CPUs, model {out['model']}, {'cold' if out['cold'] else 'warm'} reference features, "
          f"median of {out['repeat']}; 1-min load average after each run: {out['load_avg_1min']}")
    print(f"{'workers':>7}  {'tasks':>5}  {'wall s':>7}  {'tasks/min':>9}  {'speed-up':>8}")
    for r in out["results"]:
        print(f"{r['workers']:>7}  {r['tasks']:>5}  {r['wall_s']:>7.1f}  {r['tasks_per_min']:>9.1f}  "
              f"{r['speedup']:>7.2f}x")


if __name__ == "__main__":
    main()
