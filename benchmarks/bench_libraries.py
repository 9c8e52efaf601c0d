"""Render time of library-using pages with the offline mirror vs. their inlined twins.

For each page (GSAP from cdnjs, three.js r128 from cdnjs, a Tailwind Play CDN page, a Google
Fonts page), in one process and one Chromium: render N frames at 30 fps, 1024x768, under
the virtual clock (`judge.record.render_page`, what scoring does), once with the library
URL served by the mirror and once with the same library inlined in the page (fonts as a
data: URL). Runs alternate (mirror, inlined, mirror, ...) `--repeats` times; prints the
median seconds of each and their ratio (mirror / inlined; the issue's target is <= 1.1).
The mirror acts only while the page loads, so the load alone (a fresh context, `load()`,
one screenshot) is also timed, `--repeats` x 3 times each, alternating.

    .venv/bin/python benchmarks/bench_libraries.py [--frames 60] [--repeats 5]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from judge.browser import mirror as M  # noqa: E402
from judge.browser.runtime import Browser  # noqa: E402
from judge.record import render_page  # noqa: E402
from judge.tasks import Viewport  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def pages(mirror: M.Mirror) -> list[tuple[str, str, str]]:
    def src(key, rel):
        return (mirror.root / key / rel).read_text()

    gsap_body = ("<style>.b{position:absolute;top:200px;left:50px;width:120px;height:120px;background:#1e6ee8}</style>"
                 "<div class=b id=a></div><script>gsap.to('#a',{x:700,rotation:360,duration:2,repeat:-1,yoyo:true})</script>")
    three_body = ("<body><script>const r=new THREE.WebGLRenderer({antialias:false});r.setSize(1024,768);document.body.appendChild(r.domElement);"
                  "const s=new THREE.Scene(),c=new THREE.PerspectiveCamera(60,4/3,.1,100);c.position.z=4;"
                  "const m=new THREE.Mesh(new THREE.BoxGeometry(1.5,1.5,1.5),new THREE.MeshNormalMaterial());s.add(m);"
                  "(function f(t){m.rotation.x=t/700;m.rotation.y=t/500;r.render(s,c);requestAnimationFrame(f)})(0)</script>")
    tw_body = (ROOT / "tests" / "pages" / "libs" / "tailwind_body.html").read_text()
    font = next(p for p in mirror.lock.packages if p.font == "Poppins")
    woff2 = (mirror.root / font.dir / "files" / "poppins-latin-700-normal.woff2").read_bytes()
    font_body = ("<style>h1{font:700 64px Poppins,sans-serif;animation:m 2s linear infinite alternate}"
                 "@keyframes m{to{transform:translateX(400px)}}</style><h1>Hamburgefonstiv</h1>")
    face = ("<style>@font-face{font-family:Poppins;font-weight:700;src:url(data:font/woff2;base64,"
            f"{base64.b64encode(woff2).decode()}) format('woff2')}}</style>")
    return [
        ("gsap (cdnjs)", f'<script src="https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.5/gsap.min.js"></script>{gsap_body}',
         f"<script>{src('gsap@3.12.5', 'dist/gsap.min.js')}</script>{gsap_body}"),
        ("three r128 (cdnjs)", f'<script src="https://cdnjs.cloudflare.com/ajax/libs/three.js/r128/three.min.js"></script>{three_body}',
         f"<script>{src('three@0.128.0', 'build/three.min.js')}</script>{three_body}"),
        ("tailwind play cdn", f'<script src="https://cdn.tailwindcss.com/3.4.10"></script>{tw_body}',
         f"<script>{src('tailwindcss-cdn@3.4.10', '3.4.10/tailwindcss.js')}</script>{tw_body}"),
        ("google fonts", '<link rel=stylesheet href="https://fonts.googleapis.com/css2?family=Poppins:wght@700">' + font_body,
         face + font_body),
    ]


async def main(args) -> None:
    mirror = M.default_mirror()
    problems = [m for p in mirror.lock.packages for m in mirror.verify(p)]
    if problems:
        sys.exit(f"the library cache is not synced: run `judge libs sync` ({problems[0]})")
    vp = Viewport(width=1024, height=768)
    print(f"{args.frames} frames at 30 fps, 1024x768, median of {args.repeats} alternating runs (lock {mirror.lock.sha256})")
    print(f"{'page':<20} {'mirror s':>9} {'inlined s':>10} {'ratio':>6}   {'load: mirror s':>14} {'inlined s':>10} {'ratio':>6}")
    ratios, load_ratios = [], []
    async with Browser() as b:
        for name, with_mirror, inlined in pages(mirror):
            times = {"mirror": [], "inlined": []}
            for i in range(args.repeats + 1):              # the first pair warms up and is not counted
                for kind, html in (("mirror", with_mirror), ("inlined", inlined)):
                    with M.library_scope("mirror") as use:
                        t0 = time.perf_counter()
                        res = await render_page(b, html, viewport=vp, fps=30, n_frames=args.frames)
                        dt = time.perf_counter() - t0
                    if res.fatal or res.log.blocked or res.log.page_errors:
                        sys.exit(f"{name} ({kind}) failed: {res.fatal or res.log.blocked or res.log.page_errors}")
                    if kind == "mirror" and not use.served:
                        sys.exit(f"{name}: nothing was served by the mirror")
                    if i:
                        times[kind].append(dt)
            loads = {"mirror": [], "inlined": []}
            for i in range(args.repeats * 3 + 1):
                for kind, html in (("mirror", with_mirror), ("inlined", inlined)):
                    with M.library_scope("mirror"):
                        t0 = time.perf_counter()
                        async with b.session(html, (vp.width, vp.height)) as s:
                            await s.load()
                            await s.screenshot_png()
                        if i:
                            loads[kind].append(time.perf_counter() - t0)
            m, n = statistics.median(times["mirror"]), statistics.median(times["inlined"])
            lm, ln = statistics.median(loads["mirror"]), statistics.median(loads["inlined"])
            ratios.append(m / n)
            load_ratios.append(lm / ln)
            print(f"{name:<20} {m:>9.3f} {n:>10.3f} {m / n:>6.2f}   {lm:>14.3f} {ln:>10.3f} {lm / ln:>6.2f}")
    print(f"median ratio (mirror / inlined): render {statistics.median(ratios):.2f} (max {max(ratios):.2f}), "
          f"load {statistics.median(load_ratios):.2f} (max {max(load_ratios):.2f})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=5)
    asyncio.run(main(ap.parse_args()))
