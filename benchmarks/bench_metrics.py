"""Time the animation metrics on synthetic 150-frame 1024x768 clips (offline backends).

Usage: ``python benchmarks/bench_metrics.py [--frames 150] [--repeat 3]``

Prints, per phase, the best-of-``repeat`` seconds and the ratio to the clip's
duration (150 frames at 30 fps = 5 s), for the reference side (computed once
per task and cached) and the candidate side (per candidate), plus peak RSS.
The clip: a white page with 8 shapes moving / rotating / scaling / fading over
most of the page and a line of text sliding in, so the crop is ~900x650 px.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrics import appearance, temporal  # noqa: E402
from metrics.animation import prepare_video, score_animation  # noqa: E402
from metrics.crop import box_from_mask, change_mask  # noqa: E402
from metrics.embedders import ClassicEmbedder  # noqa: E402
from metrics.exec import exec_result  # noqa: E402
from metrics.trackers import OpenCVTracker  # noqa: E402

FPS = 30


def clip(n: int = 150, h: int = 768, w: int = 1024, phase: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shapes = [(rng.uniform(120, w - 120), rng.uniform(120, h - 120), rng.uniform(25, 60),
               tuple(int(c) for c in rng.integers(0, 220, 3)), rng.uniform(-1, 1, 2) * 250, rng.uniform(-180, 180))
              for _ in range(8)]
    out = np.empty((n, h, w, 3), np.uint8)
    for t in range(n):
        u = t / (n - 1) + phase
        img = np.full((h, w, 3), 255, np.uint8)
        for k, (x, y, r, col, v, spin) in enumerate(shapes):
            cx, cy = x + v[0] * np.sin(np.pi * u), y + v[1] * u
            a = np.deg2rad(spin * u)
            s = r * (1 + 0.3 * np.sin(2 * np.pi * u)) if k % 3 == 0 else r
            pts = np.array([[np.cos(a + q * np.pi / 2), np.sin(a + q * np.pi / 2)] for q in range(4)]) * s + [cx, cy]
            if k % 2:
                cv2.fillPoly(img, [np.round(pts * 16).astype(np.int32)], col, cv2.LINE_AA, 4)
            else:
                cv2.circle(img, (int(cx * 16), int(cy * 16)), int(s * 16), col, -1, cv2.LINE_AA, 4)
        cv2.putText(img, "Animated headline", (int(-400 + 500 * min(u * 2, 1)), 80), cv2.FONT_HERSHEY_SIMPLEX,
                    1.5, (20, 20, 20), 3, cv2.LINE_AA)
        out[t] = img
    return out


def best(fn, repeat):
    times, res = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t)
    return min(times), res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n, rep = args.frames, args.repeat
    dur = n / FPS
    emb, trk = ClassicEmbedder(), OpenCVTracker()
    ref, cand = clip(n), clip(n, phase=0.05)
    print(f"clips: {n} frames 1024x768 ({dur:.1f} s at {FPS} fps); backends {emb.name}, {trk.name}")

    def row(name, sec):
        print(f"  {name:34s} {sec:7.3f} s   {sec / dur:6.3f} x clip")

    t_mask, mask = best(lambda: change_mask(cand), rep)
    box = box_from_mask(mask)
    print(f"candidate crop box {box.as_list()} ({box.width}x{box.height})")
    t_emb, _ = best(lambda: appearance.prepare(cand, emb, box=box), rep)
    t_trk, _ = best(lambda: temporal.prepare(cand, trk, box=box, mask=mask), rep)
    t_exec, _ = best(lambda: exec_result(True, None, cand), rep)
    t_ref, ref_feats = best(lambda: prepare_video(ref, emb, trk), rep)
    t_cmp_setup = prepare_video(cand, emb, trk, fallback_box=ref_feats.box)
    t_cmp, _ = best(lambda: (appearance.compare(ref_feats.appearance, t_cmp_setup.appearance),
                             temporal.compare(ref_feats.temporal, t_cmp_setup.temporal)), rep)
    t_total, res = best(lambda: score_animation(None, cand, embedder=emb, tracker=trk, ref_cache=ref_feats), rep)
    print("per candidate (reference cached):")
    row("exec check", t_exec)
    row("crop (change mask + box)", t_mask)
    row("appearance embed (classic-v1)", t_emb)
    row("temporal tracks (opencv-lk-v1)", t_trk)
    row("compare (DTW + tracklet pairs)", t_cmp)
    row("score_animation total", t_total)
    print("per reference (once per task, cacheable):")
    row("prepare_video(ref)", t_ref)
    row("uncached pair (ref + candidate)", t_ref + t_total)
    d = res["diagnostics"]
    print(f"scores: appearance {res['appearance']:.3f} temporal {res['temporal']:.3f}; tracklets "
          f"{d['tracklets_ref']}/{d['tracklets_cand']} (tracks {d['tracks_ref']}/{d['tracks_cand']}), "
          f"dtw path {d['dtw_path_len']}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB (includes the two uint8 clips, {2 * ref.nbytes / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
