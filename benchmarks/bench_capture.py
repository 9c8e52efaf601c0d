"""Capture rate of the deterministic renderer vs bare `page.screenshot` calls.

For every shipped animation task (tasks/animation/*/reference.html), in one process:
- webjudge: `PageSession.capture` (virtual clock step + one real frame wait + CDP PNG)
- baseline: Playwright's plain `page.screenshot()` in a loop on the same page, same
  viewport, no virtual clock stepping (what a naive real-time recorder does).
Prints frames/s for both and their ratio per task, and the median ratio.

    .venv/bin/python benchmarks/bench_capture.py [--frames 90] [--tasks tasks/animation]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from judge.browser.limits import launch_args  # noqa: E402
from judge.browser.runtime import Browser, chromium_path  # noqa: E402
from judge.tasks import find_task_dirs, load_task  # noqa: E402


async def main(args) -> None:
    from playwright.async_api import async_playwright

    pages = []
    for d in find_task_dirs([args.tasks]):
        t = load_task(d)
        if t.family == "animation" and t.reference_page_path:
            pages.append((t.id, t.reference_page_path.read_bytes(), t.spec.viewport))
    if not pages:
        sys.exit(f"no animation tasks with a reference page under {args.tasks}")
    rows = []
    async with Browser() as b, async_playwright() as pw:
        plain = await pw.chromium.launch(executable_path=chromium_path(), args=launch_args(b.paced))  # as ours
        for tid, html, vp in pages:
            async with b.session(html, (vp.width, vp.height)) as s:
                await s.load()
                t0 = time.perf_counter()
                await s.capture(args.frames, 30)
                ours = args.frames / (time.perf_counter() - t0)
            ctx = await plain.new_context(viewport={"width": vp.width, "height": vp.height})
            page = await ctx.new_page()
            await page.set_content(html.decode("utf-8", "replace"))
            t0 = time.perf_counter()
            for _ in range(args.frames):
                await page.screenshot()
            base = args.frames / (time.perf_counter() - t0)
            await ctx.close()
            rows.append((tid, ours, base))
            print(f"{tid:<18} webjudge {ours:6.1f} frames/s   page.screenshot {base:6.1f} frames/s   ratio {ours / base:5.2f}")
        await plain.close()
    ratios = [o / p for _, o, p in rows]
    print(f"median over {len(rows)} tasks: webjudge {statistics.median(r[1] for r in rows):.1f} frames/s, "
          f"page.screenshot {statistics.median(r[2] for r in rows):.1f} frames/s, ratio {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--tasks", default="tasks/animation")
    asyncio.run(main(ap.parse_args()))
