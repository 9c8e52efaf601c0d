"""What the judge agent sees of a candidate page: elements, visible text, scroll state.

Everything is read through one init script (`observe.js`, installed with `install()`
before the page loads) that exposes a frozen `window.__wjObs` with read-only helpers,
plus `reveal` (scroll an element into view), the one helper that changes page state.
The script also notes which elements get pointer/keyboard listeners through
`addEventListener` (and React/Vue handler props), so a `<div>` with a click handler
counts as interactive without the page having to say so: nothing here needs ids,
classes or ARIA in the generated code.

Definitions used by grounding and verification:

- **composed tree**: open shadow roots are pierced everywhere (element lists, text, paths,
  hit-testing, focus); closed roots are opaque, left to hit-testing and the visual rung.
- **element record** (`elements`, `describe_*`): `path` (nth-child segments, unique in
  the current DOM; ` >>> ` enters a host's shadow root), `tag`, `role` (explicit or implicit ARIA role), `name` (accessible
  name approximation: aria-label/labelledby, labels, alt, title, placeholder, value),
  `text` (rendered text, for small subtrees), `why` (why it is interactive: semantic,
  role, tabindex, editable, listener, onclick, react, vue, pointer; "" if not),
  `editable`, `box` [x, y, w, h] in viewport pixels, `in_view`, `group` (same parent,
  tag and classes: siblings such as the stars of a rating) and `gi` (index in it),
  `painted` (rendered: display, visibility, opacity, not clipped), `reach` (where a real
  click on its box goes: "self", "label" -- a label activating it, "ancestor" -- a small
  interactive element containing it; "" when not tested or covered), `visible` (painted,
  or reachable by a click: a control drawn by CSS over an invisible native input),
  `pseudo` (text drawn by ::before/::after) and `icon` (classes, titles, labels and glyphs
  of its parts: what an icon-only control says).
- **visible text** (`page_state`): text nodes whose element is rendered (display,
  visibility, opacity), not clipped away by an overflow ancestor and at least 2x2 px,
  plus form values and the selected option of each `<select>`; each item is
  [path of its element, text, 1 if its box intersects the viewport else 0].
- **scroll chain**: the scroll containers from the element at a point up to the root,
  with their scroll offsets; the window's offset is `scroll`.
- **selection**: the boxes of the text selection (a drag selects text; that is the
  browser's doing, not the page's).
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import cv2
import numpy as np

from judge.browser.runtime import BrowserError, PageError

OBSERVE_JS = (Path(__file__).with_name("observe.js")).read_text(encoding="utf-8")


async def install(session) -> None:
    """Add the observer to the session's context; call before `session.load()`."""
    await session.context.add_init_script(OBSERVE_JS)


def fatal(session, e: Exception) -> bool:
    """Is this PageError the page failing (hang, crash, navigation, budget, closed), not one
    call into it failing (`kind` "call")?"""
    return bool(session.log.crashed) or getattr(e, "kind", "call") not in ("call", "load")


async def guard(session, coro, what: str, soft: bool = False):
    """Await a browser call under the session's timeout (and, with a runtime that has
    `PageSession.guard`, its time budget and hang handling). A hang or crash is a
    `PageError`; a dead browser is a `BrowserError`; any other failure is a `PageError`,
    or `None` when `soft` (e.g. a reference-page selector this page's engine rejects)."""
    session_guard = getattr(session, "guard", None)
    if session_guard is not None:
        try:
            return await session_guard(coro, what)
        except PageError as e:
            if soft and not fatal(session, e):
                return None
            raise
    try:
        return await asyncio.wait_for(coro, session.timeout_s)
    except asyncio.TimeoutError:
        raise PageError(f"{what}: page did not respond within {session.timeout_s:.0f} s (script hang?)", kind="hang") from None
    except (PageError, BrowserError):
        raise
    except Exception as e:
        if session.log.crashed:
            raise PageError(f"{what}: renderer crashed", kind="crash") from None
        if not session.browser.connected():
            raise BrowserError(f"{what}: browser died ({e})") from None
        if soft:
            return None
        raise PageError(f"{what}: {str(e).splitlines()[0] if str(e) else type(e).__name__}", kind="call") from None


async def call(session, fn: str, *args, what: str | None = None):
    """`window.__wjObs[fn](...args)` in the page, through the session's guarded `run_js`
    (DevTools `Runtime.evaluate`: none of Playwright's in-page machinery, so a page that
    rewrote built-ins cannot break the judge's view of it)."""
    return await session.run_js(f"window.__wjObs.{fn}({', '.join(json.dumps(a) for a in args)})", what or fn)


async def elements(session, limit: int = 1500) -> list[dict]:
    return await call(session, "elements", limit) or []


async def describe_path(session, path: str) -> dict | None:
    return await call(session, "describePath", path)


async def describe_at(session, x: float, y: float) -> dict | None:
    return await call(session, "at", x, y)


async def describe_locator(session, locator, limit: int = 20) -> list[dict]:
    """Records of a Playwright locator's matches (None if the locator is invalid here)."""
    js = f"(els) => els.slice(0, {int(limit)}).map((e) => window.__wjObs.describe(e))"
    return await guard(session, locator.evaluate_all(js), "locate", soft=True) or []


async def focus_target(session, path: str) -> dict | None:
    return await call(session, "focusTarget", path)


async def click_point(session, path: str) -> dict | None:
    return await call(session, "clickPoint", path)


async def field_value(session, path: str) -> str | None:
    """The value of the field at `path` (or the field a label/wrapper there resolves to)."""
    return await call(session, "fieldValue", path)


async def list_items(session, path: str) -> dict | None:
    """The list the element at `path` is an item of (its nearest ancestor-or-self with
    shown siblings of the same tag): `{"index": i, "items": [[path, box], ...]}`."""
    return await call(session, "items", path)


async def reveal(session, path: str) -> bool:
    return bool(await call(session, "reveal", path))


async def scrollers(session, direction: str) -> list[dict]:
    """Scroll containers that can move in `direction`: records plus `label` (a heading
    before them) and `point` (the centre of their on-screen box)."""
    return await call(session, "scrollers", direction) or []


async def scroll_positions(session, point: tuple[float, float]) -> list:
    """The window's scroll offsets and those of the scroll containers under `point` (cheap)."""
    return await call(session, "scrolls", point[0], point[1]) or []


async def window_point(session, direction: str) -> tuple[float, float]:
    x, y = await call(session, "windowPoint", direction)
    return float(x), float(y)


async def page_state(session, point: tuple[float, float] | None = None, paths: list[str] | None = None) -> dict:
    x, y = point if point else (None, None)
    return await call(session, "state", x, y, paths or [], what="observe")


async def aria_outline(session, limit: int = 6000) -> str:
    """The page's accessibility tree as Playwright's ARIA snapshot (YAML), truncated."""
    text = await guard(session, session.page.locator("body").aria_snapshot(timeout=5000), "aria", soft=True)
    return (text or "")[:limit]


def describe(rec: dict | None) -> str:
    """A one-line human description of an element record."""
    if not rec:
        return "-"
    label = rec.get("name") or rec.get("text") or rec.get("placeholder") or rec.get("value") or ""
    kind = rec.get("role") or rec.get("tag")
    x, y, w, h = (round(v) for v in rec.get("box", (0, 0, 0, 0)))
    return f"{kind} {label[:60]!r} <{rec.get('tag')}> at ({x},{y} {w}x{h})"


def set_of_marks(png: bytes, records: list[dict]) -> bytes:
    """The screenshot with a numbered box drawn around each record (numbers = list order)."""
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    colours = [(0, 0, 255), (0, 160, 0), (255, 0, 0), (0, 140, 255), (200, 0, 200), (160, 160, 0)]
    for n, rec in enumerate(records):
        x, y, w, h = (int(round(v)) for v in rec["box"])
        c = colours[n % len(colours)]
        cv2.rectangle(img, (x, y), (x + w, y + h), c, 2)
        label = str(n)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        cv2.rectangle(img, (x, max(0, y - th - 4)), (x + tw + 4, max(th + 4, y)), c, -1)
        cv2.putText(img, label, (x + 2, max(th + 2, y - 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                    cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", img)
    return buf.tobytes()
