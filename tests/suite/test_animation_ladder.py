"""Defect ladders on the shipped animation tasks, through the real browser and scorer.

For each ladder task, candidate *pages* are derived programmatically from the task's
reference video: a flipbook page holding the reference frames as images, drawn on a
canvas by a requestAnimationFrame loop at remapped times (so the candidate is a real
page running under the virtual clock, like any generated page). Rungs:

    exact      the reference page itself
    shifted    the same frames drawn 100 px right / 60 px down on the page
    slowed     frame at t / 1.5
    reversed   frame at T - t
    static     frame 0 only
    recoloured hue rotated by 150 degrees
    blank      an empty page

A new task joins by adding one line to LADDER: its id and how reversal is checked.
"reversed" asserts temporal <= 0.3. "reversed-rotation" (rotation-dominated scenes)
only asserts that reversal costs at least half of the temporal score: the Chamfer
aggregation takes, for every tracklet, the best-matching tracklet of the other video,
and opposite rotations at other phases match partially (measured 0.32-0.35 on
canvas-orbit and smil-path), a known property of the metric as defined.
Scores use the offline backends (classic embedder, OpenCV tracker) and the first
LADDER_SECONDS of each task, to keep the suite fast.
"""
from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from judge.score import ScoreConfig, score_page
from judge.tasks import load_task
from judge.video import reference_frames
from tests.helpers.paths import ROOT

LADDER_SECONDS = 2.0
# task id -> rungs to check besides the universal ones
LADDER = {
    "bounce-ease": {"reversed"},     # CSS keyframes, varied easing, loop
    "waapi-cards": {"reversed"},     # Web Animations API
    "canvas-orbit": {"reversed-rotation"},  # rAF-driven canvas
    "slide-in": {"reversed"},        # transitions triggered on load, entering from off-screen
    "stagger-bars": {"reversed"},    # several staggered elements
    "counter-raf": {"reversed"},     # JS animation on rAF timestamps
    "oneshot-grow": {"reversed"},    # one-shot, staggered
}
CONFIG = ScoreConfig(embedder="classic", tracker="opencv")


def flipbook(frames: np.ndarray, index_expr: str, *, dx: int = 0, dy: int = 0, css_filter: str = "none") -> str:
    """A page that draws frames[index(t)] on a full-viewport canvas every animation frame.
    `index_expr` is a JS expression of `t` (ms) and `n` (frame count)."""
    h, w = frames.shape[1:3]
    imgs = []
    for f in frames:
        ok, png = cv2.imencode(".png", cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        imgs.append(f'<img src="data:image/png;base64,{base64.b64encode(png.tobytes()).decode()}">')
    return f"""<!doctype html><html><head><style>body{{margin:0;background:#fff;overflow:hidden}}
#frames{{display:none}} canvas{{display:block;filter:{css_filter}}}</style></head><body>
<canvas id=c width={w} height={h}></canvas><div id=frames>{''.join(imgs)}</div><script>
const imgs = document.querySelectorAll('#frames img'), n = imgs.length, ctx = document.getElementById('c').getContext('2d');
function draw(t) {{
  const i = Math.max(0, Math.min(n - 1, Math.floor({index_expr})));
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, {w}, {h});
  ctx.drawImage(imgs[i], {dx}, {dy});
  requestAnimationFrame(draw);
}}
requestAnimationFrame(draw);
</script></body></html>"""


def variants(frames: np.ndarray, fps: float) -> dict[str, str]:
    fd = 1000.0 / fps
    return {
        "shifted": flipbook(frames, f"t / {fd} + 1e-6", dx=100, dy=60),
        "slowed": flipbook(frames, f"t / {fd} / 1.5 + 1e-6"),
        "reversed": flipbook(frames, f"n - 1 - t / {fd} + 1e-6"),
        "static": flipbook(frames[:1], "0"),
        "recoloured": flipbook(frames, f"t / {fd} + 1e-6", css_filter="hue-rotate(150deg) saturate(1.5)"),
        "blank": "<!doctype html><html><body style='background:#fff'></body></html>",
    }


def short_task(task_id: str):
    task = load_task(ROOT / "tasks" / "animation" / task_id)
    spec = task.spec.model_copy(update={"duration_s": min(task.spec.duration_s, LADDER_SECONDS)})
    return task.model_copy(update={"spec": spec})


@pytest.mark.parametrize("task_id", sorted(LADDER))
def test_defect_ladder(browser, run, task_id, tmp_path):
    task = short_task(task_id)
    frames = reference_frames(task)
    cfg = ScoreConfig(embedder="classic", tracker="opencv", cache_dir=tmp_path / "cache")
    score = lambda html: run(score_page(task, html, browser=browser, config=cfg))  # noqa: E731

    exact = score(task.reference_page_path.read_bytes())
    r = {name: score(html) for name, html in variants(frames, task.spec.fps).items()}
    table = {k: (round(v["appearance"], 3), v["temporal"] if v["temporal"] is None else round(v["temporal"], 3),
                 v["static"]) for k, v in {"exact": exact, **r}.items()}
    msg = f"{task_id}: {table}"

    assert exact["exec"] and exact["appearance"] >= 0.95 and exact["temporal"] >= 0.95, msg
    assert exact["backends"] == {"embedder": "classic-v1", "tracker": "opencv-lk-v1"}
    # position on the page does not matter: each video is cropped to its own moving region
    assert r["shifted"]["appearance"] >= 0.9 and r["shifted"]["temporal"] >= 0.85, msg
    assert r["slowed"]["temporal"] < exact["temporal"] - 0.1, msg
    if "reversed" in LADDER[task_id]:
        # motion reversed: temporal collapses, while the frames themselves still look alike
        assert r["reversed"]["temporal"] <= 0.3, msg
        assert r["reversed"]["appearance"] >= 0.6, msg
    if "reversed-rotation" in LADDER[task_id]:
        assert r["reversed"]["temporal"] <= 0.5 * exact["temporal"] and r["reversed"]["appearance"] >= 0.6, msg
    assert r["static"]["exec"] and r["static"]["static"] and r["static"]["temporal"] == 0.0, msg
    assert r["recoloured"]["appearance"] < exact["appearance"] - 0.05, msg
    assert r["recoloured"]["temporal"] >= 0.7, msg
    assert (not r["blank"]["exec"]) or r["blank"]["appearance"] <= 0.1, msg
