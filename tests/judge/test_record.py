"""`judge render` and `judge tasks record`, end to end through the CLI and real Chromium."""
from __future__ import annotations

import json

import numpy as np
import pytest

from judge.cli import main
from judge.tasks import load_task
from judge.validate import validate_task_dir
from judge.video import VideoError, probe, read_frames
from tests.helpers.paths import PAGES

COUNTER = """<!doctype html><html><body style="font-family:DejaVu Sans;margin:40px">
<h1>Counter</h1><p id=v>Count: 0</p>
<button id=inc onclick="document.getElementById('v').textContent='Count: '+(++n)">Add one</button>
<input id=name aria-label="Your name" oninput="document.getElementById('hello').textContent='Hello '+this.value">
<p id=hello></p>
<div style="height:1500px"></div><button id=far onclick="this.textContent='Clicked far'">Far button</button>
<script>let n=0</script></body></html>"""

ACTIONS = [
    {"type": "click", "description": "Click 'Add one'", "target": {"role": "button", "name": "Add one", "selector": "#inc"},
     "assertion": "The page shows \"Count: 1\"", "visual_check": True},
    {"type": "type", "description": "Type Ada into the name field", "text": "Ada",
     "target": {"role": "textbox", "name": "Your name", "selector": "#name"}, "assertion": "\"Hello Ada\" appears"},
    {"type": "scroll", "description": "Scroll down", "direction": "down", "amount": 1200},
    {"type": "click", "description": "Click the far button", "target": {"role": "button", "name": "Far button"}},
]


def test_render_writes_a_lossless_video(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["render", str(PAGES / "waapi.html"), "--out", str(out), "--duration", "1", "--fps", "30",
                 "--size", "640x480"]) == 0
    info = probe(out / "video.mp4")
    assert (info.width, info.height, info.n_frames) == (640, 480, 30)
    report = json.loads((out / "render.json").read_text())
    assert report["frames"] == 30 and report["fatal"] is None and report["page_errors"] == []
    assert "30 frames" in capsys.readouterr().out


def test_render_reports_page_errors(tmp_path, capsys):
    page = tmp_path / "bad.html"
    page.write_text("<script>setTimeout(()=>{throw new Error('kaboom')}, 50); fetch('https://example.com/x')</script><p>x</p>")
    assert main(["render", str(page), "--out", str(tmp_path / "o"), "--duration", "0.2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any("kaboom" in e for e in report["page_errors"])
    assert any("example.com" in b for b in report["blocked_requests"])


def test_record_animation_task_is_bit_exact_with_render(tmp_path, browser, run):
    from judge.record import render_page
    from judge.tasks import Viewport

    out = tmp_path / "anim"
    assert main(["tasks", "record", "--family", "animation", "--page", str(PAGES / "css_keyframes.html"),
                 "--out", str(out), "--duration", "1", "--size", "800x600"]) == 0
    task = load_task(out)
    assert task.spec.viewport.width == 800 and task.spec.n_frames == 30 and task.reference_page_path.exists()
    assert [p for p in validate_task_dir(out) if p.severity == "error"] == []
    video = read_frames(out / "video.mp4")
    again = run(render_page(browser, (PAGES / "css_keyframes.html").read_text(), viewport=Viewport(width=800, height=600),
                            fps=30, n_frames=30))
    assert np.array_equal(video, again.frames)  # lossless video == a fresh deterministic render


def test_record_interactive_task(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(COUNTER)
    actions = tmp_path / "actions.json"
    actions.write_text(json.dumps(ACTIONS))
    out = tmp_path / "task"
    assert main(["tasks", "record", "--family", "interactive", "--page", str(page), "--actions", str(actions),
                 "--out", str(out), "--size", "800x600"]) == 0
    task = load_task(out)
    assert [p for p in validate_task_dir(out) if p.severity == "error"] == []
    acts = task.spec.actions
    assert [a.checkpoint for a in acts] == [f"checkpoints/step_{k}.png" for k in range(4)]
    ts = [a.timestamp_s for a in acts]
    assert ts == sorted(ts) and ts[0] > 0
    assert acts[0].target.bbox is not None and acts[2].target.bbox is None
    info = probe(task.video_path)
    assert (info.width, info.height) == (800, 600) and abs(info.duration_s - task.spec.duration_s) < 0.1
    # checkpoints show each action's effect
    from PIL import Image

    shots = [np.asarray(Image.open(task.checkpoint_path(k)).convert("RGB")) for k in range(4)]
    assert all(s.shape == (600, 800, 3) for s in shots)
    assert not np.array_equal(shots[0], shots[1]) and not np.array_equal(shots[1], shots[2])
    # the pointer is drawn in the video (as a screen recording shows it), not in checkpoints
    frame = read_frames(task.video_path, fps=30)[int(acts[0].timestamp_s * 30) + 1]
    x, y, w, h = acts[0].target.bbox
    cx, cy = int(x + w / 2), int(y + h / 2)
    patch = frame[cy:cy + 12, cx:cx + 5]
    assert (patch.sum(-1) < 60).any(), "no dark pointer pixels at the click point"


def test_record_refuses_an_action_whose_hints_match_nothing(tmp_path, capsys):
    page = tmp_path / "page.html"
    page.write_text(COUNTER)
    actions = tmp_path / "actions.json"
    actions.write_text(json.dumps([{"type": "click", "description": "Click Save", "target": {"selector": "#save"}}]))
    assert main(["tasks", "record", "--family", "interactive", "--page", str(page), "--actions", str(actions),
                 "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert "action 0" in err and "Click Save" in err


def test_record_rejects_bad_actions_file_naming_the_field(tmp_path, capsys):
    page = tmp_path / "page.html"
    page.write_text(COUNTER)
    actions = tmp_path / "actions.json"
    actions.write_text(json.dumps([{"type": "swipe", "description": "Swipe left"}]))
    assert main(["tasks", "record", "--family", "interactive", "--page", str(page), "--actions", str(actions),
                 "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert str(actions) in err and "[0].type" in err


@pytest.mark.parametrize("content", [b"", b"not a video at all", None])
def test_corrupt_videos_raise_clear_errors(tmp_path, content):
    path = tmp_path / "v.mp4"
    if content is None:  # a real video cut in half
        from judge.video import write_video

        write_video(path, np.random.default_rng(0).integers(0, 255, (20, 64, 64, 3), dtype=np.uint8), 30)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(VideoError, match=str(path)):
        read_frames(path)


def test_record_refuses_a_task_whose_reference_page_fails_its_own_assertions(tmp_path, capsys):
    """The oracle check: an interactive task is only written when its reference page
    scores IFS 1.0 under the offline judge."""
    page = tmp_path / "page.html"
    page.write_text(COUNTER)
    actions = tmp_path / "actions.json"
    wrong = dict(ACTIONS[0], assertion='The page shows "Count: 5"')  # the page shows Count: 1
    actions.write_text(json.dumps([wrong]))
    out = tmp_path / "t"
    assert main(["tasks", "record", "--family", "interactive", "--page", str(page), "--actions", str(actions),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ifs=0.000" in err and "Count: 5" in err
    assert not (out / "task.json").exists() and (out / "task.json.rejected").exists()
