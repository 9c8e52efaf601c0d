"""Two captures of the same page are byte-identical, for every kind of animation the
virtual clock controls, and the animation really moves (so identity is not trivial)."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from judge.record import render_page
from judge.tasks import Viewport
from tests.helpers.paths import PAGES

KINDS = ["css_keyframes", "transition", "waapi", "canvas_raf", "set_interval", "smil"]
N_FRAMES = 60


def hashes(frames: np.ndarray) -> list[str]:
    return [hashlib.sha256(f.tobytes()).hexdigest() for f in frames]


@pytest.mark.parametrize("kind", KINDS)
def test_two_captures_are_byte_identical(browser, run, kind):
    html = (PAGES / f"{kind}.html").read_text()
    a = run(render_page(browser, html, viewport=Viewport(), fps=30, n_frames=N_FRAMES))
    b = run(render_page(browser, html, viewport=Viewport(), fps=30, n_frames=N_FRAMES))
    assert a.fatal is None and b.fatal is None
    assert a.frames.shape == (N_FRAMES, 768, 1024, 3)
    ha, hb = hashes(a.frames), hashes(b.frames)
    assert ha == hb, f"{kind}: frames differ at {[i for i, (x, y) in enumerate(zip(ha, hb)) if x != y][:10]}"
    # the page animates: many distinct frames, and the content really moves
    assert len(set(ha)) >= 20, f"{kind}: only {len(set(ha))} distinct frames"
    assert not a.log.page_errors and not a.log.console_errors


def test_virtual_time_is_frame_exact(browser, run):
    """performance.now, Date.now and rAF timestamps follow the virtual clock exactly."""
    html = """<script>window.seen=[];function f(t){seen.push([t, performance.now(), Date.now()]);requestAnimationFrame(f)}
    requestAnimationFrame(f); window.timer=[]; setTimeout(()=>timer.push(performance.now()), 250);
    let n=0; const iv=setInterval(()=>{ if(++n==3){ timer.push(performance.now()); clearInterval(iv);} }, 100);
    window.rnd=[Math.random(), Math.random()];</script>"""

    async def go():
        async with browser.session(html) as s:
            await s.load()
            for i in range(1, 11):
                await s.advance_to(i * 1000 / 30)
            return await s.evaluate("() => ({seen, timer, rnd})")

    out = run(go())
    ts = [x[0] for x in out["seen"]]
    assert ts == pytest.approx([i * 1000 / 30 for i in range(0, 11)])
    assert all(x[0] == x[1] for x in out["seen"])
    assert out["seen"][3][2] == 1704067200000 + int(3 * 1000 / 30)
    assert out["timer"] == [250, 300]  # the timeout fires at exactly 250 ms, the 3rd interval tick at 300 ms
    out2 = run(go())
    assert out2["rnd"] == out["rnd"]  # seeded Math.random


def test_waapi_page_control_is_respected(browser, run):
    """A page that pauses, seeks and resumes its own animation sees the positions it asked for."""
    html = """<div id=b style="width:10px;height:10px"></div><script>
    const a = document.getElementById('b').animate([{opacity:0},{opacity:1}], {duration:1000});
    setTimeout(()=>{ a.pause(); }, 200);
    setTimeout(()=>{ a.currentTime = 700; a.play(); }, 500);</script>"""

    async def go():
        async with browser.session(html) as s:
            await s.load()
            out = []
            for t in (100, 200, 400, 500, 600):
                await s.advance_to(t)
                out.append(await s.evaluate("() => document.getAnimations()[0].currentTime"))
            return out

    assert run(go()) == pytest.approx([100, 200, 200, 700, 800])


# Pages animating `scale`, rotation in 3D and a canvas: the ones whose edges depend on
# when the compositor re-rasterises. Their recorded reference videos were captured with
# separate seek / frame-wait / screenshot calls; the capture loop now seeks and waits in
# one call and decodes in a thread. The pixels must not have moved.
RERENDER = ["bounce-ease", "flip-3d", "oneshot-grow", "canvas-orbit"]


@pytest.fixture(scope="module", params=[False, True], ids=["unpaced", "paced"])
def paced_browser(request, loop):
    """Chromium with its frames paced at 60 Hz (as `judge evaluate --workers 2` and Ray
    actors sharing cores start it) or not (`--workers 1` on 2 cores)."""
    from judge.browser.runtime import Browser

    b = loop.run_until_complete(Browser(paced=request.param).start())
    yield b
    loop.run_until_complete(b.close())


@pytest.mark.parametrize("name", RERENDER)
def test_re_render_matches_the_recorded_reference_video_bit_for_bit(paced_browser, run, name):
    """Both ways Chromium may be started give the recorded video's pixels: whether frames
    are paced is a speed choice (judge.browser.limits.unpaced), never a scoring one."""
    from judge.record import page_folders
    from judge.tasks import load_task
    from judge.video import read_frames
    from tests.helpers.paths import ROOT

    browser = paced_browser
    task = load_task(ROOT / "tasks" / "animation" / name)
    n = 45
    ref = read_frames(task.video_path, max_frames=n)
    r = run(render_page(browser, task.reference_page_path.read_bytes(), viewport=task.spec.viewport,
                        fps=task.spec.fps, n_frames=n, folders=page_folders(None, task.assets_path)))
    assert r.fatal is None and r.frames.shape == ref.shape
    differ = [i for i in range(n) if not np.array_equal(ref[i], r.frames[i])]
    assert not differ, f"{name}: frames {differ[:10]} differ from the recorded video"
    assert len(set(hashes(r.frames))) >= 10


def test_frames_are_unpaced_only_when_each_page_has_a_spare_core(paced_browser):
    """`--workers 1` on 2 cores: unpaced (a capture need not wait for a display tick);
    `--workers 2` on 2 cores, or Ray actors filling a cluster's CPUs: paced (unpaced
    Chromium spins while pages animate, taking the cores the other pages need)."""
    from judge.browser.limits import UNPACED_ARG, unpaced
    from judge.browser.sandbox import proc_cmdline
    from judge.context import ScoringContext

    assert unpaced(1, cpus=2) and not unpaced(2, cpus=2) and unpaced(2, cpus=4) and not unpaced(1, cpus=1)
    assert (UNPACED_ARG in proc_cmdline(paced_browser.pid)) is (not paced_browser.paced)
    assert ScoringContext(workers=1).paced is (not unpaced(1))
    assert ScoringContext(workers=2).paced is (not unpaced(2))
    assert ScoringContext(workers=1, paced=True).paced is True
