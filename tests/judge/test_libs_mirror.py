"""The offline library mirror without a browser: URL mapping, versions and modes, path
containment, the lock and cache (`judge libs verify` on a tampered copy), the score key,
the text block, and the a2c importer's report. Relies on the cache `make setup` fills
(`judge libs sync`)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from judge.browser import mirror as M
from judge.libs import page_block, scan_page, verify


@pytest.fixture(scope="module")
def synced():
    problems = verify()
    assert not problems, f"the library cache is not synced (run `make setup` or `judge libs sync`): {problems[:3]}"
    return M.default_mirror()


def served(url, mode="mirror"):
    res = M.resolve(url, mode)
    assert isinstance(res, M.Served), f"{url}: {res}"
    return res.package.key, res.path, res.match


def refused(url, mode="mirror"):
    res = M.resolve(url, mode)
    assert isinstance(res, M.Refused), f"{url}: {res}"
    return res.reason


def test_cdn_url_forms_map_to_locked_files():
    assert served("https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js") == ("gsap@3.12.5", "dist/gsap.min.js", "exact")
    assert served("https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/ScrollTrigger.min.js")[1] == "dist/ScrollTrigger.min.js"
    assert served("https://cdnjs.cloudflare.com/ajax/libs/three.js/r128/three.min.js") == ("three@0.128.0", "build/three.min.js", "exact")
    assert served("https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.5.1/css/all.min.css")[:2] == (
        "@fortawesome/fontawesome-free@6.5.1", "css/all.min.css")
    assert served("https://cdn.jsdelivr.net/npm/gsap@3.12.5/dist/gsap.min.js")[2] == "exact"
    assert served("https://cdn.jsdelivr.net/npm/gsap@3.12/dist/gsap.min.js") == ("gsap@3.12.5", "dist/gsap.min.js", "range")
    assert served("https://cdn.jsdelivr.net/npm/gsap")[:2] == ("gsap@3.12.5", "dist/gsap.min.js")
    assert served("https://unpkg.com/three@0.160.0/build/three.module.js")[0] == "three@0.160.0"
    assert served("https://unpkg.com/react@18/umd/react.production.min.js") == ("react@18.2.0", "umd/react.production.min.js", "range")
    assert served("https://cdn.jsdelivr.net/npm/alpinejs@3.x.x/dist/cdn.min.js")[2] == "range"
    assert served("https://esm.sh/three@0.160.0")[1] == "build/three.module.js"
    assert served("https://code.jquery.com/jquery-3.7.1.min.js") == ("jquery@3.7.1", "dist/jquery.min.js", "exact")
    assert served("https://d3js.org/d3.v7.min.js")[:2] == ("d3@7.8.5", "dist/d3.min.js")
    assert served("https://cdn.tailwindcss.com")[1] == "3.4.10/tailwindcss.js"
    assert served("https://cdn.tailwindcss.com/3.4.1")[1:] == ("3.4.1/tailwindcss.js", "exact")
    assert served("https://cdn.tailwindcss.com?plugins=forms,typography")[1] == "3.4.10/tailwindcss-with-all-plugins.js"
    assert served("https://cdn.jsdelivr.net/npm/@tailwindcss/browser@4")[0].startswith("@tailwindcss/browser@4.")
    assert served("https://kit.fontawesome.com/a076d05399.js")[1] == "js/all.min.js"


def test_versions_outside_the_mirror_are_blocked_unless_nearest():
    assert "gsap 3.12.4 not mirrored" in refused("https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.4/gsap.min.js")
    assert served("https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.4/gsap.min.js", "nearest") == (
        "gsap@3.12.5", "dist/gsap.min.js", "substituted")
    assert served("https://unpkg.com/gsap@3.11.0/dist/gsap.min.js", "nearest")[0] in ("gsap@3.12.2", "gsap@3.12.5")
    # never across a major version
    assert "not mirrored" in refused("https://cdnjs.cloudflare.com/ajax/libs/gsap/2.1.3/TweenMax.min.js", "nearest")
    assert "not mirrored" in refused("https://cdnjs.cloudflare.com/ajax/libs/pixi.js/7.0.0/pixi.min.js", "nearest")
    assert "libraries off" in refused("https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js", "off")
    assert M.resolve("https://evil.example/gsap.min.js", "mirror") is None   # not a library URL at all
    assert M.resolve("http://127.0.0.1:8000/x.js", "nearest") is None


@pytest.mark.parametrize("path", [
    "dist/../package.json", "dist/%2e%2e/package.json", "dist/%2E%2E%2Fpackage.json", "..%2f..%2f..%2fetc/passwd",
    "dist/%252e%252e/package.json", "dist/..%5c..%5cpackage.json", "dist//gsap.min.js", "dist/./gsap.min.js",
    "dist/gsap.min.js%00.css"])
def test_paths_that_could_leave_the_package_are_refused(path):
    for url in (f"https://cdn.jsdelivr.net/npm/gsap@3.12.5/{path}", f"https://unpkg.com/gsap@3.12.5/{path}",
                f"https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/{path}"):
        res = M.resolve(url, "nearest")
        assert isinstance(res, M.Refused), url


def test_only_locked_files_are_served():
    assert "has no file package.json" in refused("https://unpkg.com/gsap@3.12.5/package.json")
    assert "has no file" in refused("https://cdn.jsdelivr.net/npm/gsap@3.12.5/dist/gsap.min.js.map")


def test_google_fonts_css_is_generated_for_mirrored_families(synced):
    use = M.LibraryUse("mirror", synced)
    body, ctype = use.answer("https://fonts.googleapis.com/css2?family=Roboto:ital,wght@0,400;1,700&family=Lora&display=swap")
    css = body.decode()
    assert ctype.startswith("text/css")
    assert css.count("font-family: 'Roboto'") == 4 and css.count("font-family: 'Lora'") == 2   # latin + latin-ext each
    assert "font-style: italic;\n  font-weight: 700" in css and "roboto-latin-700-italic.woff2" in css
    assert "https://cdn.jsdelivr.net/npm/@fontsource/lora@" in css
    body, _ = use.answer("https://fonts.googleapis.com/css?family=Open+Sans:400,700i|Oswald")
    assert b"font-family: 'Open Sans'" in body and b"font-family: 'Oswald'" in body
    assert use.answer("https://fonts.googleapis.com/css2?family=Comic+Neue") is None
    assert "Comic Neue not mirrored" in use.refused["https://fonts.googleapis.com/css2?family=Comic+Neue"]
    # a variable weight range gets every mirrored static weight in it
    body, _ = use.answer("https://fonts.googleapis.com/css2?family=Inter:wght@300..500")
    assert {w for w in (300, 400, 500) if f"font-weight: {w}".encode() in body} == {300, 400, 500}
    assert b"font-weight: 700" not in body


def copy_package(mirror, key: str, root: Path) -> M.Package:
    pkg = next(p for p in mirror.lock.packages if p.key == key)
    shutil.copytree(mirror.root / pkg.dir, root / pkg.dir)
    return pkg


def test_tampered_cache_fails_verify_and_is_not_served(synced, tmp_path, capsys):
    from judge.cli import main

    pkg = copy_package(synced, "gsap@3.12.5", tmp_path)
    local = M.Mirror(tmp_path)
    assert local.verify(pkg) == []
    target = tmp_path / pkg.dir / "dist" / "gsap.min.js"
    data = target.read_bytes()
    use = M.LibraryUse("mirror", local)
    assert use.answer("https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js")[0] == data  # memoised as good
    target.write_bytes(data.replace(b"3.12.5", b"6.66.6", 1))
    problems = local.verify(pkg)
    assert problems == ["gsap@3.12.5/dist/gsap.min.js in the cache does not match the lock's sha256 "
                        "(tampered or corrupt; `judge libs verify`, `judge libs sync`)"]
    use = M.LibraryUse("mirror", local)
    assert use.answer("https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js") is None
    assert "does not match" in use.refused["https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js"]
    # the command: exit 1 and the file named (other packages are simply missing from this copy)
    assert main(["libs", "verify", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "gsap@3.12.5/dist/gsap.min.js in the cache does not match" in err
    # and the same file in the real cache is intact
    assert main(["libs", "verify"]) == 0


def test_symlinks_in_the_cache_are_not_followed(synced, tmp_path):
    pkg = copy_package(synced, "gsap@3.12.5", tmp_path)
    target = tmp_path / pkg.dir / "dist" / "gsap.min.js"
    real = synced.root / pkg.dir / "dist" / "gsap.min.js"          # the same bytes, outside this cache
    target.unlink()
    target.symlink_to(real)
    use = M.LibraryUse("mirror", M.Mirror(tmp_path))
    assert use.answer("https://unpkg.com/gsap@3.12.5/dist/gsap.min.js") is None
    assert "symlink" in use.refused["https://unpkg.com/gsap@3.12.5/dist/gsap.min.js"]
    # a symlinked package folder too
    shutil.rmtree(tmp_path / pkg.dir)
    (tmp_path / pkg.dir).symlink_to(synced.root / pkg.dir)
    use = M.LibraryUse("mirror", M.Mirror(tmp_path))
    assert use.answer("https://unpkg.com/gsap@3.12.5/dist/gsap.min.js") is None


def test_lock_pins_every_package_by_integrity_and_file_hashes():
    data = json.loads(M.LOCK_PATH.read_text())
    names = {p["name"] for p in data["packages"].values()}
    for required in ("gsap", "animejs", "three", "p5", "jquery", "lodash", "d3", "chart.js", "lottie-web", "animate.css",
                     "bootstrap", "@fortawesome/fontawesome-free", "alpinejs", "vue", "react", "react-dom",
                     "@tailwindcss/browser", "tailwindcss-cdn"):
        assert required in names, required
    assert sum(1 for n in names if n.startswith("@fontsource/")) >= 20
    for key, p in data["packages"].items():
        assert p["integrity"].startswith("sha512-"), key
        assert p["files"] and all(len(h) == 64 for h in p["files"].values()), key
        assert not any(f.endswith(".map") for f in p["files"]), key
    assert len(M.lock().sha256) == 16


def test_score_key_includes_the_library_mode_and_lock():
    import asyncio

    from judge.context import ScoringContext
    from judge.runs import digest
    from judge.score import ScoreConfig

    async def identity(mode):
        async with ScoringContext(ScoreConfig(embedder="classic", tracker="opencv", libraries=mode),
                                  families={"animation"}) as ctx:
            return ctx.identity

    ids = {mode: asyncio.run(identity(mode)) for mode in M.MODES}
    assert ids["mirror"]["libraries"] == "mirror" and ids["mirror"]["library_lock"] == M.lock().sha256
    assert ids["off"]["library_lock"] is None
    assert len({digest(i) for i in ids.values()}) == 3
    assert ScoreConfig(libraries="off").backend_key() != ScoreConfig(libraries="mirror").backend_key()


def test_page_block_says_what_was_blocked_served_and_failed():
    row = {"family": "animation", "library_mode": "mirror",
           "libraries": [{"url": "https://unpkg.com/gsap@3.12.5/dist/gsap.min.js", "package": "gsap@3.12.5",
                          "match": "exact", "requested": "3.12.5"},
                         {"url": "https://cdn.jsdelivr.net/npm/three@0.128.1/build/three.min.js",
                          "package": "three@0.128.0", "match": "substituted", "requested": "0.128.1"}],
           "blocked_requests": [{"request": "GET https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.4/gsap.min.js",
                                 "reason": "gsap 3.12.4 not mirrored (mirrored: 3.12.5, 3.12.2)"},
                                {"request": "GET https://evil.example/x", "reason": None}],
           "render": {"page_errors": ["ReferenceError: gsap is not defined\n    at x"]}}
    assert page_block(row) == [
        "  libraries served (mirror): gsap@3.12.5 exact, three@0.128.0 substituted for 0.128.1",
        "  2 requests blocked: cloudflare: gsap 3.12.4 not mirrored (mirrored: 3.12.5, 3.12.2); https://evil.example/x",
        "  page error: ReferenceError: gsap is not defined"]
    assert page_block({"family": "interactive", "libraries": [], "blocked_requests": [],
                       "page_errors": {"page_errors": []}}) == []


def test_summary_counts_tasks_with_blocked_requests():
    from judge.report import format_summary
    from judge.summaries import summarize

    rows = {"a": {"task_id": "a", "family": "animation", "exec": True, "appearance": 0.9, "temporal": 0.8,
                  "static": False, "blocked_requests": [{"request": "GET https://x.example/", "reason": None}]},
            "b": {"task_id": "b", "family": "animation", "exec": True, "appearance": 0.9, "temporal": 0.8,
                  "static": False, "blocked_requests": []}}
    s = summarize(rows)
    assert s["families"]["animation"]["blocked_request_tasks"] == 1 and s["blocked_request_tasks"] == ["a"]
    assert "tasks with blocked requests: 1 (a)" in format_summary(s)


def test_scan_page_finds_library_urls_in_source():
    html = """<script src="https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js"></script>
    <script src='//cdnjs.cloudflare.com/ajax/libs/pixi.js/7.2.4/pixi.min.js'></script>
    <link href="https://fonts.googleapis.com/css2?family=Poppins&display=swap" rel="stylesheet">
    <svg xmlns="http://www.w3.org/2000/svg"></svg>
    <script type=module>import * as THREE from "https://unpkg.com/three@0.149.0/build/three.module.js";</script>"""
    got = {e["url"]: e for e in scan_page(html)}
    assert got["https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js"]["status"] == "served"
    assert got["https://cdnjs.cloudflare.com/ajax/libs/pixi.js/7.2.4/pixi.min.js"]["status"] == "refused"
    assert got["https://fonts.googleapis.com/css2?family=Poppins&display=swap"]["status"] == "served"
    assert "three 0.149.0 not mirrored" in got["https://unpkg.com/three@0.149.0/build/three.module.js"]["reason"]
    assert not any("w3.org" in u for u in got)


def test_a2c_import_reports_reference_pages_needing_unmirrored_libraries(tmp_path, capsys):
    from judge.cli import main
    from tests.helpers.importers import sample

    root = tmp_path / "a2c"
    sample(root / "pen-gsap", html='<div class="box"></div><script src="https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js"></script>')
    sample(root / "pen-pixi", html='<canvas></canvas><script src="https://cdnjs.cloudflare.com/ajax/libs/pixi.js/7.2.4/pixi.min.js"></script>')
    assert main(["tasks", "import-a2c", str(root), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "1 reference page(s) need libraries outside the mirror" in out
    assert "pen-pixi: https://cdnjs.cloudflare.com/ajax/libs/pixi.js/7.2.4/pixi.min.js (cdnjs pixi.js 7.2.4 (not mirrored))" in out
    assert "pen-gsap" not in out.split("outside the mirror")[1]
