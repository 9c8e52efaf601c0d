"""A small animation suite recorded in the test (320x240, 1-2 s): the pages and `make_suite`."""
from __future__ import annotations

from pathlib import Path

from judge.tasks import TaskSpec, Viewport, save_spec

SIZE = Viewport(width=320, height=240)


PAGES = {
    "slide": """<!doctype html><style>body{margin:0;background:#fff}
      .b{position:absolute;left:20px;top:80px;width:60px;height:60px;background:#d33;border-radius:8px;
      animation:mv 1s ease-in-out infinite alternate}
      @keyframes mv{to{transform:translateX(200px) rotate(180deg)}}</style><div class=b></div>""",
    "orbit": """<!doctype html><body style="margin:0;background:#f4f4f8"><canvas id=c width=320 height=240></canvas>
      <script>const x=document.getElementById('c').getContext('2d');
      function f(t){x.fillStyle='#f4f4f8';x.fillRect(0,0,320,240);const a=t/1000*2*Math.PI;
      x.fillStyle='#2a5';x.beginPath();x.arc(160+80*Math.cos(a),120+60*Math.sin(a),22,0,7);x.fill();
      x.fillStyle='#225';x.fillRect(150,110,20,20);requestAnimationFrame(f)}requestAnimationFrame(f)</script>""",
    "bars": """<!doctype html><style>body{margin:0;background:#fff;font-family:DejaVu Sans}
      .r{position:absolute;bottom:30px;width:50px;background:#36c;animation:g .9s ease-out both}
      @keyframes g{from{height:0;background:#9cf}to{height:150px;background:#137}}</style>
      <div class=r style="left:40px"></div><div class=r style="left:130px;animation-delay:.2s"></div>
      <div class=r style="left:220px;animation-delay:.4s"></div>""",
}


async def _record(browser, root: Path, task_id: str, html: str, duration: float = 1.0) -> None:
    from judge.record import render_page

    folder = root / task_id
    folder.mkdir(parents=True)
    (folder / "reference.html").write_text(html)
    res = await render_page(browser, html, viewport=SIZE, fps=30, n_frames=int(30 * duration),
                            video_path=folder / "video.mp4", keep_frames=False)
    assert res.fatal is None
    save_spec(TaskSpec(id=task_id, family="animation", viewport=SIZE, fps=30, duration_s=duration,
                       video="video.mp4", reference_page="reference.html"), folder)


def make_suite(browser, run, root: Path, pages: dict[str, str] = PAGES) -> Path:
    """Record one animation task per page under `root`; returns `root`."""
    for task_id, html in pages.items():
        run(_record(browser, root, task_id, html))
    return root


