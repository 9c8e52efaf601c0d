"""Throughput of `judge evaluate` with the local executor (`--workers 2`) and with Ray
(two 1-CPU nodes on this machine, two actors), measured in one process run, and the
Ray executor's own per-task overhead.

Usage: ``python benchmarks/bench_executors.py [TASKS] [--limit N] [--json]``

- A three-node Ray cluster is started here (`ray.cluster_utils.Cluster`: a head without
  CPUs and two worker nodes of one CPU each) before any timing, and stopped at the end.
- An untimed local evaluation first fills a private reference-feature cache, so both
  timed runs do the same work (the steady state of several models on one suite).
- Then, each into a fresh run directory, with the `reference` model and the offline
  backends (classic embedder, OpenCV tracker): local with 2 workers, then Ray with 2
  actors. Reported per run: wall seconds (Chromium / actor start included), tasks per
  minute, and their ratio (ray / local); for Ray the per-task overhead of the executor
  (`summary.json` `nodes[].overhead_ms`: a call's time outside `score_page` — dispatch,
  the task folder's first transfer to a node, html and artifacts there and back, their
  packing and writing — mean per task) and the actor start time (measured apart: a pool
  started and closed without tasks).
- The idle cost of the Ray cluster itself (head, raylets, their agents): the machine's
  busy CPU over `--idle` seconds (10) right after it started, as a share of its cores
  (Linux `/proc/stat`; anything else running counts too).
- The machine's CPU during each timed run (`/proc/stat`): busy core-seconds and busy share
  of its cores. More core-seconds for Ray means extra work; a lower share means idle cores.
- The 1-minute load average is printed: other processes on the machine skew both runs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MB = 1 << 20


def _cluster(cache: Path):
    from ray.cluster_utils import Cluster

    os.environ["WEBJUDGE_CACHE_DIR"] = str(cache)          # inherited by the nodes' workers
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False,
                                                      "object_store_memory": 100 * MB})
    for _ in range(2):
        c.add_node(num_cpus=1, object_store_memory=100 * MB)
    c.wait_for_nodes()
    return c


def _cpu_sample() -> tuple[int, int] | None:
    """(all, idle + iowait) jiffies of this machine since boot (Linux `/proc/stat`)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return None
    return sum(v), v[3] + v[4]


def _busy(before, after) -> dict | None:
    """Busy share of the machine's cores and busy core-seconds between two samples."""
    if before is None or after is None:
        return None
    total, idle = after[0] - before[0], after[1] - before[1]
    hz = os.sysconf("SC_CLK_TCK")
    return {"share": round(1 - idle / max(1, total), 4), "core_s": round((total - idle) / hz, 1)}


def _busy_share(seconds: float) -> float | None:
    """The share of this machine's CPU time that was busy over `seconds`."""
    before = _cpu_sample()
    time.sleep(seconds)
    busy = _busy(before, _cpu_sample())
    return None if busy is None else busy["share"]


async def _evaluate(tasks, out: Path, opts):
    from agents.cache import ResponseCache
    from judge.pipeline import evaluate
    from judge.runs import RunDir

    t0, cpu0 = time.monotonic(), _cpu_sample()
    res = await evaluate(tasks, RunDir(out), opts, progress=None, cache=ResponseCache(out.parent / "llm"))
    return time.monotonic() - t0, res, _busy(cpu0, _cpu_sample())


async def _actor_start(opts, tasks) -> float:
    """Seconds to start the Ray pool (connect, actors, their Chromium) and close it."""
    from judge.context import ScoringContext
    from judge.executors.ray import RayExecutor

    async with ScoringContext(opts.score, families={t.family for t in tasks}) as ctx:
        ex = RayExecutor(ctx, workers=2, address=opts.ray_address)
        t0 = time.monotonic()
        try:
            await ex.start()
            return time.monotonic() - t0
        finally:
            await ex.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tasks", nargs="?", type=Path, default=ROOT / "tasks")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds to sample the idle cluster's CPU")
    args = ap.parse_args(argv)

    from judge.pipeline import EvalOptions
    from judge.score import ScoreConfig
    from judge.tasks import load_tasks

    tasks = load_tasks([args.tasks])[:args.limit]
    tmp = Path(tempfile.mkdtemp(prefix="bench-executors-"))
    features = tmp / "features"
    cluster = _cluster(tmp / "cache")
    idle = _busy_share(args.idle)
    try:
        def opts(**kw):
            return EvalOptions(model="reference", command=["bench"], score=ScoreConfig(
                embedder="classic", tracker="opencv", cache_dir=features), **kw)

        asyncio.run(_evaluate(tasks, tmp / "warm", opts(workers=2)))      # fills the feature cache, untimed
        local_s, local, local_cpu = asyncio.run(_evaluate(tasks, tmp / "local", opts(workers=2)))
        ray_s, ray_res, ray_cpu = asyncio.run(_evaluate(tasks, tmp / "ray", opts(workers=2, executor="ray",
                                                                         ray_address=cluster.address)))
        start_s = asyncio.run(_actor_start(opts(executor="ray", ray_address=cluster.address), tasks))
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    n = len(tasks)
    assert len(local.judged) == len(ray_res.judged) == n, (local.judged, ray_res.judged)
    nodes = ray_res.nodes
    done = sum(x["tasks"] for x in nodes)
    overhead = sum(x["overhead_ms"] * x["tasks"] for x in nodes) / max(1, done)
    out = {"tasks": n, "local_workers2": {"wall_s": round(local_s, 1), "tasks_per_min": round(60 * n / local_s, 2),
                                          "cpu": local_cpu},
           "ray_2x1cpu": {"wall_s": round(ray_s, 1), "tasks_per_min": round(60 * n / ray_s, 2), "cpu": ray_cpu,
                          "actor_start_s": round(start_s, 1), "overhead_ms_per_task": round(overhead, 1),
                          "nodes": [{"id": x["id"][:8], "tasks": x["tasks"], "overhead_ms": x["overhead_ms"]}
                                    for x in nodes]},
           "ratio_ray_over_local": round(local_s / ray_s, 3),
           "ray_idle_cpu_share": None if idle is None else round(idle, 4), "loadavg_1min": round(os.getloadavg()[0], 2)}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        r = out["ray_2x1cpu"]
        print(f"{n} tasks ({args.tasks}), reference model, classic/opencv, warm feature cache")
        print(f"  local --workers 2        {local_s:7.1f} s  {out['local_workers2']['tasks_per_min']:6.2f} tasks/min")
        print(f"  ray, 2 nodes x 1 CPU     {ray_s:7.1f} s  {r['tasks_per_min']:6.2f} tasks/min  "
              f"(ratio ray/local {out['ratio_ray_over_local']:.3f})")
        for name, cpu in (("local", local_cpu), ("ray", ray_cpu)):
            if cpu:
                print(f"  cpu during {name:5}         {cpu['core_s']:7.1f} core-s busy, "
                      f"{100 * cpu['share']:.1f} % of the machine's cores")
        print(f"  ray executor overhead    {overhead:7.1f} ms per task (mean; per node: "
              + ", ".join(f"{x['id']} {x['tasks']} tasks {x['overhead_ms']:.1f} ms" for x in r["nodes"]) + ")")
        print(f"  ray actor start          {start_s:7.1f} s  (2 actors: connect, imports, Chromium)")
        if idle is not None:
            print(f"  ray cluster, idle        {100 * idle:7.1f} % of this machine's CPU (head, 2 raylets, agents;"
                  f" {args.idle:g} s)")
        print(f"  load average (1 min)     {out['loadavg_1min']:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
