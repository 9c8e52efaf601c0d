"""The shipped task suite's reference pages (tasks/animation, tasks/interactive).

Static checks always run: files present, meta.json / actions.json valid against the
`Action` schema, self-contained pages (no external URLs, no randomness).
The `slow` test replays every interactive task's actions on its reference page in
Chromium through the selector hints and checks the quoted strings of each assertion.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from judge.tasks import Action

ROOT = Path(__file__).resolve().parents[2]
ANIM = ROOT / "tasks" / "animation"
INTER = ROOT / "tasks" / "interactive"


def _dirs(base: Path) -> list[Path]:
    return sorted(p for p in base.iterdir() if (p / "reference.html").is_file()) if base.is_dir() else []


ANIM_DIRS = _dirs(ANIM)
INTER_DIRS = _dirs(INTER)


def _check_page(html: str) -> None:
    assert "Math.random" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "external URL in src/href"
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html), "external url() in CSS"
    assert "@import" not in html and "@font-face" not in html
    assert not re.search(r"<script[^>]+src=", html), "scripts must be inline"
    assert not re.search(r"<link[^>]+stylesheet", html), "styles must be inline"


def test_suite_sizes():
    assert len(ANIM_DIRS) >= 12
    assert len(INTER_DIRS) >= 6


@pytest.mark.parametrize("folder", ANIM_DIRS, ids=lambda p: p.name)
def test_animation_task(folder: Path):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", folder.name)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert 3 <= meta["duration_s"] <= 5
    assert meta["categories"] and all(isinstance(c, str) for c in meta["categories"])
    assert meta["description"].strip()
    _check_page((folder / "reference.html").read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", INTER_DIRS, ids=lambda p: p.name)
def test_interactive_task(folder: Path):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", folder.name)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["categories"] and meta["description"].strip()
    raw = json.loads((folder / "actions.json").read_text(encoding="utf-8"))
    actions = [Action.model_validate(a) for a in raw]
    assert 4 <= len(actions) <= 12
    assert 1 <= sum(a.visual_check for a in actions) <= 3
    for i, a in enumerate(actions):
        if a.type in ("scroll", "wait"):
            continue
        assert a.target.selector, f"action {i} has no selector hint"
        assert a.assertion is None or a.assertion.count('"') % 2 == 0, f"action {i}: unbalanced quotes"
    for i, a in enumerate(actions[:-1]):
        if a.type == "scroll":
            assert a.direction and a.amount, f"scroll {i} needs direction and amount"
    _check_page((folder / "reference.html").read_text(encoding="utf-8"))


def test_categories_cover_brief():
    anim = set().union(*(json.loads((d / "meta.json").read_text())["categories"] for d in ANIM_DIRS))
    for c in ("css-keyframes", "steps", "cubic-bezier", "transition", "waapi", "canvas-raf", "svg-smil",
              "3d-transform", "color-opacity", "stagger", "text", "off-screen", "loop", "one-shot"):
        assert c in anim, c
    inter = set().union(*(json.loads((d / "meta.json").read_text())["categories"] for d in INTER_DIRS))
    for c in ("tabs", "modal", "counter", "todo", "accordion", "validation", "scroll", "hover-menu"):
        assert c in inter, c


# ---------------------------------------------------------------- replay (slow)

_FIND_JS = r"""
([s, inViewport]) => {
  const norm = t => (t || '').replace(/\s+/g, ' ').trim();
  const onScreen = el => {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    return !inViewport || (r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight);
  };
  const hits = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.matches('script,style')) continue;
    if (el.matches('input,textarea')) { if (norm(el.value).includes(s) && onScreen(el)) hits.push(el.tagName); continue; }
    if (!norm(el.innerText).includes(s)) continue;
    if (!Array.from(el.children).some(c => norm(c.innerText).includes(s)) && onScreen(el)) hits.push(el.tagName);
  }
  return hits;
}
"""


def quoted(assertion: str | None) -> list[tuple[str, bool]]:
    """(text, negative) per double-quoted string; negative after "no longer", also for
    strings chained to a negative one by ',', 'or', 'and', 'nor'."""
    out: list[tuple[str, bool]] = []
    end, neg = 0, False
    for m in re.finditer(r'"([^"]+)"', assertion or ""):
        gap = (assertion or "")[end:m.start()]
        if "no longer" in gap:
            neg = True
        elif not (out and re.fullmatch(r"\s*(,|or|and|nor|,\s*or|,\s*and)\s*", gap)):
            neg = False
        out.append((m.group(1), neg))
        end = m.end()
    return out


def test_quoted_parsing():
    assert quoted('shows "A" and no longer shows "B" or "C"') == [("A", False), ("B", True), ("C", True)]
    assert quoted('no longer shows "B" and the article "D" is visible') == [("B", True), ("D", False)]


async def _replay(folder: Path) -> list[str]:
    from playwright.async_api import async_playwright

    from judge.browser.runtime import chromium_path

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    actions = [Action.model_validate(a) for a in json.loads((folder / "actions.json").read_text())]
    problems: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=args)
        try:
            page = await browser.new_page(viewport={"width": 1024, "height": 768})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "about:"))
                    else problems.append(f"request: {r.url}"))
            await page.goto((folder / "reference.html").as_uri())
            await page.wait_for_timeout(500)
            for i, a in enumerate(actions):
                where = f"{folder.name} action {i} ({a.description})"
                loc = page.locator(a.target.selector) if a.target.selector else None
                if loc is not None:
                    n = await loc.count()
                    if n != 1:
                        problems.append(f"{where}: selector matches {n} elements")
                        continue
                    if a.target.role:
                        rl = (page.get_by_role(a.target.role, name=a.target.name, exact=True) if a.target.name
                              else page.get_by_role(a.target.role).filter(has_text=a.target.text or ""))
                        h = await loc.element_handle()
                        if not await rl.evaluate_all("(els, el) => els.includes(el)", h):
                            problems.append(f"{where}: role/name hint does not match the selector's element")
                y0 = await page.evaluate("scrollY")
                if a.type == "click":
                    await loc.click(timeout=3000)
                elif a.type == "dblclick":
                    await loc.dblclick(timeout=3000)
                elif a.type == "hover":
                    await loc.hover(timeout=3000)
                elif a.type == "type":
                    await loc.fill(a.text, timeout=3000)
                elif a.type == "press":
                    await loc.press(a.key, timeout=3000)
                elif a.type == "select":
                    await loc.select_option(label=a.text, timeout=3000)
                elif a.type == "scroll":
                    await page.mouse.move(512, 384)
                    await page.mouse.wheel(0, (a.amount or 384) * (-1 if a.direction == "up" else 1))
                elif a.type == "wait":
                    await page.wait_for_timeout((a.amount or 1) * 1000)
                await page.wait_for_timeout(500)
                if a.type == "scroll" and abs(await page.evaluate("scrollY") - y0) <= 5:
                    problems.append(f"{where}: the page did not scroll")
                for text, neg in quoted(a.assertion):
                    hits = await page.evaluate(_FIND_JS, [text, not neg])
                    if neg and hits:
                        problems.append(f"{where}: {text!r} is still visible")
                    elif not neg and not hits:
                        problems.append(f"{where}: {text!r} is not visible")
        finally:
            await browser.close()
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("folder", INTER_DIRS, ids=lambda p: p.name)
def test_interactive_replay(folder: Path, run):
    pytest.importorskip("playwright")
    from judge.browser.runtime import chromium_path

    try:
        chromium_path()
    except Exception as e:  # no browser on this machine
        pytest.skip(f"no Chromium: {e}")
    assert run(_replay(folder)) == []
