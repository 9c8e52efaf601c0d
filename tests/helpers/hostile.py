"""Builders shared by the hostile-page tests: the small animation task, the tight scoring limits,
the pages of tests/hostile/ with the canary's address filled in, and the timing record."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from judge.browser.runtime import Browser
from judge.record import render_page
from judge.score import ScoreConfig
from judge.tasks import Task, TaskSpec, Viewport, load_task, save_spec
from judge.video import write_video
from tests.helpers.canary import Canary
from tests.helpers.paths import ROOT

HOSTILE = ROOT / "tests" / "hostile"


HOSTILE_TIMEOUT_S = 5.0     # per call into the page


HOSTILE_BUDGET_S = 15.0     # all calls into one page together


VIEWPORT = Viewport(width=320, height=240)


REFERENCE = """<!doctype html><html><head><style>
html, body { margin: 0; background: #fff; }
#box { position: absolute; left: 20px; top: 90px; width: 60px; height: 60px; background: #2060e0;
       animation: slide 1s linear infinite; }
#dot { position: absolute; left: 150px; top: 20px; width: 20px; height: 20px; border-radius: 10px;
       background: #e04020; animation: drop 1s ease-in-out infinite alternate; }
@keyframes slide { to { transform: translateX(220px) rotate(90deg); } }
@keyframes drop { to { transform: translateY(180px); } }
</style></head><body><div id="box"></div><div id="dot"></div></body></html>"""


FPS, DURATION_S = 10.0, 1.0  # 10 frames
TIMINGS: dict[str, float] = {}


def build_animation_task(root: Path, browser: Browser, run, task_id: str = "hostile-anim") -> "Task":
    """A small real animation task (1 s at 10 fps, 320x240), recorded with judge.record."""
    root.mkdir(parents=True, exist_ok=True)
    res = run(render_page(browser, REFERENCE, viewport=VIEWPORT, fps=FPS, n_frames=int(FPS * DURATION_S)))
    assert res.fatal is None and res.n_frames == int(FPS * DURATION_S)
    write_video(root / "video.mp4", res.frames, FPS)
    (root / "reference.html").write_text(REFERENCE)
    save_spec(TaskSpec(id=task_id, family="animation", viewport=VIEWPORT, fps=FPS, duration_s=DURATION_S,
                       video="video.mp4", reference_page="reference.html"), root)
    return load_task(root)


def score_config(cache_dir: Path) -> ScoreConfig:
    return ScoreConfig(embedder="classic", tracker="opencv", cache_dir=cache_dir)


SCORE_KEYS = ("exec", "appearance", "temporal", "static")


def scores(row: dict) -> dict:
    return {k: row.get(k) for k in SCORE_KEYS}


def record_timing(name: str, seconds: float) -> None:
    TIMINGS[name] = max(TIMINGS.get(name, 0.0), round(seconds, 2))
    out = os.environ.get("WEBJUDGE_HOSTILE_TIMINGS")
    if out:
        path = Path(out)
        old = json.loads(path.read_text()) if path.exists() else {}
        for k, v in TIMINGS.items():
            old[k] = max(old.get(k, 0.0), v)
        path.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")


def page_text(path: Path, canary: Canary) -> str:
    text = path.read_text(encoding="utf-8")
    text = text.replace("{{CANARY}}", canary.url).replace("{{CANARY_PORT}}", str(canary.port))

    def pad(m: re.Match) -> str:
        n = int(m.group(1))
        para = "<p>" + "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 16 + "</p>\n"
        return para * (n // len(para) + 1)

    return re.sub(r"<!--PAD (\d+)-->", pad, text)


