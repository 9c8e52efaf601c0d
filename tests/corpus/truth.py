"""Ground truth without the judge: drive a corpus page through its behaviour's task with
real input and check every assertion directly.

Nothing of webjudge is used here (no sandbox, no virtual clock, no grounding ladder, no
verifier): plain Playwright on Debian's Chromium, real time, Playwright locators (which
pierce open shadow roots) chosen by hand per implementation, and Playwright's own
actionability and visibility rules. So the expected IFS of every implementation and
every mutant is known independently of what the judge decides.

A behaviour folder (`tests/corpus/<behaviour>/`, format in `tests/corpus/README.md`) has
`actions.json` (the task as an annotator writes it), `truth.json` (how to drive each
implementation and what must hold after each action) and `mutants.json`.

    python tests/corpus/truth.py tests/corpus/<behaviour> [--impl NAME] [--mutant ID]

prints one line per action (pass/fail and the failed checks) and the expected IFS.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ORIGIN = "http://corpus.test/"
CHECK_TIMEOUT_MS = 2500     # a check may take this long to come true (animations, debounces)
ACTION_TIMEOUT_MS = 5000
SETTLE_MS = 400             # after each action, before checks start polling
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# ---- the behaviour folder -------------------------------------------------------------------
@dataclass
class Behaviour:
    root: Path
    actions: list[dict]
    truth: dict
    mutants: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def reference(self) -> str:
        return self.truth["reference"]

    @property
    def viewport(self) -> tuple[int, int]:
        w, h = self.truth.get("viewport", [1024, 768])
        return int(w), int(h)

    @property
    def implementations(self) -> list[str]:
        return list(self.truth["drive"])

    def page(self, impl: str) -> Path:
        """`<impl>/index.html`, or the path `truth.json` gives in `pages` (relative to it)."""
        rel = self.truth.get("pages", {}).get(impl)
        return (self.root / rel).resolve() if rel else self.root / impl / "index.html"

    def html(self, impl: str, mutant: dict | None = None) -> str:
        text = self.page(impl).read_text(encoding="utf-8")
        return apply_mutant(text, mutant) if mutant else text

    def mutant(self, mid: str) -> dict:
        for m in self.mutants:
            if m["id"] == mid:
                return m
        raise KeyError(f"{self.root}/mutants.json: no mutant {mid!r}")


def load(root: Path | str) -> Behaviour:
    root = Path(root)
    truth = json.loads((root / "truth.json").read_text())
    actions = json.loads((root / truth.get("actions", "actions.json")).read_text())
    mpath = root / "mutants.json"
    mutants = json.loads(mpath.read_text()) if mpath.exists() else []
    b = Behaviour(root, actions, truth, mutants)
    for impl, steps in truth["drive"].items():
        if len(steps) != len(actions):
            raise ValueError(f"{root}/truth.json: drive.{impl}: {len(steps)} steps for {len(actions)} actions")
        if not b.page(impl).exists():
            raise ValueError(f"{root}/truth.json: drive.{impl}: no page {b.page(impl)}")
    if len(truth["checks"]) != len(actions):
        raise ValueError(f"{root}/truth.json: checks: {len(truth['checks'])} entries for {len(actions)} actions")
    return b


def behaviours(corpus: Path | str) -> list[Behaviour]:
    return [load(d) for d in sorted(Path(corpus).iterdir()) if (d / "truth.json").exists()]


def apply_mutant(html: str, mutant: dict) -> str:
    """The page with the mutant's replacements; each `old` must occur exactly once."""
    for old, new in mutant["replace"]:
        n = html.count(old)
        if n != 1:
            raise ValueError(f"mutant {mutant['id']}: {old[:60]!r} occurs {n} times in the page (must be once)")
        html = html.replace(old, new)
    return html


# ---- driving ----------------------------------------------------------------------------------
async def open_browser(pw):
    return await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


async def new_page(browser, html: str, viewport: tuple[int, int]):
    """A fresh context serving `html` at ORIGIN; every other request is aborted (offline)."""
    ctx = await browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=1,
                                    service_workers="block")
    errors: list[str] = []

    async def route(r):
        if r.request.url.split("#")[0] in (ORIGIN, ORIGIN + "index.html"):
            await r.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            await r.abort()
    await ctx.route("**/*", route)
    page = await ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(ORIGIN)
    await page.wait_for_load_state("load")
    await page.wait_for_timeout(300)
    return ctx, page, errors


def _scroll_delta(action: dict, viewport) -> tuple[float, float]:
    d = action.get("direction") or "down"
    amount = action.get("amount") if action.get("amount") is not None else 0.5
    span = viewport[1] if d in ("up", "down") else viewport[0]
    px = amount * span if amount <= 1 else amount
    return {"down": (0, px), "up": (0, -px), "right": (px, 0), "left": (-px, 0)}[d]


async def perform(page, action: dict, step: dict, viewport) -> None:
    """One action with real input at the implementation's own locator (`step["locator"]`,
    a Playwright selector; `step["to"]` for a drag's drop target). `step["pre"]` lists
    preparatory clicks/hovers (e.g. open a menu the annotator's action implies)."""
    kind = action["type"]
    loc = page.locator(step["locator"]).first if step.get("locator") else None
    t = ACTION_TIMEOUT_MS
    if kind == "click":
        await loc.click(timeout=t)
    elif kind == "dblclick":
        await loc.dblclick(timeout=t)
    elif kind == "hover":
        await loc.hover(timeout=t)
    elif kind == "type":
        await loc.click(timeout=t)
        await page.keyboard.press("ControlOrMeta+A")
        await page.keyboard.type(action.get("text") or "")
    elif kind == "press":
        if loc is not None:
            await loc.press(action["key"], timeout=t)
        else:
            await page.keyboard.press(action["key"])
    elif kind == "scroll":
        if loc is not None:
            await loc.hover(timeout=t)
        else:
            await page.mouse.move(viewport[0] / 2, viewport[1] / 2)
        await page.mouse.wheel(*_scroll_delta(action, viewport))
    elif kind == "select":
        await loc.select_option(label=action.get("text"), timeout=t)
    elif kind == "drag":
        src = await loc.bounding_box(timeout=t)
        dst = await page.locator(step["to"]).first.bounding_box(timeout=t)
        x0, y0 = src["x"] + src["width"] / 2, src["y"] + src["height"] / 2
        x1, y1 = dst["x"] + dst["width"] / 2, dst["y"] + dst["height"] / 2
        await page.mouse.move(x0, y0)
        await page.mouse.down()
        for i in range(1, 11):
            await page.mouse.move(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10)
            await page.wait_for_timeout(20)
        await page.mouse.up()
    elif kind == "wait":
        await page.wait_for_timeout(float(action.get("amount") or 1.0) * 1000)
    else:
        raise ValueError(f"unknown action type {kind!r}")


# ---- checking -----------------------------------------------------------------------------------
def _text_locator(page, text: str, exact: bool):
    if text.startswith("/") and text.endswith("/") and len(text) > 2:
        return page.get_by_text(re.compile(text[1:-1]))
    return page.get_by_text(text, exact=exact)


async def _visible_count(loc, in_view: bool = False, viewport=None) -> int:
    n = 0
    for i in range(min(await loc.count(), 200)):
        item = loc.nth(i)
        try:
            if not await item.is_visible():
                continue
            if in_view:
                b = await item.bounding_box()
                if not b or b["y"] + b["height"] <= 0 or b["y"] >= viewport[1] or b["x"] + b["width"] <= 0 \
                        or b["x"] >= viewport[0]:
                    continue
        except Exception:
            continue
        n += 1
    return n


async def holds(page, check: dict, viewport) -> bool:
    """One check, now. Kinds (keys): `visible` / `hidden` / `in_view` TEXT (a visible
    element whose text contains TEXT exists / does not / exists inside the viewport;
    `exact: true` for whole-text; /regex/ allowed); `count` TEXT with `n` (visible
    exact matches); `locator` SELECTOR with one of `visible`/`hidden` (true), `count` N,
    `value` V, `checked` BOOL, `text` (contains), `attr` [NAME, VALUE]; `order` [TEXT, ...]
    (the texts' first visible matches are in this vertical order)."""
    exact = bool(check.get("exact"))
    if "locator" in check:
        loc = page.locator(check["locator"])
        if check.get("visible"):
            return await _visible_count(loc) > 0
        if check.get("hidden"):
            return await _visible_count(loc) == 0
        if "count" in check:
            return await _visible_count(loc) == int(check["count"])
        first = loc.first
        if await loc.count() == 0:
            return False
        if "value" in check:
            return (await first.input_value()) == check["value"]
        if "checked" in check:
            return (await first.is_checked()) == bool(check["checked"])
        if "text" in check:
            return check["text"].casefold() in re.sub(r"\s+", " ", await first.inner_text()).casefold()
        if "attr" in check:
            return (await first.get_attribute(check["attr"][0])) == check["attr"][1]
        raise ValueError(f"check {check}: nothing to check on the locator")
    if "visible" in check:
        return await _visible_count(_text_locator(page, check["visible"], exact)) > 0
    if "hidden" in check:
        return await _visible_count(_text_locator(page, check["hidden"], exact)) == 0
    if "in_view" in check:
        return await _visible_count(_text_locator(page, check["in_view"], exact), True, viewport) > 0
    if "count" in check:
        return await _visible_count(_text_locator(page, check["count"], True)) == int(check["n"])
    if "order" in check:
        ys = []
        for text in check["order"]:
            loc = _text_locator(page, text, True)
            found = None
            for i in range(min(await loc.count(), 50)):
                if await loc.nth(i).is_visible():
                    found = (await loc.nth(i).bounding_box())["y"]
                    break
            if found is None:
                return False
            ys.append(found)
        return ys == sorted(ys)
    raise ValueError(f"unknown check {check}")


async def check_all(page, checks: list[dict], viewport) -> list[dict]:
    """The checks that do not hold within CHECK_TIMEOUT_MS (polled)."""
    pending = list(checks)
    deadline = asyncio.get_running_loop().time() + CHECK_TIMEOUT_MS / 1000
    while True:
        pending = [c for c in pending if not await holds(page, c, viewport)]
        if not pending or asyncio.get_running_loop().time() > deadline:
            return pending
        await page.wait_for_timeout(100)


async def run(browser, b: Behaviour, impl: str, mutant: dict | None = None, stop: bool = False) -> list[dict]:
    """Drive implementation `impl` (optionally mutated) through every action; after each,
    the behaviour's checks plus the step's own `expect` must hold. Driving goes on after
    a failure (`stop`: it ends there; only the first failure is then known). Returns one
    record per action driven: `ok`, `failed` (checks), `error`."""
    ctx, page, errors = await new_page(browser, b.html(impl, mutant), b.viewport)
    out = []
    try:
        for k, (action, step) in enumerate(zip(b.actions, b.truth["drive"][impl])):
            rec = {"index": k, "ok": False, "failed": [], "error": None}
            try:
                for pre in step.get("pre", []):
                    await perform(page, {"type": pre.get("type", "click")}, pre, b.viewport)
                await perform(page, action, step, b.viewport)
                await page.wait_for_timeout(SETTLE_MS)
                rec["failed"] = await check_all(page, b.truth["checks"][k] + step.get("expect", []), b.viewport)
                rec["ok"] = not rec["failed"]
            except Exception as e:
                rec["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
            out.append(rec)
            if stop and not rec["ok"]:
                break
    finally:
        await ctx.close()
    if errors:
        out[-1]["page_errors"] = errors[:5]
    return out


def expected_ifs(records: list[dict], n: int | None = None) -> float:
    k = next((r["index"] for r in records if not r["ok"]), len(records))
    return k / (n or len(records))


def first_fail(records: list[dict]) -> int | None:
    return next((r["index"] for r in records if not r["ok"]), None)


async def _main(argv: list[str]) -> int:
    from playwright.async_api import async_playwright

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("behaviour", type=Path, nargs="+")
    ap.add_argument("--impl", action="append", help="only this implementation (repeatable)")
    ap.add_argument("--mutant", action="append", help="only this mutant id (repeatable); 'all' for every mutant")
    args = ap.parse_args(argv)
    bad = 0
    async with async_playwright() as pw:
        browser = await open_browser(pw)
        for root in args.behaviour:
            b = load(root)
            if args.mutant:
                todo = [(m["impl"], m) for m in b.mutants if "all" in args.mutant or m["id"] in args.mutant]
            else:
                todo = [(i, None) for i in b.implementations if not args.impl or i in args.impl]
            for impl, m in todo:
                recs = await run(browser, b, impl, m)
                ff = first_fail(recs)
                want = m["first_fail"] if m else None
                flag = "" if ff == want else f"   <-- expected first failure at {want}"
                bad += bool(flag)
                print(f"{b.name}/{impl}{' mutant ' + m['id'] if m else ''}: expected IFS "
                      f"{expected_ifs(recs):.3f} (first failure: {ff}){flag}")
                for r in recs:
                    print(f"   step {r['index']}: {'pass' if r['ok'] else 'FAIL'} "
                          f"{r['error'] or ''}{' failed: ' + json.dumps(r['failed']) if r['failed'] else ''}")
                if recs and recs[-1].get("page_errors"):
                    print(f"   page errors: {recs[-1]['page_errors']}")
        await browser.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main(sys.argv[1:])))
