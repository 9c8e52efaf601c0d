"""The broken-variant ladder on every shipped interactive task (issue 4).

Each variant is derived programmatically from the task's own `reference.html` and
actions, so a new task in `tasks/interactive/` joins automatically (at most one line in
`BREAK` when the generic choice of the action to break does not suit it):

1. *dead handler*: a capture-phase script swallows (stops and cancels) the events that
   action k sends to its target (the reference selector) -> IFS = (k-1)/n exactly, and
   the replay goes on: every later step is judged and `ifs_steps` counts the later passes.
2. *renamed*: every id, class and data-* name of the page is renamed (markup, CSS, and
   the page's own DOM calls through a thin translation layer, so it behaves the same),
   and the task keeps only its reference selector and video bbox as hints: grounding
   must come from the description or the video -> IFS = 1.
3. *does nothing*: the same markup without scripts, inert and unscrollable -> IFS = 0
   and no step passes (the look is the reference's: only the behaviour is missing).
4. *relayout*: the renamed page re-wrapped, with blocks swapped, a bar on top,
   mirrored (right-to-left), another font and margins: the same behaviour, another DOM
   and layout -> IFS = 1 (and a VFS below the reference's).
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agents.judge_graph import judge_page
from judge.score import ScoreConfig
from judge.tasks import load_task

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.parent for p in (ROOT / "tasks" / "interactive").glob("*/task.json"))
OFFLINE = ScoreConfig(embedder="classic")

# Which actions (1-based) to break per task, when the generic choice (`default_break`)
# leaves no later step that can pass on its own, or to cover more kinds of action (a
# dead scroll, field, dropdown, key). One line per task at most.
BREAK = {
    "landing-scroll": (3, 1),       # + the wheel swallowed: the buttons still work
    "product-tabs": (2,),           # +/- and the cart do not depend on the tabs
    "settings-panel": (3, 4),       # + a dead dropdown: saving still works
    "signup-validation": (4, 2),    # + a field that takes no typing: the others still validate
    "store-hover-menu": (2,),       # the menus open by CSS :hover (no handler to remove)
    "todo-list": (2, 6),            # a dead Enter: typing goes on; "Active" works without "Completed"
}

# ---- 1. dead handler -----------------------------------------------------------------------
POINTER = {"pointerdown", "pointerup", "mousedown", "mouseup", "click", "dblclick", "auxclick", "contextmenu"}
HOVER = {"pointerover", "pointerenter", "pointermove", "mouseover", "mouseenter", "mousemove"}
KEYS = {"keydown", "keypress", "keyup", "beforeinput", "input"}
SWALLOW = {"click": POINTER, "dblclick": POINTER, "drag": POINTER | {"dragstart", "drop"}, "hover": HOVER,
           "type": KEYS, "press": {"keydown", "keypress", "keyup"}, "select": {"input", "change"},
           "scroll": {"wheel"}}


def _key(action) -> str | None:
    return action.key.split("+")[-1] if action.type == "press" and action.key else None


def swallowed(action) -> tuple[str | None, set[str], str | None] | None:
    """(selector, events, key) that kill action's behaviour; None when it has none to kill
    (wait) or no selector to aim at (a targeted action without a reference selector)."""
    if action.type not in SWALLOW:
        return None
    if not action.target.selector and not (action.type in ("scroll", "press") and action.target.is_empty()):
        return None
    return action.target.selector, SWALLOW[action.type], _key(action)


def generated(action) -> tuple[set[str], set[str] | None]:
    """The events an action sends (the pointer moves to every target first) and, for key
    events, which keys (None: any)."""
    ev = set(HOVER) if not action.target.is_empty() else set()
    keys: set[str] | None = None
    if action.type in ("click", "dblclick", "drag", "type") or (action.type == "press" and ev):
        ev |= POINTER
    if action.type == "type":
        ev |= KEYS
        keys = set(action.text or "") | {"a", "A", "Control", "Meta"}
    elif action.type == "press":
        ev |= {"keydown", "keypress", "keyup"}
        keys = {_key(action)}
    elif action.type in ("select", "scroll"):
        ev |= SWALLOW[action.type]
    return ev, keys


def breakable(actions) -> list[int]:
    """Actions (1-based) with an assertion whose behaviour can be killed without touching
    an earlier action (no earlier action sends the swallowed events to the same target)."""
    out = []
    for k, a in enumerate(actions, 1):
        spec = swallowed(a)
        if spec is None or not a.assertion:
            continue
        sel, events, key = spec
        clash = False
        for b in actions[:k - 1]:
            ev, keys = generated(b)
            same = b.target.selector == sel if sel else b.target.is_empty()
            if same and ev & events and (key is None or keys is None or key in keys):
                clash = True
        if not clash:
            out.append(k)
    return out


def default_break(actions) -> int:
    """The breakable action nearest the middle (hover excluded: CSS may drive it)."""
    ks = [k for k in breakable(actions) if actions[k - 1].type != "hover"]
    return min(ks, key=lambda k: (abs(k - (len(actions) + 1) / 2), k))


DEAD_JS = """<script>(() => {
  const sel = %s, key = %s;
  const hit = (e) => { const t = e.target; return !sel || (t instanceof Element && !!t.closest(sel)); };
  for (const type of %s) window.addEventListener(type, (e) => {
    if (key !== null && String(e.key).toLowerCase() !== key.toLowerCase()) return;
    if (!hit(e)) return;
    e.stopImmediatePropagation();
    if (e.cancelable) e.preventDefault();
  }, { capture: true, passive: false });
})();</script>"""


def head_insert(html: str, snippet: str) -> str:
    """`snippet` at the top of <head> (after its charset, before any page script)."""
    m = re.search(r"<meta\s+charset[^>]*>", html, re.I) or re.search(r"<head\b[^>]*>", html, re.I)
    return html[:m.end()] + snippet + html[m.end():] if m else snippet + html


def dead_page(html: str, action) -> str:
    sel, events, key = swallowed(action)
    return head_insert(html, DEAD_JS % (json.dumps(sel), json.dumps(key), json.dumps(sorted(events))))


# ---- 2. renamed --------------------------------------------------------------------------------
ID_REFS = ("id", "for", "aria-controls", "aria-labelledby", "aria-describedby", "aria-owns",
           "aria-activedescendant", "list", "form", "headers")
_SEL_ID = re.compile(r"#(-?[_a-zA-Z][\w-]*)")
_SEL_CLS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_SEL_DATA = re.compile(r"\[\s*data-([\w-]+)")
_ATTR = re.compile(r"""([^\s"'<>/=]+)(?:(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_SEGMENTS = re.compile(r"(<script\b[^>]*>)(.*?)(</script\s*>)|(<style\b[^>]*>)(.*?)(</style\s*>)|(<!--.*?-->)"
                       r"|(<[A-Za-z][^>]*>)", re.S | re.I)
# the page's DOM calls, routed through the translation layer (RENAME_JS)
JS_CALLS = [(r"\.getElementById\(", ".__rnById("), (r"\.querySelectorAll\(", ".__rnQSA("),
            (r"\.querySelector\(", ".__rnQS("), (r"\.getElementsByClassName\(", ".__rnByClass("),
            (r"\.closest\(", ".__rnClosest("), (r"\.matches\(", ".__rnMatches("),
            (r"\.classList\b", ".__rnClassList"), (r"\.className\b", ".__rnClassName"),
            (r"\.dataset\b", ".__rnDataset"), (r"\.innerHTML\b", ".__rnInnerHTML"),
            (r"\.insertAdjacentHTML\(", ".__rnInsertHTML("),
            (r"\.(get|set|has|remove|toggle)Attribute\(", r".__rn\1Attribute("), (r"\.id\b(?!\s*\()", ".__rnId")]

RENAME_JS = r"""<script>(() => {
  const M = %s;
  const own = (m, t) => Object.prototype.hasOwnProperty.call(m, t);
  const inv = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [v, k]));
  const R = { ids: inv(M.ids), cls: inv(M.cls), data: inv(M.data) };
  const fwd = (m, t) => (own(m, t) ? m[t] : t);
  const toks = (m, v) => String(v).split(/(\s+)/).map((t) => (/\S/.test(t) ? fwd(m, t) : t)).join("");
  const REFS = new Set(%s);
  const sel = (s) => String(s).replace(/#(-?[_a-zA-Z][\w-]*)/g, (_, a) => "#" + fwd(M.ids, a))
    .replace(/\.(-?[_a-zA-Z][\w-]*)/g, (_, a) => "." + fwd(M.cls, a))
    .replace(/\[\s*data-([\w-]+)/g, (_, a) => "[data-" + fwd(M.data, a.toLowerCase()));
  const aname = (n) => { const l = String(n).toLowerCase(); return l.startsWith("data-") ? "data-" + fwd(M.data, l.slice(5)) : n; };
  const vin = (n, v) => { const l = String(n).toLowerCase(); return l === "class" ? toks(M.cls, v) : REFS.has(l) ? toks(M.ids, v) : v; };
  const vout = (n, v) => { if (v === null) return v; const l = String(n).toLowerCase();
    return l === "class" ? toks(R.cls, v) : REFS.has(l) ? toks(R.ids, v) : v; };
  const markup = (s) => String(s)
    .replace(/(\s)(class|id|for|aria-controls|aria-labelledby|aria-describedby)(\s*=\s*)(["'])(.*?)\4/gi,
             (_, sp, n, eq, q, v) => sp + n + eq + q + vin(n, v) + q)
    .replace(/(\sdata-)([\w-]+)/gi, (_, a, n) => a + fwd(M.data, n.toLowerCase()));
  const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  const dash = (s) => s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
  const def = (proto, name, desc) => Object.defineProperty(proto, name, { configurable: true, ...desc });
  const E = Element.prototype, D = Document.prototype, F = DocumentFragment.prototype;
  def(D, "__rnById", { value(id) { return this.getElementById(fwd(M.ids, String(id))); } });
  for (const P of [D, E, F]) {
    def(P, "__rnQS", { value(s) { return this.querySelector(sel(s)); } });
    def(P, "__rnQSA", { value(s) { return this.querySelectorAll(sel(s)); } });
  }
  for (const P of [D, E]) def(P, "__rnByClass", { value(c) { return this.getElementsByClassName(toks(M.cls, c)); } });
  def(E, "__rnClosest", { value(s) { return this.closest(sel(s)); } });
  def(E, "__rnMatches", { value(s) { return this.matches(sel(s)); } });
  def(E, "__rnClassList", { get() {
    const cl = this.classList, f = (t) => fwd(M.cls, String(t)), b = (t) => fwd(R.cls, t);
    return { add: (...t) => cl.add(...t.map(f)), remove: (...t) => cl.remove(...t.map(f)),
      toggle: (t, force) => (force === undefined ? cl.toggle(f(t)) : cl.toggle(f(t), force)),
      contains: (t) => cl.contains(f(t)), replace: (x, y) => cl.replace(f(x), f(y)),
      item: (i) => (cl.item(i) === null ? null : b(cl.item(i))), get length() { return cl.length; },
      get value() { return toks(R.cls, cl.value); }, forEach: (fn) => Array.from(cl).forEach((v, i) => fn(b(v), i)),
      [Symbol.iterator]: function* () { for (const v of cl) yield b(v); }, toString: () => toks(R.cls, cl.value) };
  } });
  def(E, "__rnClassName", { get() { return toks(R.cls, this.getAttribute("class") || ""); },
                            set(v) { this.setAttribute("class", toks(M.cls, v)); } });
  def(E, "__rnId", { get() { return fwd(R.ids, this.id); }, set(v) { this.id = fwd(M.ids, String(v)); } });
  def(E, "__rnDataset", { get() {
    const ds = this.dataset, k = (p) => (typeof p === "string" ? camel(fwd(M.data, dash(p))) : p);
    return new Proxy(ds, { get: (t, p) => t[k(p)], set: (t, p, v) => { t[k(p)] = v; return true; },
                           has: (t, p) => k(p) in t, deleteProperty: (t, p) => delete t[k(p)] });
  } });
  def(E, "__rngetAttribute", { value(n) { return vout(n, this.getAttribute(aname(n))); } });
  def(E, "__rnhasAttribute", { value(n) { return this.hasAttribute(aname(n)); } });
  def(E, "__rnremoveAttribute", { value(n) { return this.removeAttribute(aname(n)); } });
  def(E, "__rnsetAttribute", { value(n, v) { return this.setAttribute(aname(n), vin(n, v)); } });
  def(E, "__rntoggleAttribute", { value(n, force) {
    return force === undefined ? this.toggleAttribute(aname(n)) : this.toggleAttribute(aname(n), force); } });
  def(E, "__rnInnerHTML", { get() { return this.innerHTML; }, set(v) { this.innerHTML = markup(v); } });
  def(E, "__rnInsertHTML", { value(pos, s) { return this.insertAdjacentHTML(pos, markup(s)); } });
})();</script>"""


def _selectors(css: str):
    """(start, end) spans of the selector preludes of a style sheet."""
    css = re.sub(r"/\*.*?\*/", lambda c: " " * len(c.group(0)), css, flags=re.S)    # comments out, offsets kept
    return [m.span(1) for m in re.finditer(r"([^{}]+)\{", css)]


def _split_tag(tag: str) -> tuple[str, str]:
    """`<name` and the rest of a start tag."""
    end = re.match(r"<[A-Za-z][^\s/>]*", tag).end()
    return tag[:end], tag[end:]


def _names(html: str) -> dict[str, list[str]]:
    """Ids, classes and data-* names of the markup and its style sheets, in order."""
    ids, cls, data = {}, {}, {}
    for m in _SEGMENTS.finditer(html):
        if m.group(4):
            css = m.group(5)
            for a, b in _selectors(css):
                ids.update(dict.fromkeys(_SEL_ID.findall(css[a:b])))
                cls.update(dict.fromkeys(_SEL_CLS.findall(css[a:b])))
                data.update(dict.fromkeys(d.lower() for d in _SEL_DATA.findall(css[a:b])))
        elif m.group(8):
            for n, _, v in _ATTR.findall(_split_tag(m.group(8))[1]):
                v, n = v.strip("\"'"), n.lower()
                if n == "id":
                    ids[v] = None
                elif n == "class":
                    cls.update(dict.fromkeys(v.split()))
                elif n.startswith("data-"):
                    data[n[5:]] = None
    return {"ids": list(ids), "cls": list(cls), "data": list(data)}


def rename_map(html: str) -> dict[str, dict[str, str]]:
    names = _names(html)
    taken = {n for v in names.values() for n in v}
    out = {}
    for kind, prefix in (("ids", "n"), ("cls", "k"), ("data", "v")):
        out[kind] = {old: f"{prefix}{i}q" for i, old in enumerate(names[kind])}
        assert not taken & set(out[kind].values()), "a new name collides with an old one"
    return out


def _toks(m: dict, v: str) -> str:
    return " ".join(m.get(t, t) for t in v.split())


def rename_selector(s: str, m: dict) -> str:
    s = _SEL_ID.sub(lambda g: "#" + m["ids"].get(g.group(1), g.group(1)), s)
    s = _SEL_CLS.sub(lambda g: "." + m["cls"].get(g.group(1), g.group(1)), s)
    return _SEL_DATA.sub(lambda g: "[data-" + m["data"].get(g.group(1).lower(), g.group(1)), s)


def rename_js(js: str) -> str:
    for pat, rep in JS_CALLS:
        js = re.sub(pat, rep, js)
    return js


def _rename_tag(tag: str, m: dict) -> str:
    def attr(g):
        n, eq, v = g.group(1), g.group(2), g.group(3)
        low = n.lower()
        if low.startswith("data-"):
            n = "data-" + m["data"].get(low[5:], low[5:])
        if not v:
            return n + (eq or "")
        q = v[0] if v[0] in "\"'" else ""
        raw = v[1:-1] if q else v
        if low == "class":
            raw = _toks(m["cls"], raw)
        elif low in ID_REFS:
            raw = _toks(m["ids"], raw)
        elif low == "href" and raw.startswith("#") and raw[1:] in m["ids"]:
            raw = "#" + m["ids"][raw[1:]]
        elif low.startswith("on"):
            raw = rename_js(raw)
        return f"{n}{eq}{q}{raw}{q}"
    name, rest = _split_tag(tag)
    return name + _ATTR.sub(attr, rest)


def renamed_page(html: str) -> tuple[str, dict]:
    """The page with every id, class and data-* name replaced (markup, CSS, the page's
    DOM calls), and the map used."""
    m = rename_map(html)

    def seg(g):
        if g.group(1) is not None:
            return g.group(1) + rename_js(g.group(2)) + g.group(3)
        if g.group(4) is not None:
            css, out, pos = g.group(5), [], 0
            for a, b in _selectors(css):
                out += [css[pos:a], rename_selector(css[a:b], m)]
                pos = b
            return g.group(4) + "".join(out) + css[pos:] + g.group(6)
        if g.group(7) is not None:
            return g.group(7)
        return _rename_tag(g.group(8), m)
    page = _SEGMENTS.sub(seg, html)
    return head_insert(page, RENAME_JS % (json.dumps(m), json.dumps(list(ID_REFS)))), m


def renamable(selector: str | None) -> bool:
    """Does the selector name an id, class or data-* attribute (which the rename changes)?"""
    return bool(selector) and bool(_SEL_ID.search(selector) or _SEL_CLS.search(selector) or _SEL_DATA.search(selector))


def hints_reduced(task):
    """The task with its targets' role/name/text hints removed (selector and bbox kept)."""
    t = task.model_copy(deep=True)
    for i, a in enumerate(t.spec.actions):
        t.spec.actions[i] = a.model_copy(update={"target": a.target.model_copy(update={"role": None, "name": None,
                                                                                       "text": None})})
    return t


# ---- 3. does nothing -----------------------------------------------------------------------------
INERT_CSS = "<style>html, body { overflow: hidden !important; }</style>"


def inert_page(html: str) -> str:
    """The same markup with no script, no inline handler, inert and unscrollable."""
    html = re.sub(r"<script\b[^>]*>.*?</script\s*>", "", html, flags=re.S | re.I)
    html = re.sub(r"(<[A-Za-z][^>]*?)\son\w+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", r"\1", html)
    html, found = re.subn(r"<body\b", "<body inert", html, count=1, flags=re.I)
    assert found, "the reference page has no <body> tag to make inert"
    return head_insert(html, INERT_CSS)


# ---- 4. relayout ---------------------------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
RELAYOUT_CSS = """<style>html { direction: rtl; } input, textarea { direction: ltr; }
body { padding: 0 9vw 0 0 !important; font-family: "DejaVu Serif", serif !important; letter-spacing: 0.03em; }</style>"""
BAR = '<div style="height:72px;background:linear-gradient(90deg,#c7d2fe,#fbcfe8)"></div>'


class _Blocks(HTMLParser):
    """Offsets of the element children of each element (by its start offset)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=False)
        self.html, self.stack, self.children = html, [], {}
        self._lines = [0]
        for line in html.split("\n"):
            self._lines.append(self._lines[-1] + len(line) + 1)
        self.feed(html)

    def _at(self) -> int:
        line, col = self.getpos()
        return self._lines[line - 1] + col

    def handle_starttag(self, tag, attrs):
        start = self._at()
        end = self.html.index(">", start) + 1
        if tag in VOID:
            if self.stack:
                self.children.setdefault(self.stack[-1][1], []).append((tag, start, end))
            return
        self.stack.append((tag, start))

    def handle_endtag(self, tag):
        if not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            t, start = self.stack.pop()
            if t == tag:
                break
        end = self.html.index(">", self._at()) + 1
        if self.stack:
            self.children.setdefault(self.stack[-1][1], []).append((tag, start, end))


def relayout_page(html: str) -> str:
    """The renamed page with its first two blocks swapped (at the first level that has
    two), every block of <body> wrapped twice, a bar on top, mirrored (right-to-left),
    another font and margin."""
    page, _ = renamed_page(html)
    blocks = _Blocks(page)
    body = page.lower().index("<body")
    level = [c for c in blocks.children.get(body, []) if c[0] != "script"]
    while len(level) == 1:
        level = [c for c in blocks.children.get(level[0][1], []) if c[0] != "script"]
    if len(level) >= 2:
        (_, a0, a1), (_, b0, b1) = level[:2]
        page = page[:a0] + page[b0:b1] + page[a1:b0] + page[a0:a1] + page[b1:]
    top = [c for c in _Blocks(page).children.get(body, []) if c[0] != "script"]
    for _, s, e in reversed(top):
        page = page[:s] + '<section class="wrap-a"><div>' + page[s:e] + "</div></section>" + page[e:]
    open_end = page.index(">", body) + 1
    page = page[:open_end] + BAR + page[open_end:]
    return head_insert(page, RELAYOUT_CSS)


# ---- running ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    return {p.name: load_task(p) for p in SHIPPED}


def judge(run, browser, task, html: str) -> dict:
    return run(judge_page(task, html.encode(), browser=browser, config=OFFLINE))


def reference(task) -> str:
    return task.reference_page_path.read_text(encoding="utf-8")


def verdicts(r: dict) -> list:
    return [(s["index"], s["passed"], s["rung"], s["verdict_source"], s["verdict_reason"], s["error"])
            for s in r["steps"]]


def break_cases():
    cases = []
    for p in SHIPPED:
        actions = load_task(p).spec.actions
        cases += [(p, k) for k in BREAK.get(p.name, (default_break(actions),))]
    return cases


BREAK_CASES = break_cases()


@pytest.mark.parametrize("folder,k", BREAK_CASES, ids=[f"{p.name}-k{k}" for p, k in BREAK_CASES])
def test_dead_handler_at_k_gives_the_prefix_and_later_steps_are_judged(run, browser, shipped, folder, k):
    task = shipped[folder.name]
    actions, n = task.spec.actions, len(task.spec.actions)
    assert k in breakable(actions), f"action {k} cannot be broken alone"
    r = judge(run, browser, task, dead_page(reference(task), actions[k - 1]))
    steps = r["steps"]
    assert r["exec"] and r["error"] is None, r["error"]
    assert r["ifs"] == pytest.approx((k - 1) / n, abs=1e-12), verdicts(r)
    assert all(s["passed"] for s in steps[:k - 1]) and not steps[k - 1]["passed"], verdicts(r)
    assert steps[k - 1]["executed"], verdicts(r)     # grounded and performed: the page did not react
    assert len(steps) == n and all(s["verdict_source"] != "rule:not-reached" for s in steps), verdicts(r)
    assert r["ifs_steps"] == pytest.approx(sum(s["passed"] for s in steps) / n, abs=1e-12)
    if k < n:   # the replay went on, and later passes count
        assert r["ifs_steps"] > r["ifs"], verdicts(r)


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_renamed_targets_are_grounded_by_description_or_video(run, browser, shipped, folder):
    task = shipped[folder.name]
    page, m = renamed_page(reference(task))
    for old in m["ids"]:     # the rename happened in the markup
        assert f'id="{old}"' not in page and f"id='{old}'" not in page
    r = judge(run, browser, hints_reduced(task), page)
    assert r["exec"] and r["error"] is None, r["error"]
    assert r["ifs"] == 1.0 and r["ifs_steps"] == 1.0, verdicts(r)
    assert r["vfs"] > 0.95      # the names changed, not the look (the style sheet was renamed with them)
    for s, a in zip(r["steps"], task.spec.actions):
        if renamable(a.target.selector):     # its reference selector matches nothing now
            assert not (s["rung"] or "").startswith("hints"), verdicts(r)


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_page_that_does_nothing_scores_zero(run, browser, shipped, folder):
    task = shipped[folder.name]
    r = judge(run, browser, task, inert_page(reference(task)))
    assert r["exec"] and r["error"] is None, r["error"]
    assert r["ifs"] == 0.0 and r["ifs_steps"] == 0.0, verdicts(r)     # no step passes: nothing reacted
    assert r["vfs"] > 0.5       # it looks like the reference: only the behaviour is missing


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_other_dom_and_layout_same_behaviour_scores_full_ifs(run, browser, shipped, folder):
    task = shipped[folder.name]
    r = judge(run, browser, task, relayout_page(reference(task)))
    assert r["exec"] and r["error"] is None, r["error"]
    assert r["ifs"] == 1.0 and r["ifs_steps"] == 1.0, verdicts(r)
    assert r["vfs"] < 0.95     # it does not look the same (the reference scores > 0.95)
