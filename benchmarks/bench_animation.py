"""Per shipped animation task: seconds for render, crop, appearance and temporal (the last
two run side by side, as in `judge score`), and the
total as a ratio of the clip's own duration (offline backends, reference side cached).

    .venv/bin/python benchmarks/bench_animation.py [--tasks tasks/animation] [--seconds 5]

The candidate is the task's reference page, rendered under the same conditions as
`judge score` (virtual clock, viewport, fps); the reference features come from the
cache (`judge score` computes them once per task). With `--seconds` each clip is
rendered for that long (default: the task's own duration). Peak RSS is printed last.
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from judge.browser.runtime import Browser  # noqa: E402
from judge.record import page_folders, render_page  # noqa: E402
from judge.score import ScoreConfig  # noqa: E402
from judge.scorers.animation import animation_backends, reference_features  # noqa: E402
from judge.tasks import find_task_dirs, load_task  # noqa: E402
from metrics import appearance, temporal  # noqa: E402
from metrics.animation import prepare_video  # noqa: E402


async def main(args) -> None:
    cfg = ScoreConfig(embedder="classic", tracker="opencv", cache_dir=Path(tempfile.mkdtemp()))
    embedder, tracker, _ = animation_backends(cfg)
    rows = []
    async with Browser() as b:
        for d in find_task_dirs([args.tasks]):
            task = load_task(d)
            if task.family != "animation":
                continue
            if args.seconds:
                task = task.model_copy(update={"spec": task.spec.model_copy(update={"duration_s": args.seconds})})
            spec = task.spec
            ref, _ = reference_features(task, embedder, tracker, cfg)  # cached, as in judge score
            t0 = time.perf_counter()
            r = await render_page(b, task.reference_page_path.read_bytes(), viewport=spec.viewport, fps=spec.fps,
                                  n_frames=spec.n_frames, folders=page_folders(None, task.assets_path))
            t1 = time.perf_counter()
            feats = prepare_video(r.frames, embedder, tracker, fallback_box=ref.box)  # as judge score
            a = appearance.compare(ref.appearance, feats.appearance)["appearance"]
            tv = temporal.compare(ref.temporal, feats.temporal)["temporal"]
            t2 = time.perf_counter()
            dur = spec.n_frames / spec.fps
            total = t2 - t0
            sec = feats.seconds
            rows.append((task.id, t1 - t0, t2 - t1, total / dur))
            print(f"{task.id:<16} render {t1 - t0:5.2f}s  metrics {t2 - t1:4.2f}s (crop {sec['crop']:4.2f}s, "
                  f"appearance {sec['embed']:4.2f}s || temporal {sec['track']:4.2f}s)  total {total:5.2f}s = "
                  f"{total / dur:4.2f}x of {dur:.1f}s (appearance {a:.3f}, temporal {tv if tv is None else round(tv, 3)})")
    med = statistics.median(r[3] for r in rows)
    print(f"median total / clip duration over {len(rows)} tasks: {med:.2f}x "
          f"(render {statistics.median(r[1] for r in rows):.2f}s, metrics "
          f"{statistics.median(r[2] for r in rows):.2f}s)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", default="tasks/animation")
    ap.add_argument("--seconds", type=float, default=None)
    asyncio.run(main(ap.parse_args()))
