"""Pages that use CDN libraries, in real Chromium (the session `browser`), scored and
rendered with the offline mirror: the same page with the library from cdnjs, jsDelivr or
unpkg scores as with it inlined; a Tailwind Play CDN page renders like its compiled-CSS
twin; a Google Fonts page renders in the named font; what the mirror does not serve is
blocked and listed, a tampered or escaping file is never served."""
from __future__ import annotations

import base64
import shutil
from pathlib import Path

import numpy as np
import pytest

from judge.browser import mirror as M
from judge.libs import page_block, verify
from judge.record import render_page
from judge.score import ScoreConfig, score_page
from judge.tasks import TaskSpec, Viewport, load_task, save_spec

PAGES = Path(__file__).resolve().parents[1] / "pages" / "libs"
VP = Viewport(width=320, height=240)
GSAP = "https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js"


@pytest.fixture(scope="module")
def mirror():
    problems = verify()
    assert not problems, f"the library cache is not synced (run `make setup` or `judge libs sync`): {problems[:3]}"
    return M.default_mirror()


def gsap_page(script_tag: str) -> str:
    # a box sliding right and turning, then a second one fading in: GSAP's timeline drives it (rAF under the clock)
    return f"""<!doctype html><html><head><style>body{{margin:0;background:#fff}}
.b{{position:absolute;top:60px;left:20px;width:60px;height:60px;background:#1e6ee8}}
#c{{top:150px;background:#e8491e;opacity:0}}</style>{script_tag}</head>
<body><div class="b" id="a"></div><div class="b" id="c"></div>
<script>gsap.timeline().to("#a", {{x: 200, rotation: 90, duration: 0.8, ease: "power1.inOut"}})
  .to("#c", {{opacity: 1, x: 120, duration: 0.6}}, 0.3);</script></body></html>"""


@pytest.fixture(scope="module")
def gsap_task(mirror, browser, loop, tmp_path_factory):
    """An animation task recorded from the page with GSAP inlined (1.2 s at 10 fps, 320x240)."""
    root = tmp_path_factory.mktemp("gsap-task")
    src = (mirror.root / "gsap@3.12.5" / "dist" / "gsap.min.js").read_text()
    inlined = gsap_page(f"<script>{src}</script>")
    spec = TaskSpec(id="gsap-slide", family="animation", viewport=VP, fps=10, duration_s=1.2, video="video.mp4",
                    reference_page="reference.html")
    res = loop.run_until_complete(render_page(browser, inlined, viewport=VP, fps=10, n_frames=spec.n_frames,
                                              video_path=root / "video.mp4", keep_frames=False))
    assert res.fatal is None and not res.log.page_errors and not res.log.blocked
    (root / "reference.html").write_text(inlined)
    save_spec(spec, root)
    return load_task(root), inlined


def score(run, browser, task, html, tmp_path, mode="mirror"):
    config = ScoreConfig(embedder="classic", tracker="opencv", libraries=mode, cache_dir=tmp_path / "features")
    return run(score_page(task, html, browser=browser, config=config))


def test_gsap_from_cdnjs_jsdelivr_unpkg_scores_as_inlined(run, browser, gsap_task, tmp_path):
    task, inlined = gsap_task
    ref = score(run, browser, task, inlined, tmp_path)
    assert ref["exec"] and not ref["static"] and ref["temporal"] > 0.5 and ref["libraries"] == []
    for url in (GSAP, "https://cdn.jsdelivr.net/npm/gsap@3.12.5/dist/gsap.min.js",
                "https://unpkg.com/gsap@3.12.5/dist/gsap.min.js"):
        row = score(run, browser, task, gsap_page(f'<script src="{url}"></script>'), tmp_path)
        assert row["exec"] and not row["static"], (url, row["render"])
        assert abs(row["appearance"] - ref["appearance"]) <= 0.01, url
        assert abs(row["temporal"] - ref["temporal"]) <= 0.01, url
        assert row["libraries"] == [{"url": url, "package": "gsap@3.12.5", "match": "exact", "requested": "3.12.5",
                                     "file": "dist/gsap.min.js"}]
        assert row["blocked_requests"] == [] and row["library_mode"] == "mirror"
        assert row["library_lock"] == M.lock().sha256


def test_unmirrored_version_is_blocked_listed_and_served_only_when_nearest(run, browser, gsap_task, tmp_path):
    task, _ = gsap_task
    url = "https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.4/gsap.min.js"
    page = gsap_page(f'<script src="{url}"></script><script src="https://evil.example/track.js"></script>')
    row = score(run, browser, task, page, tmp_path)
    assert row["static"] and row["temporal"] == 0 and row["libraries"] == []
    assert row["blocked_requests"][0] == {
        "request": f"GET {url}",
        "reason": "gsap 3.12.4 not mirrored (mirrored: 3.12.5, 3.12.2; --libraries nearest would serve 3.12.5)"}
    assert row["blocked_requests"][1] == {"request": "GET https://evil.example/track.js", "reason": None}
    block = "\n".join(page_block(row))
    assert "2 requests blocked: cloudflare: gsap 3.12.4 not mirrored" in block and "gsap is not defined" in block
    near = score(run, browser, task, page, tmp_path, mode="nearest")
    assert near["libraries"][0]["match"] == "substituted" and near["libraries"][0]["package"] == "gsap@3.12.5"
    assert not near["static"] and near["temporal"] > 0.5
    assert [b["request"] for b in near["blocked_requests"]] == ["GET https://evil.example/track.js"]
    off = score(run, browser, task, gsap_page(f'<script src="{GSAP}"></script>'), tmp_path, mode="off")
    assert off["static"] and off["blocked_requests"][0]["reason"] == "libraries off (--libraries off)"


TAILWIND_BODY = (PAGES / "tailwind_body.html").read_text()


async def _shot(browser, html, libraries="mirror", js=None):
    with M.library_scope(libraries) as use:
        async with browser.session(html, (VP.width, VP.height)) as s:
            await s.load()
            value = await s.run_js(js) if js else None
            png = await s.screenshot()
    return png, value, use


def test_tailwind_play_cdn_renders_like_its_compiled_css_twin(run, browser, mirror):
    css = (PAGES / "tailwind-3.4.10.css").read_text()
    cdn = f'<!doctype html><html><head><script src="https://cdn.tailwindcss.com/3.4.10"></script></head>{TAILWIND_BODY}</html>'
    twin = f"<!doctype html><html><head><style>{css}</style></head>{TAILWIND_BODY}</html>"
    a, _, use = run(_shot(browser, cdn))
    b, _, _ = run(_shot(browser, twin))
    off, _, _ = run(_shot(browser, cdn, "off"))
    assert use.served[0]["package"] == "tailwindcss-cdn@3.4.10" and use.served[0]["match"] == "exact"
    diff = np.abs(a.astype(int) - b.astype(int)).max(axis=2)
    assert (diff > 8).mean() < 0.002, f"{(diff > 8).mean():.4f} of pixels differ"
    assert (np.abs(off.astype(int) - b.astype(int)).max(axis=2) > 8).mean() > 0.05   # unstyled: clearly different


FONT_JS = "[document.getElementById('s').getBoundingClientRect().width, document.getElementById('f').getBoundingClientRect().width]"


def font_page(head: str) -> str:
    return (f"<!doctype html><html><head>{head}</head><body>"
            "<span id=s style=\"font: 40px 'Playfair Display', monospace\">Hamburgefonstiv 0123</span><br>"
            "<span id=f style=\"font: 40px monospace\">Hamburgefonstiv 0123</span></body></html>")


def test_google_fonts_page_renders_in_the_named_font(run, browser, mirror):
    link = '<link href="https://fonts.googleapis.com/css2?family=Playfair+Display:wght@400;700&display=swap" rel="stylesheet">'
    _, (named, fallback), use = run(_shot(browser, font_page(link), js=FONT_JS))
    pkg = next(p for p in mirror.lock.packages if p.font == "Playfair Display")
    woff2 = (mirror.root / pkg.dir / "files" / "playfair-display-latin-400-normal.woff2").read_bytes()
    face = ("<style>@font-face{font-family:'Playfair Display';font-weight:400;src:url(data:font/woff2;base64,"
            f"{base64.b64encode(woff2).decode()}) format('woff2')}}</style>")
    _, (inlined, _), _ = run(_shot(browser, font_page(face), js=FONT_JS))
    _, (off, _), _ = run(_shot(browser, font_page(link), "off", js=FONT_JS))
    assert abs(named - fallback) > 20, (named, fallback)        # not the monospace fallback
    assert abs(named - inlined) < 0.5, (named, inlined)        # the same glyph widths as the font itself
    assert abs(off - fallback) < 0.5                           # blocked: the fallback
    assert [s["package"] for s in use.served] == [pkg.key, pkg.key]   # the CSS, then the latin woff2 it names


def test_tampered_and_escaping_files_are_not_served_in_the_page(run, browser, mirror, tmp_path):
    pkg = next(p for p in mirror.lock.packages if p.key == "gsap@3.12.5")
    shutil.copytree(mirror.root / pkg.dir, tmp_path / pkg.dir)
    target = tmp_path / pkg.dir / "dist" / "gsap.min.js"
    target.write_bytes(target.read_bytes() + b"\nwindow.pwned=1;")
    probe = ("Promise.all(['https://cdn.jsdelivr.net/npm/gsap@3.12.5/..%2f..%2fjquery@3.7.1/dist/jquery.min.js',"
             "'https://unpkg.com/gsap@3.12.5/dist/%252e%252e/package.json',"
             "'https://cdn.jsdelivr.net/npm/gsap@3.12.5/dist/CustomEase.min.js']"
             ".map(u => fetch(u).then(r => r.status, e => 'blocked')))")
    page = f'<script src="{GSAP}"></script><script>window.r = [typeof gsap, typeof pwned]</script>'
    with M.library_scope("mirror", M.Mirror(tmp_path)) as use:
        async def go():
            async with browser.session(page, (VP.width, VP.height)) as s:
                await s.load()
                return await s.run_js("window.r"), await s.run_js(probe, await_promise=True)
        (kinds, statuses) = run(go())
    assert kinds == ["undefined", "undefined"]
    assert statuses == ["blocked", "blocked", 200]
    row = use.row_fields()
    reasons = {b["request"].split(" ", 1)[1]: b["reason"] for b in row["blocked_requests"]}
    assert "does not match the lock's sha256" in reasons[GSAP]
    assert any("escapes the package" in (r or "") or "has no file" in (r or "") for u, r in reasons.items() if "%25" in u or "%2f" in u.lower())
    assert [s["file"] for s in row["libraries"]] == ["dist/CustomEase.min.js"]


def test_evaluate_records_the_mode_and_counts_tasks_with_blocked_requests(run, browser, gsap_task, tmp_path, capsys):
    import argparse

    from agents.cache import ResponseCache
    from judge.pipeline import EvalOptions, evaluate
    from judge.report import add_parser, load_run
    from judge.runs import RunDir, read_results

    task, _ = gsap_task
    pages = tmp_path / "pages"
    (pages / task.id).mkdir(parents=True)
    (pages / task.id / "index.html").write_text(gsap_page(
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.4/gsap.min.js"></script>'))
    opts = EvalOptions(model=f"replay:{pages}", command=["test"],
                       score=ScoreConfig(embedder="classic", tracker="opencv", cache_dir=tmp_path / "features"))
    run_dir = tmp_path / "run"
    run(evaluate([task], RunDir(run_dir), opts, browser=browser, progress=None, cache=ResponseCache(tmp_path / "llm")))
    meta = load_run(run_dir)
    assert meta["meta"]["scoring"]["libraries"] == "mirror"
    assert meta["meta"]["scoring"]["library_lock"] == M.lock().sha256
    rows, _ = read_results(run_dir / "results.jsonl")
    assert rows[-1]["blocked_requests"][0]["request"].endswith("/gsap/3.12.4/gsap.min.js")
    assert meta["summary"]["blocked_request_tasks"] == [task.id]
    assert meta["summary"]["families"]["animation"]["blocked_request_tasks"] == 1
    p = argparse.ArgumentParser()
    add_parser(p.add_subparsers())
    args = p.parse_args(["report", str(run_dir), "--no-html"])
    capsys.readouterr()
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert f"run / {task.id}:\n  1 request blocked: cloudflare: gsap 3.12.4 not mirrored" in out
    assert "page error: gsap is not defined" in out
