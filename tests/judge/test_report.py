"""`judge report`: leaderboard, Markdown, and the HTML report checked in Chromium from a
file:// URL (tables, filmstrips, step screenshots and plots render; nothing is fetched)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from judge.report import (
    add_parser,
    format_table,
    leaderboard,
    load_run,
    markdown_table,
    png_size,
    write_html,
)
from judge.runs import RunDir

W, H = 320, 240


def _png(path: Path, h: int, w: int, colour) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((h, w, 3), 255, np.uint8)
    cv2.rectangle(img, (w // 4, h // 4), (w // 2, h // 2), colour, -1)
    cv2.imwrite(str(path), img)


def _anim(task, **kw):
    return {"task_id": task, "family": "animation", "model": "m", "page_sha256": "ab" * 32, "scorer_version": "1",
            "exec": True, "appearance": 0.8, "temporal": 0.7, "static": False, "error": None, "judge_error": None,
            "backends": {"embedder": "classic-v1", "tracker": "opencv-lk-v1"}, "render": {"frames": 30}, **kw}


def make_run(root: Path, model: str = "m", scale: float = 1.0) -> Path:
    """A run directory as `judge evaluate` leaves it: two animation tasks (one failed
    generation), one interactive task with the judge's step artifacts, one judge error."""
    run = RunDir(root)
    run.write_meta({"name": root.name, "model": model, "judge_model": None, "tasks": ["a1", "a2", "i1", "j1"],
                    "backends": {"embedder": "classic-v1"}, "versions": {"python": "3"}, "created": "now"})
    strip_w, strip_h = 8 * 48, 36
    _png(run.artifacts_dir("a1") / "filmstrip.png", 2 * strip_h, strip_w, (0, 0, 200))     # reference + candidate
    _png(run.artifacts_dir("a2") / "filmstrip.png", strip_h, strip_w, (0, 150, 0))         # reference only
    run.save_page("a1", "<p>a1</p>")
    art = run.artifacts_dir("i1")
    for k in range(2):
        for side in ("before", "after"):
            _png(art / "steps" / f"step_{k:02d}_{side}.png", H, W, (200, 40 * k, 0))
    _png(art / "initial.png", H, W, (90, 90, 90))
    (art / "trace.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    steps = [{"index": 0, "type": "click", "description": "Click 'Add'", "rung": "role", "passed": True,
              "verdict_source": "rules", "verdict_reason": "text appeared", "before": "steps/step_00_before.png",
              "after": "steps/step_00_after.png"},
             {"index": 1, "type": "type", "description": "Type <b>Ada</b>", "rung": "visual", "passed": False,
              "verdict_source": "rules", "verdict_reason": "no change", "before": "steps/step_01_before.png",
              "after": "steps/step_01_after.png"}]
    (art / "steps.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steps))
    for row in [
        _anim("a1", appearance=0.9 * scale, temporal=0.8 * scale),
        _anim("a2", exec=False, appearance=0.0, temporal=0.0, static=True, error="no pre-generated page",
              error_kind="generation", page_sha256=None, render={"frames": 0, "fatal": "no code"}),
        {"task_id": "i1", "family": "interactive", "model": model, "ifs": 0.5, "ifs_steps": 0.5, "vfs": 0.6 * scale,
         "final": 0.53 * scale, "exec": True, "steps": steps, "error": None, "judge_error": None},
        _anim("j1", judge_error="old failure"),
        _anim("j1", exec=None, appearance=None, temporal=None, static=None, judge_error="chromium died"),
    ]:
        run.append(row)
    return root


def test_png_size(tmp_path):
    _png(tmp_path / "x.png", 30, 70, (0, 0, 0))
    assert png_size(tmp_path / "x.png") == (70, 30)
    (tmp_path / "y.png").write_bytes(b"not a png")
    assert png_size(tmp_path / "y.png") is None and png_size(tmp_path / "missing.png") is None


def test_leaderboard_orders_runs_by_score(tmp_path):
    runs = [load_run(make_run(tmp_path / name, name, s)) for name, s in (("mid", 0.8), ("best", 1.0), ("low", 0.3))]
    header, rows = leaderboard(runs)
    assert [r[1] for r in rows] == ["best", "mid", "low"] and [r[0] for r in rows] == ["1", "2", "3"]
    col = {h: i for i, h in enumerate(header)}
    assert rows[0][col["judge err"]] == "1" and rows[0][col["gen. fail"]] == "1" and rows[0][col["scored"]] == "3"
    assert rows[0][col["Exec %"]] == "66.7" and "Final" in col and "IFS" in col
    text = format_table(header, rows)
    assert text.splitlines()[0].startswith("#") and len(text.splitlines()) == 5
    md = markdown_table(header, rows).splitlines()
    assert md[0].startswith("| # | run | model |") and md[1].startswith("|---|---|---|---:") and len(md) == 5


def test_report_cli_writes_html_and_markdown(tmp_path, capsys):
    make_run(tmp_path / "r1")
    parser = argparse.ArgumentParser(prog="judge")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["report", str(tmp_path / "r1"), "--markdown", str(tmp_path / "lb.md")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'r1' / 'report.html'}" in out and (tmp_path / "lb.md").read_text().count("\n") == 3
    from judge.errors import UsageError

    with pytest.raises(UsageError, match="not a run directory"):
        args = parser.parse_args(["report", str(tmp_path / "nothing")])
        args.func(args)


async def _render(path: Path) -> dict:
    from playwright.async_api import async_playwright

    from judge.browser.runtime import LAUNCH_ARGS, chromium_path

    requests = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            await page.goto(path.as_uri(), wait_until="load")
            info = await page.evaluate("""() => {
                const imgs = [...document.images];
                const q = (s) => document.querySelectorAll(s).length;
                const clips = [...document.querySelectorAll('.strip .clip')].map(c => {
                    const r = c.getBoundingClientRect(); return [r.width, r.height]; });
                return {
                    sections: [...document.querySelectorAll('section.task')].map(s => s.dataset.task),
                    summaryRows: [...document.querySelectorAll('table.summary tbody tr')].map(
                        tr => tr.cells[0].textContent),
                    images: imgs.map(i => [i.alt, i.complete && i.naturalWidth > 0, i.getBoundingClientRect().width]),
                    filmstrips: q('img[alt$="filmstrip"]'), stepImages: q('table.steps img'),
                    stepRows: [...document.querySelectorAll('table.steps tbody tr')].map(
                        tr => [...tr.cells].slice(0, 4).map(c => c.textContent)),
                    plots: q('figure.plot svg rect'), figures: q('figure.plot'), clips,
                    trace: document.querySelector('a[href$="trace.zip"]')?.getAttribute('href'),
                    judgeErr: document.querySelector('section.judge-error')?.dataset.task,
                    failed: document.querySelector('section.failed')?.dataset.task,
                    text: document.body.innerText,
                };
            }""")
        finally:
            await browser.close()
    info["requests"] = requests
    return info


@pytest.mark.parametrize("inline", [False, True], ids=["relative", "inline"])
def test_html_report_renders_offline_in_chromium(tmp_path, run, inline):
    root = make_run(tmp_path / "run")
    path = write_html(load_run(root), inline=inline)
    assert path == root / "report.html"
    info = run(_render(path))
    assert all(u.startswith(("file://", "data:")) for u in info["requests"]), info["requests"]
    assert info["sections"] == ["a1", "a2", "i1", "j1"]
    assert info["summaryRows"] == ["animation", "interactive", "all"]
    assert info["images"] and all(ok and width > 0 for _, ok, width in info["images"]), info["images"]
    assert info["filmstrips"] == 3  # a1: reference + candidate, a2 (failed generation): reference only
    ref_clip, cand_clip = info["clips"][0], info["clips"][1]
    # one row of the strip is shown (the clip's 1 px border on each side included)
    assert cand_clip[1] == pytest.approx((cand_clip[0] - 2) * 36 / 384 + 2, abs=1)
    assert ref_clip[1] == pytest.approx(cand_clip[1], abs=1)
    assert info["stepImages"] == 5  # initial state + before/after of 2 steps
    assert info["stepRows"][1] == ["0", "Click 'Add'", "pass", "role"]
    assert info["stepRows"][2] == ["1", "Type <b>Ada</b>", "fail", "visual"]  # escaped, not markup
    assert info["figures"] >= 4 and info["plots"] >= 40
    assert info["trace"] == "artifacts/i1/trace.zip" and (root / info["trace"]).is_file()
    assert info["judgeErr"] == "j1" and info["failed"] == "a2"
    assert "chromium died" in info["text"] and "no pre-generated page" in info["text"]
    srcs = [a for a, *_ in info["images"]]
    assert len(srcs) == 8
    html = path.read_text()
    if inline:
        assert html.count('src="data:image/png;base64,') == 8 and 'src="artifacts/' not in html
    else:
        assert 'src="artifacts/a1/filmstrip.png"' in html and 'src="artifacts/i1/steps/step_01_after.png"' in html
