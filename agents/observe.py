"""What the judge agent sees of a candidate page: elements, visible text, scroll state.

Everything is read through one init script (`OBSERVE_JS`, installed with `install()`
before the page loads) that exposes a frozen `window.__wjObs` with read-only helpers,
plus `reveal` (scroll an element into view), the one helper that changes page state.
The script also notes which elements get pointer/keyboard listeners through
`addEventListener` (and React/Vue handler props), so a `<div>` with a click handler
counts as interactive without the page having to say so: nothing here needs ids,
classes or ARIA in the generated code.

Definitions used by grounding and verification:

- **element record** (`elements`, `describe_*`): `path` (an nth-child CSS path, unique in
  the current DOM), `tag`, `role` (explicit or implicit ARIA role), `name` (accessible
  name approximation: aria-label/labelledby, labels, alt, title, placeholder, value),
  `text` (rendered text, for small subtrees), `why` (why it is interactive: semantic,
  role, tabindex, editable, listener, onclick, react, vue, pointer; "" if not),
  `editable`, `box` [x, y, w, h] in viewport pixels, `in_view`, `group` (same parent,
  tag and classes: siblings such as the stars of a rating) and `gi` (index in it).
- **visible text** (`page_state`): text nodes whose element is rendered (display,
  visibility, opacity), not clipped away by an overflow ancestor and at least 2x2 px,
  plus form values and the selected option of each `<select>`; each item keeps the
  path of its element.
- **scroll chain**: the scroll containers from the element at a point up to the root,
  with their scroll offsets; the window's offset is `scroll`.
- **selection**: the boxes of the text selection (a drag selects text; that is the
  browser's doing, not the page's).
"""
from __future__ import annotations

import asyncio
import json

import cv2
import numpy as np

from judge.browser.runtime import BrowserError, PageError

OBSERVE_JS = r"""
(() => {
  if (window.__wjObs) return;
  const marked = new WeakSet();
  const TYPES = new Set(["click","dblclick","mousedown","mouseup","pointerdown","pointerup","touchstart",
    "touchend","keydown","keyup","keypress","input","change","mouseenter","mouseover","contextmenu",
    "dragstart","drop","wheel"]);
  const origAdd = EventTarget.prototype.addEventListener;
  Object.defineProperty(EventTarget.prototype, "addEventListener", { configurable: true, writable: true,
    value: function addEventListener(type, ...rest) {
      try { if (this instanceof Element && TYPES.has(String(type))) marked.add(this); } catch (e) {}
      return origAdd.call(this, type, ...rest);
    } });
  const HTML = "http://www.w3.org/1999/xhtml";
  const SKIP = new Set(["SCRIPT","STYLE","NOSCRIPT","TEMPLATE","HEAD","META","LINK","TITLE"]);
  const ROLES = {A: (e) => e.hasAttribute("href") ? "link" : "", BUTTON: () => "button", SELECT: () => "combobox",
    TEXTAREA: () => "textbox", SUMMARY: () => "button", IMG: () => "img", H1: () => "heading", H2: () => "heading",
    H3: () => "heading", H4: () => "heading", LI: () => "listitem", OPTION: () => "option", DIALOG: () => "dialog",
    INPUT: (e) => ({checkbox: "checkbox", radio: "radio", button: "button", submit: "button", reset: "button",
      range: "slider", search: "searchbox", image: "button"})[(e.type || "").toLowerCase()] || "textbox"};
  const INTERACTIVE_ROLES = new Set(["button","link","tab","checkbox","radio","switch","menuitem","option",
    "slider","textbox","combobox","searchbox","spinbutton","treeitem","menuitemcheckbox","menuitemradio"]);
  const SEMANTIC = new Set(["A","BUTTON","INPUT","SELECT","TEXTAREA","SUMMARY","LABEL","OPTION"]);
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  function role(el) {
    const r = el.getAttribute("role");
    if (r) return r.split(/\s+/)[0];
    const f = ROLES[el.tagName]; return f ? f(el) : "";
  }
  function editable(el) {
    if (el.isContentEditable) return true;
    if (el.tagName === "TEXTAREA") return !el.disabled && !el.readOnly;
    if (el.tagName !== "INPUT") return false;
    const t = (el.type || "text").toLowerCase();
    return !el.disabled && !el.readOnly && !["checkbox","radio","button","submit","reset","range","color",
      "file","image","hidden"].includes(t);
  }
  function handler(el) {
    if (marked.has(el)) return "listener";
    for (const k of ["onclick","onmousedown","onpointerdown","onmouseup","ondblclick","onchange","oninput"])
      if (typeof el[k] === "function") return "onclick";
    for (const k of Object.keys(el)) {
      if (k.startsWith("__reactProps")) { const p = el[k];
        if (p && (p.onClick || p.onMouseDown || p.onPointerDown || p.onDoubleClick || p.onChange)) return "react"; }
    }
    if (el._vei && (el._vei.onClick || el._vei.onMousedown || el._vei.onPointerdown)) return "vue";
    return "";
  }
  function why(el, cs) {
    if (el.disabled) return "";
    if (SEMANTIC.has(el.tagName) && !(el.tagName === "A" && !el.hasAttribute("href") && !handler(el))) return "semantic";
    if (INTERACTIVE_ROLES.has(role(el)) && el.hasAttribute("role")) return "role";
    if (el.isContentEditable) return "editable";
    const h = handler(el); if (h) return h;
    if (el.hasAttribute("tabindex") && el.tabIndex >= 0) return "tabindex";
    if (cs.cursor === "pointer" && (!el.parentElement || getComputedStyle(el.parentElement).cursor !== "pointer")) return "pointer";
    return "";
  }
  function path(el) {
    const parts = [];
    while (el && el.nodeType === 1 && el !== document.documentElement) {
      let i = 1, s = el; while ((s = s.previousElementSibling)) i++;
      parts.unshift((el.namespaceURI === HTML ? el.tagName.toLowerCase() : "*") + ":nth-child(" + i + ")");
      el = el.parentElement;
    }
    return ["html"].concat(parts).join(" > ");
  }
  const byPath = (p) => { try { return document.querySelector(p); } catch (e) { return null; } };
  function name(el) {
    const a = el.getAttribute("aria-label"); if (a && a.trim()) return norm(a);
    const lb = el.getAttribute("aria-labelledby");
    if (lb) { const t = norm(lb.split(/\s+/).map((id) => (document.getElementById(id) || {}).innerText || "").join(" ")); if (t) return t; }
    if (el.labels && el.labels.length) { const t = norm(Array.from(el.labels).map((l) => l.innerText).join(" ")); if (t) return t; }
    if (el.tagName === "IMG" && el.alt) return norm(el.alt);
    if (el.tagName === "INPUT" && ["button","submit","reset"].includes(el.type)) return norm(el.value);
    const st = el.tagName.toLowerCase() === "svg" ? el.querySelector("title") : null;
    if (st && st.textContent.trim()) return norm(st.textContent);
    return norm(el.getAttribute("title") || el.getAttribute("placeholder") || "");
  }
  function ownText(el) {
    let t = ""; for (const n of el.childNodes) if (n.nodeType === 3) t += n.data; return norm(t);
  }
  let clipMemo = new Map();   // element -> the clip rect its overflow ancestors impose (null: none); per call
  function clipOf(p) {
    if (!p || p === document.body || p === document.documentElement) return null;
    if (clipMemo.has(p)) return clipMemo.get(p);
    let c = clipOf(p.parentElement);
    const cs = getComputedStyle(p);
    if (cs.overflowX !== "visible" || cs.overflowY !== "visible") {
      const q = p.getBoundingClientRect();
      c = c ? [Math.max(c[0], q.left), Math.max(c[1], q.top), Math.min(c[2], q.right), Math.min(c[3], q.bottom)]
            : [q.left, q.top, q.right, q.bottom];
    }
    clipMemo.set(p, c);
    return c;
  }
  function clipped(el, r) {  // clipped away entirely by an overflow ancestor
    const c = clipOf(el.parentElement);
    return !!c && (Math.min(r.right, c[2]) - Math.max(r.left, c[0]) < 1 || Math.min(r.bottom, c[3]) - Math.max(r.top, c[1]) < 1);
  }
  function shown(el, r) {
    if (r.width < 2 || r.height < 2) return false;
    if (el.checkVisibility && !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
    if (r.right < 0 || r.bottom < -document.documentElement.scrollHeight || r.left > innerWidth + document.documentElement.scrollWidth) return false;
    return !clipped(el, r);
  }
  const groups = new Map(); let gid = 0;
  function record(el) {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    const p = el.parentElement;
    if (p && !groups.has(p)) groups.set(p, gid++);
    const cls = typeof el.className === "string" ? el.className : (el.getAttribute("class") || "");
    const tc = el.textContent || "";
    return { path: path(el), tag: el.tagName.toLowerCase(), role: role(el), name: name(el),
      text: tc.length <= 300 ? norm(el.innerText !== undefined ? el.innerText : tc).slice(0, 200) : ownText(el).slice(0, 200),
      why: why(el, cs), editable: editable(el), visible: shown(el, r),
      box: [r.x, r.y, r.width, r.height],
      in_view: r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight,
      id: el.id || "", cls: norm(cls).slice(0, 120), title: el.getAttribute("title") || "",
      placeholder: el.getAttribute("placeholder") || "", type: (el.getAttribute("type") || "").toLowerCase(),
      value: el.tagName === "INPUT" || el.tagName === "TEXTAREA" ? String(el.value).slice(0, 200) : "",
      checked: el.checked === true || el.getAttribute("aria-checked") === "true" || el.getAttribute("aria-pressed") === "true" || el.getAttribute("aria-selected") === "true",
      group: (p ? groups.get(p) : -1) + "|" + el.tagName + "|" + norm(cls).split(" ").sort().join("."), gi: 0 };
  }
  function elements(limit) {
    clipMemo = new Map();
    const out = [], area = innerWidth * innerHeight, counts = new Map();
    const all = document.body ? document.body.querySelectorAll("*") : [];
    for (let i = 0; i < all.length && out.length < limit; i++) {
      const el = all[i];
      if (SKIP.has(el.tagName) || (el.namespaceURI !== HTML && el.tagName.toLowerCase() !== "svg")) continue;
      const r = el.getBoundingClientRect();
      if (r.width < 2 || r.height < 2) continue;
      const rec = record(el);
      if (!rec.visible) continue;
      const media = ["img","svg","canvas","video"].includes(rec.tag);
      if (!rec.why && !media && !ownText(el)) continue;
      if (r.width * r.height > 0.6 * area && !rec.editable && rec.tag !== "select" && rec.tag !== "canvas") continue;
      rec.gi = counts.get(rec.group) || 0; counts.set(rec.group, rec.gi + 1);
      out.push(rec);
    }
    return out;
  }
  function focusTarget(el) {  // the field a type/select action on `el` goes to
    if (!el) return null;
    if (editable(el) || el.tagName === "SELECT") return el;
    if (el.tagName === "LABEL" && el.control) return el.control;
    const inner = el.querySelector("input, textarea, select, [contenteditable=''], [contenteditable=true]");
    return inner && (editable(inner) || inner.tagName === "SELECT") ? inner : null;
  }
  function visibleText() {
    const items = [], w = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
    const seen = new Map();
    const ok = (el) => { if (!seen.has(el)) seen.set(el, !SKIP.has(el.tagName) && shown(el, el.getBoundingClientRect())); return seen.get(el); };
    let n, count = 0;
    while ((n = w.nextNode()) && count < 5000) {
      const t = norm(n.data); if (!t) continue;
      const el = n.parentElement; if (!el || !ok(el)) continue;
      const rg = document.createRange(); rg.selectNodeContents(n); const rr = rg.getBoundingClientRect();
      if (rr.width < 1 || rr.height < 1) continue;
      items.push([path(el), t]); count++;
    }
    for (const el of document.querySelectorAll("input, textarea, select")) {
      if (!ok(el)) continue;
      if (el.tagName === "SELECT") { const o = el.selectedOptions && el.selectedOptions[0]; if (o) items.push([path(el), norm(o.text)]); }
      else if (!["checkbox","radio","hidden","range","color","file"].includes((el.type || "").toLowerCase())) {
        const v = norm(el.value) || (el.value ? "" : norm(el.placeholder)); if (v) items.push([path(el), v]); }
    }
    return items;
  }
  function scroller(el) {
    const cs = getComputedStyle(el);
    const y = /(auto|scroll|overlay)/.test(cs.overflowY) && el.scrollHeight > el.clientHeight + 1;
    const x = /(auto|scroll|overlay)/.test(cs.overflowX) && el.scrollWidth > el.clientWidth + 1;
    return x || y;
  }
  function chainAt(x, y) {
    const out = []; let el = document.elementFromPoint(x, y);
    for (; el && el !== document.body && el !== document.documentElement; el = el.parentElement)
      if (scroller(el)) out.push([path(el), el.scrollLeft, el.scrollTop, el.scrollWidth - el.clientWidth, el.scrollHeight - el.clientHeight]);
    return out;
  }
  function canScroll(c, dir) {  // c = [path, left, top, maxLeft, maxTop]
    return dir === "down" ? c[2] < c[4] - 1 : dir === "up" ? c[2] > 0 : dir === "right" ? c[1] < c[3] - 1 : c[1] > 0;
  }
  const api = {
    elements: (limit) => elements(limit || 1500),
    describe: (el) => { clipMemo = new Map(); return el ? record(el) : null; },
    describePath: (p) => { clipMemo = new Map(); const el = byPath(p); return el ? record(el) : null; },
    at(x, y) {
      clipMemo = new Map();
      const hit = document.elementFromPoint(x, y); if (!hit) return null;
      let it = hit; while (it && it !== document.body && !why(it, getComputedStyle(it))) it = it.parentElement;
      return { hit: record(hit), interactive: it && it !== document.body ? record(it) : null };
    },
    focusTarget: (p) => { clipMemo = new Map(); const el = focusTarget(byPath(p)); return el ? record(el) : null; },
    clickPoint(p) {
      const el = byPath(p); if (!el) return null;
      const r = el.getBoundingClientRect();
      const x0 = Math.max(0, r.left), y0 = Math.max(0, r.top), x1 = Math.min(innerWidth, r.right), y1 = Math.min(innerHeight, r.bottom);
      if (x1 - x0 < 1 || y1 - y0 < 1) return null;
      const fr = [[.5,.5],[.3,.5],[.7,.5],[.5,.3],[.5,.7],[.2,.2],[.8,.8],[.2,.8],[.8,.2]];
      for (const [fx, fy] of fr) {
        const x = x0 + (x1 - x0) * fx, y = y0 + (y1 - y0) * fy, h = document.elementFromPoint(x, y);
        if (h && (h === el || el.contains(h) || (h.contains(el) && h !== document.body && h !== document.documentElement)))
          return { x, y, box: [r.x, r.y, r.width, r.height], covered: false };
      }
      return { x: (x0 + x1) / 2, y: (y0 + y1) / 2, box: [r.x, r.y, r.width, r.height], covered: true };
    },
    reveal(p) {
      const el = byPath(p); if (!el) return false;
      const r = el.getBoundingClientRect();
      if (r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth) return false;
      el.scrollIntoView({ block: "center", inline: "center", behavior: "instant" }); return true;
    },
    windowPoint(dir) {
      const pts = [[.5,.5],[.5,.25],[.5,.75],[.25,.5],[.75,.5],[.1,.5],[.9,.5],[.5,.1],[.5,.9]];
      for (const [fx, fy] of pts) {
        const x = innerWidth * fx, y = innerHeight * fy;
        if (!chainAt(x, y).some((c) => canScroll(c, dir))) return [x, y];
      }
      return [innerWidth / 2, innerHeight / 2];
    },
    state(x, y, paths) {
      clipMemo = new Map();
      const f = document.activeElement;
      const chain = x === null || x === undefined ? [] : chainAt(x, y);
      const extra = (paths || []).map((p) => { const el = byPath(p); return el ? [p, el.scrollLeft, el.scrollTop,
        el.scrollWidth - el.clientWidth, el.scrollHeight - el.clientHeight] : [p, null, null, 0, 0]; });
      const vis = [];
      for (const el of document.body ? document.body.querySelectorAll("*") : []) {
        if (vis.length >= 4000) break;
        if (SKIP.has(el.tagName)) continue;
        const r = el.getBoundingClientRect();
        if (r.width * r.height >= 64 && shown(el, r)) vis.push(path(el));
      }
      const sel = getSelection(), selBoxes = [];
      if (sel && sel.rangeCount && !sel.isCollapsed)
        for (const r of sel.getRangeAt(0).getClientRects()) if (selBoxes.length < 200) selBoxes.push([r.x, r.y, r.width, r.height]);
      return { scroll: [scrollX, scrollY], selection: selBoxes, max_scroll: [document.documentElement.scrollWidth - innerWidth,
          document.documentElement.scrollHeight - innerHeight],
        text: visibleText(), chain: chain.concat(extra), visible: vis,
        focus: f && f !== document.body ? { path: path(f), editable: editable(f), box: (() => { const r = f.getBoundingClientRect();
          return [r.x, r.y, r.width, r.height]; })(), value: f.value !== undefined ? String(f.value).slice(0, 500) : "" } : null };
    },
  };
  Object.defineProperty(window, "__wjObs", { value: Object.freeze(api), writable: false, configurable: false, enumerable: false });
})();
"""


async def install(session) -> None:
    """Add the observer to the session's context; call before `session.load()`."""
    await session.context.add_init_script(OBSERVE_JS)


FATAL = ("did not respond", "renderer crashed", "navigated away", "time budget", "page closed", "has been closed")


def fatal(session, e: Exception) -> bool:
    """Is this PageError the page failing (hang, crash, navigation), not one call failing?"""
    return bool(session.log.crashed) or any(m in str(e) for m in FATAL)


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
        raise PageError(f"{what}: page did not respond within {session.timeout_s:.0f} s (script hang?)") from None
    except (PageError, BrowserError):
        raise
    except Exception as e:
        if session.log.crashed:
            raise PageError(f"{what}: renderer crashed") from None
        b = session.browser._browser
        if b is None or not b.is_connected():
            raise BrowserError(f"{what}: browser died ({e})") from None
        if soft:
            return None
        raise PageError(f"{what}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


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


async def reveal(session, path: str) -> bool:
    return bool(await call(session, "reveal", path))


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
