"""The grounding ladder: where in the candidate page an action lands.

Rungs, tried in order; the first plausible hit wins and its name is logged per step:

1. `hints:role`, `hints:text`, `hints:selector` -- the task's target hints, most robust
   first. Role + accessible name and visible text are matched with Playwright's own
   accessibility engine. The CSS selector comes from the *reference* page, and a role
   without a name fits every element of that role, so their hits are only accepted
   with some agreement (`agreeing`): the hit's text matches the hinted name/text or a
   quoted string (>= 0.75), or, when there is no text to compare, a description keyword
   occurs in its text/id/class, an ordinal picks it among the role's elements, or (a
   selector hit) its kind fits the description's role word.
2. `description` -- the action's description: quoted strings, ordinals ("the 9th star",
   "second tab"), role words (button, link, tab, field/box/input, checkbox, dropdown)
   and keywords, fuzzy-matched over the page's visible elements (`agents.observe`).
3. `visual` -- the target's crop from the reference video at the action's timestamp
   (`target.bbox`, pixels that differ from the frame before the pointer moved in are
   masked out: the pointer), matched multi-scale on the candidate's screenshot
   (`cv2.TM_CCOEFF_NORMED` >= `VISUAL_MIN_SCORE`), then the element at that point.
4. `llm` -- a judge model picks one of the numbered interactive elements (with the
   page's ARIA snapshot); 5. `vlm` -- the same on a numbered set-of-marks screenshot.
   Both only when a judge model is configured.

A hit is *plausible* when it is visible (rendered, not clipped away), not a page-sized
container, and fits the action: `type` needs an editable field (a label or wrapper
resolves to its field), `select` a `<select>`. Ties between equally good elements go
to the one nearest the target's position in the reference video, then document order.
Page-level actions need no element: `wait`; `press` without target hints (the focused
element receives it: rung `focused`); `scroll` without target hints (rung `window`: a
point whose scroll chain leaves the window to scroll). A chosen element is scrolled into
view (recorded as a `reveal` op, replayed on resume) and clicked at a point that
hit-tests to it. At most `MAX_BROWSER_CALLS` page calls are made per action.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from difflib import SequenceMatcher

import cv2
import numpy as np

from agents import observe as ob
from agents.providers.base import ImagePart, Message

VISUAL_MIN_SCORE = 0.8
VISUAL_SCALES = (1.0, 0.9, 1.1, 0.8, 1.25, 0.67, 1.5)
MAX_BROWSER_CALLS = 20
MAX_LIST = 120             # elements shown to a judge model
PRE_MOVE_S = 0.4           # the recorder moves the pointer for 0.4 s before an action (judge.record.MOVE_MS)

_QUOTE = re.compile(r'"([^"]+)"|“([^”]+)”|‘([^’]+)’|«([^»]+)»|(?<![A-Za-z0-9])\'([^\']+)\'(?![A-Za-z0-9])')
_ORD_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
              "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "last": -1}
_ORD = re.compile(r"\b(?:(\d+)(?:st|nd|rd|th)|(" + "|".join(_ORD_WORDS) + r"))\b(?:[\s-]+([a-z]+))?", re.I)
ROLE_WORDS = {"button": "button", "btn": "button", "link": "link", "tab": "tab", "input": "textbox",
              "field": "textbox", "box": "textbox", "textbox": "textbox", "textarea": "textbox", "bar": "textbox",
              "checkbox": "checkbox", "radio": "radio", "dropdown": "combobox", "select": "combobox",
              "menu": "menu", "toggle": "switch", "switch": "switch", "slider": "slider", "icon": "img",
              "image": "img", "logo": "img", "option": "option", "item": "item", "card": "item", "row": "item"}
SYMBOLS = {"star": "★☆⭐✩✭✮", "heart": "♥❤♡", "close": "×✕✖", "x": "×✕✖✗", "plus": "+＋", "add": "+＋",
           "minus": "−–", "next": "›»→▶", "previous": "‹«←◀", "back": "‹«←◀", "menu": "☰≡", "search": "🔍⌕",
           "check": "✓✔", "delete": "🗑✕×", "remove": "🗑✕×", "help": "?❓ⓘ", "info": "ⓘℹ", "setting": "⚙",
           "home": "⌂🏠", "cart": "🛒", "edit": "✎✏", "play": "▶►", "pause": "⏸", "more": "⋯…⋮"}
_STOP = set("a an the on in to of and with at for into from by this that it its then please user page "
            "click clicks tap taps press presses double type types enter enters select selects choose hover "
            "over scroll scrolls drag drop move mouse cursor which called labelled labeled named text "
            "button btn link tab field box input element icon open go navigate visit pick one ones your my our".split())


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", (s or "")).strip().casefold()


def quoted_strings(text: str) -> list[str]:
    """Strings in double, curly or (word-bounded) single quotes, in order."""
    return [next(g for g in m.groups() if g) for m in _QUOTE.finditer(text or "") if any(m.groups())]


def ordinal(text: str) -> tuple[int | None, str | None]:
    """("the 9th star") -> (9, "star"); "last" -> -1; (None, None) when absent."""
    m = _ORD.search(text or "")
    if not m:
        return None, None
    n = int(m.group(1)) if m.group(1) else _ORD_WORDS[m.group(2).lower()]
    tail = (m.group(3) or "").lower() or None
    return n, (tail[:-1] if tail and tail.endswith("s") and len(tail) > 3 else tail)


def similarity(q: str, t: str) -> float:
    """How well element text `t` matches wanted text `q`, in [0, 1]: 1 exact
    (case/space-insensitive); 0.85-1 when q is a whole-word part of t (more for a closer
    length); proportional when t is a part of q; else the difflib ratio."""
    q, t = norm(q), norm(t)
    if not q or not t:
        return 0.0
    if q == t:
        return 1.0
    if re.search(r"(?<!\w)" + re.escape(q) + r"(?!\w)", t):
        return 0.85 + 0.15 * len(q) / len(t)
    if re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", q):
        return 0.75 * len(t) / len(q)
    return SequenceMatcher(None, q, t).ratio() if max(len(q), len(t)) < 200 else 0.0


def _fields(rec: dict) -> list[str]:
    return [rec.get(k) or "" for k in ("name", "text", "title", "placeholder", "value")]


def _words(text: str) -> set[str]:
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in re.findall(r"[a-z0-9]+", norm(text))}


class Cues:
    """What a description says about its target (the typed/selected text excluded)."""

    def __init__(self, description: str, exclude: tuple[str, ...] = ()):
        ex = {norm(e) for e in exclude if e}
        self.quoted = [q for q in quoted_strings(description) if norm(q) not in ex]
        self.ordinal, self.noun = ordinal(description)
        rest = _QUOTE.sub(" ", description)
        words = re.findall(r"[a-z]+", rest.lower())
        self.role = next((ROLE_WORDS[w] for w in reversed(words) if w in ROLE_WORDS), None)
        self.keywords = {w for w in _words(rest) if w not in _STOP and not w.isdigit() and w not in _ORD_WORDS
                         and not re.fullmatch(r"\d+(st|nd|rd|th)", w)} - {norm(e) for e in ex}


def role_fits(rec: dict, role: str | None) -> bool | None:
    """True/False when the element is/is not of the described kind; None if no opinion."""
    if not role or role in ("item", "menu", "img"):
        if role == "img":
            return rec["tag"] in ("img", "svg", "canvas") or rec["role"] == "img" or None
        return None
    if role == "textbox":
        return bool(rec["editable"])
    if role == "combobox":
        return rec["tag"] == "select" or rec["role"] in ("combobox", "listbox")
    if role in ("checkbox", "radio", "switch"):
        return rec["role"] in ("checkbox", "radio", "switch") or None
    return rec["role"] == role or (role == "button" and bool(rec["why"]) and rec["role"] not in ("link", "textbox"))


def text_score(rec: dict, wanted: list[str]) -> float:
    return max((similarity(q, f) for q in wanted for f in _fields(rec)), default=0.0)


def keyword_hit(rec: dict, k: str) -> float:
    """1 if keyword `k` (or its symbol: "close" ~ "×") is in the element's text/name,
    0.5 if only in its id/class, else 0."""
    text = " ".join(_fields(rec))
    if k in _words(text) or any(c in text for c in SYMBOLS.get(k, "")):
        return 1.0
    return 0.5 if k in _words(re.sub(r"[-_]", " ", f"{rec.get('id', '')} {rec.get('cls', '')}")) else 0.0


def keyword_score(rec: dict, keywords: set[str]) -> float:
    return sum(keyword_hit(rec, k) for k in keywords) / len(keywords) if keywords else 0.0


def proximity(rec: dict, bbox, viewport) -> float:
    """1 at the reference target's centre, 0 half a viewport diagonal away (0 without bbox)."""
    if not bbox:
        return 0.0
    x, y, w, h = rec["box"]
    bx, by, bw, bh = bbox
    d = ((x + w / 2 - bx - bw / 2) ** 2 + (y + h / 2 - by - bh / 2) ** 2) ** 0.5
    return max(0.0, 1.0 - d / (0.5 * (viewport[0] ** 2 + viewport[1] ** 2) ** 0.5))


def pick_ordinal(recs: list[dict], n: int, noun: str | None, role: str | None, bbox, viewport) -> dict | None:
    """The n-th (1-based; -1 = last) member of the sibling group that best matches `noun`."""
    groups: dict[str, list[dict]] = {}
    for r in recs:
        groups.setdefault(r["group"], []).append(r)
    best, best_key = None, None
    for members in groups.values():
        if len(members) < (2 if n == -1 else max(n, 2)):
            continue
        fit = 0.0
        if noun:
            words = _words(" ".join(" ".join(_fields(m)) + f" {m['cls']} {m['id']}" for m in members))
            sym = SYMBOLS.get(noun, "")
            fit += 1.0 if noun in words else 0.0
            fit += 1.0 if sym and any(c in " ".join(_fields(m)) for m in members for c in sym) else 0.0
            fit += 0.5 if ROLE_WORDS.get(noun) and all(role_fits(m, ROLE_WORDS[noun]) for m in members) else 0.0
        if role and all(role_fits(m, role) for m in members):
            fit += 0.5
        fit += 0.3 * sum(bool(m["why"]) for m in members) / len(members)
        pick = members[n - 1] if n > 0 else members[-1]
        key = (fit, proximity(pick, bbox, viewport))
        if fit >= 1.0 and (best_key is None or key > best_key):
            best, best_key = pick, key
    return best


def plausible(rec: dict | None, kind: str, viewport) -> bool:
    if not rec or not rec.get("visible"):
        return False
    w, h = rec["box"][2], rec["box"][3]
    if w * h > 0.6 * viewport[0] * viewport[1] and not rec["editable"] and rec["tag"] not in ("select", "canvas"):
        return False
    return True


def agreeing(recs: list[dict], agree: list[str], cues: Cues, kind: bool) -> list[dict]:
    """The hits of a hint that does not name its element by itself (a reference
    selector: `kind`; a role without a name) that agree with the action: their text
    matches a hinted name/text or a quoted string (>= 0.75). With no text to compare:
    all of a role's hits when the description has an ordinal ("the 3rd tab": `_choose`
    picks it), else those with a description keyword in their text/id/class or (`kind`)
    of the described kind."""
    if agree:
        return [r for r in recs if text_score(r, agree) >= 0.75]
    if not kind and cues.ordinal:
        return recs
    return [r for r in recs if keyword_score(r, cues.keywords) > 0 or (kind and role_fits(r, cues.role))]


def rank(recs: list[dict], cues: Cues, action, viewport, hint_texts: list[str] = ()) -> list[tuple[float, dict]]:
    """Candidates with a score; ineligible ones dropped. Evidence needed: a quoted /
    hinted text match >= 0.75, or (without quotes) >= 60 % of the *informative*
    keywords -- those found on some element of the page ("in the dropdown", "in its
    corner" name places, not the target). A role word that does not fit costs 0.15
    (it may name a container: "'Laptops' in the dropdown")."""
    wanted = list(hint_texts) + cues.quoted
    bbox = action.target.bbox
    informative = {k for k in cues.keywords if any(keyword_hit(r, k) for r in recs)}
    out = []
    for r in recs:
        fits = role_fits(r, cues.role)
        ts = text_score(r, wanted) if wanted else 0.0
        ks = keyword_score(r, informative)
        if wanted and ts < 0.75:
            continue
        if not wanted and ks < 0.6:
            continue
        score = 0.6 * ts + 0.25 * ks + (0.15 if fits else -0.15 if fits is False else 0.0) \
            + (0.1 if r["why"] else 0.0) + 0.1 * proximity(r, bbox, viewport)
        out.append((score, r))
    out.sort(key=lambda p: -p[0])
    return out


# ---- visual matching ---------------------------------------------------------------------
def template_from_frames(frame: np.ndarray, before: np.ndarray | None, bbox) -> tuple[np.ndarray, np.ndarray] | None:
    """The target's crop and a mask hiding pixels that changed while the pointer moved in."""
    x, y, w, h = (int(round(v)) for v in bbox)
    H, W = frame.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 - x0 < 6 or y1 - y0 < 6:
        return None
    crop = frame[y0:y1, x0:x1]
    mask = np.full(crop.shape[:2], 255, np.uint8)
    if before is not None and before.shape == frame.shape:
        diff = np.abs(crop.astype(np.int16) - before[y0:y1, x0:x1].astype(np.int16)).max(2) > 24
        diff = cv2.dilate(diff.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        if diff.mean() < 0.6:
            mask[diff] = 0
    if float(crop[mask > 0].std()) < 8.0:      # a flat crop matches anything
        return None
    return crop, mask


def _peaks(screen: np.ndarray, crop: np.ndarray, mask: np.ndarray, s: float) -> list[tuple[float, float, float]]:
    """Up to 12 (score, x, y) peaks >= `VISUAL_MIN_SCORE` of the crop scaled by `s`."""
    t = cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    m = cv2.resize(mask, (t.shape[1], t.shape[0]), interpolation=cv2.INTER_NEAREST)
    if t.shape[0] >= screen.shape[0] or t.shape[1] >= screen.shape[1] or t.shape[0] < 4 or t.shape[1] < 4:
        return []
    res = cv2.matchTemplate(screen, t, cv2.TM_CCOEFF_NORMED, mask=m if (m == 0).any() else None)
    res = np.nan_to_num(res, nan=-1.0, posinf=-1.0, neginf=-1.0)
    peaks = []
    for _ in range(12):
        _, v, _, (px, py) = cv2.minMaxLoc(res)
        if v < VISUAL_MIN_SCORE:
            break
        peaks.append((v, px + t.shape[1] / 2, py + t.shape[0] / 2))
        hw, hh = max(1, t.shape[1] // 2), max(1, t.shape[0] // 2)
        res[max(0, py - hh):py + hh + 1, max(0, px - hw):px + hw + 1] = -1.0
    return peaks


_SCALE_POOL: tuple[int, ThreadPoolExecutor] | None = None


def _scale_pool() -> ThreadPoolExecutor:
    """Threads for the scales (one pool per process: a forked child gets its own)."""
    global _SCALE_POOL
    if _SCALE_POOL is None or _SCALE_POOL[0] != os.getpid():
        _SCALE_POOL = (os.getpid(), ThreadPoolExecutor(min(4, os.cpu_count() or 1), thread_name_prefix="wj-visual"))
    return _SCALE_POOL[1]


def match_template(screen: np.ndarray, crop: np.ndarray, mask: np.ndarray, expect: tuple[float, float] | None
                   ) -> tuple[float, float, float] | None:
    """Best (x, y, score) of the crop's centre on the screen over `VISUAL_SCALES` (matched
    in parallel: OpenCV releases the GIL); among peaks within 0.02 of the best, the one
    nearest `expect`."""
    if screen.size == 0 or (screen == screen[0, 0]).all():
        return None         # a blank screen: every window is flat, nothing correlates
    per_scale = _scale_pool().map(lambda s: _peaks(screen, crop, mask, s), VISUAL_SCALES)
    peaks = [p for ps in per_scale for p in ps]      # in scale order, as ties are broken by it
    if not peaks:
        return None
    top = max(p[0] for p in peaks)
    near = [p for p in peaks if p[0] >= top - 0.02]
    if expect:
        near.sort(key=lambda p: (p[1] - expect[0]) ** 2 + (p[2] - expect[1]) ** 2)
    else:
        near.sort(key=lambda p: -p[0])
    v, x, y = near[0]
    return float(x), float(y), float(v)


_TEMPLATES: dict[tuple, dict] = {}    # (video file, actions) -> {index: template}; per process
_TEMPLATES_LOCK = threading.Lock()
TEMPLATE_CACHE = 32                   # tasks whose templates are kept


class ReferenceFrames:
    """The targets' templates (`template_from_frames`: the crop at each action's
    timestamp, masked where the frame just before the pointer moved in differs), from
    the reference video decoded in one pass on first use. Templates are small and kept
    per process, keyed by the video file and the actions, so later judgments of the same
    task do not decode the video again."""

    def __init__(self, task):
        self.task, self._templates = task, None

    def _want(self) -> dict[int, tuple[float, float]]:
        want = {}
        for i, a in enumerate(self.task.spec.actions):
            if a.timestamp_s is not None and a.target.bbox:
                want[i] = (a.timestamp_s, max(0.0, a.timestamp_s - PRE_MOVE_S - 0.5 / self.task.spec.fps))
        return want

    def _frames(self, want: dict[int, tuple[float, float]]) -> dict[int, tuple[np.ndarray, np.ndarray | None]]:
        from judge.video import iter_frames

        out: dict[int, list] = {i: [None, None] for i in want}
        first = None
        for t, frame in iter_frames(self.task.video_path):
            first = t if first is None else first
            t -= first
            for i, (ta, tb) in want.items():
                if t <= ta + 1e-6:
                    out[i][0] = frame
                if t <= tb + 1e-6:
                    out[i][1] = frame
        return {i: (f[0], f[1]) for i, f in out.items() if f[0] is not None}

    def _load(self) -> dict[int, tuple[np.ndarray, np.ndarray] | None]:
        want, video = self._want(), self.task.video_path
        if not want or not video.exists():
            return {}
        st, actions = video.stat(), self.task.spec.actions
        key = (str(video.resolve()), st.st_mtime_ns, st.st_size,
               tuple((i, *want[i], tuple(actions[i].target.bbox)) for i in want))
        with _TEMPLATES_LOCK:
            if key in _TEMPLATES:
                return _TEMPLATES[key]
        tpls = {}
        for i, (f, b) in self._frames(want).items():
            tpl = template_from_frames(f, b, actions[i].target.bbox)
            tpls[i] = tpl and tuple(np.array(a) for a in tpl)   # copies: not views of whole frames
            for arr in tpls[i] or ():
                arr.setflags(write=False)                       # shared by later judgments
        with _TEMPLATES_LOCK:
            _TEMPLATES[key] = tpls
            while len(_TEMPLATES) > TEMPLATE_CACHE:
                _TEMPLATES.pop(next(iter(_TEMPLATES)))
        return tpls

    async def template(self, index: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Action `index`'s (crop, mask), or None (no bbox/timestamp/video, or a flat crop)."""
        if self._templates is None:
            self._templates = await asyncio.to_thread(self._load)
        return self._templates.get(index)


# ---- judge-model rungs ---------------------------------------------------------------------
def parse_choice(text: str, n: int) -> int | None:
    """A model's pick: `{"element": k}` (or `element: k`), `null`/`none` for no match.
    Raises ValueError for anything else (the caller re-asks)."""
    m = re.search(r"\{[^{}]*\}", text or "")
    if m:
        try:
            value = json.loads(m.group(0)).get("element", "missing")
        except (json.JSONDecodeError, AttributeError):
            value = "missing"
        if value is None:
            return None
        if isinstance(value, int) and 0 <= value < n:
            return value
    m = re.search(r"element\s*[:=]\s*(\d+|null|none)\b", text or "", re.I)
    if m and m.group(1).isdigit() and int(m.group(1)) < n:
        return int(m.group(1))
    if m and m.group(1).lower() in ("null", "none"):
        return None
    raise ValueError(f"no element number in the reply: {(text or '')[:120]!r}")


def element_list(recs: list[dict]) -> str:
    return "\n".join(f"[{i}] {ob.describe(r)}" + (f" id={r['id']}" if r.get("id") else "") for i, r in enumerate(recs))


def choice_messages(action, recs: list[dict], outline: str, screenshot: bytes | None) -> list[Message]:
    t = action.target
    hints = ", ".join(f"{k}={v!r}" for k, v in (("role", t.role), ("name", t.name), ("text", t.text)) if v)
    ask = (f"Action to perform: {action.type} -- {action.description}\n"
           + (f"Typed text: {action.text!r}\n" if action.text and action.type == "type" else "")
           + (f"Hints from the original site: {hints}\n" if hints else "")
           + "Which element of the page below does this action target? Elements (number, kind, label, box):\n"
           + element_list(recs)
           + (f"\n\nAccessibility tree:\n{outline}" if outline else "")
           + '\n\nReply with JSON only: {"element": <number>} or {"element": null} if none fits.')
    parts: list = [ask]
    if screenshot is not None:
        parts = ["The screenshot shows the page with each element's number drawn on its box.",
                 ImagePart(screenshot), ask]
    return [Message.system("You ground UI actions on web pages. Answer with the element number only."),
            Message.user(*parts)]


# ---- the ladder ------------------------------------------------------------------------------
class _Budget(Exception):
    pass


class Grounder:
    """Grounds the actions of one judgment in one page session. `judge` is an
    `agents.verify.JudgeModel` (None: rungs 4-5 are skipped); `frames` a `ReferenceFrames`."""

    def __init__(self, session, viewport: tuple[int, int], *, frames: ReferenceFrames | None = None, judge=None):
        self.s, self.vp, self.frames, self.judge = session, viewport, frames, judge
        self.calls = 0
        self._recs: list[dict] | None = None

    async def _page(self, fn, *args):
        self.calls += 1
        if self.calls > MAX_BROWSER_CALLS:
            raise _Budget()
        return await fn(self.s, *args)

    async def ground(self, index: int, action) -> dict:
        """Ground action `index`. Returns a JSON-able record: `rung` (None when grounding
        failed), `path`, `x`, `y`, `box`, `element`, `confidence`, `tried`, `model_calls`,
        `error`, `drop` (drag destination) and `ops` (state-changing calls made: reveal)."""
        self.calls, self._recs = 0, None
        res = {"rung": None, "path": None, "x": None, "y": None, "box": None, "element": "-", "confidence": 0.0,
               "tried": [], "model_calls": 0, "error": None, "drop": None, "ops": []}
        t, kind = action.target, action.type
        if kind == "wait":
            return {**res, "rung": "none", "element": "(page)"}
        if kind == "press" and t.is_empty():
            st = await ob.page_state(self.s)
            return {**res, "rung": "focused", "element": f"focused: {(st.get('focus') or {}).get('path') or 'body'}"}
        if kind == "scroll" and t.is_empty():
            x, y = await ob.window_point(self.s, action.direction or "down")
            return {**res, "rung": "window", "x": x, "y": y, "element": "(window)"}
        exclude = (action.text, action.key) if kind in ("type", "select", "press") else ()
        cues = Cues(action.description, exclude)
        if kind == "drag" and len(cues.quoted) >= 2:
            cues.quoted = cues.quoted[:1]
        try:
            hit = await self._ladder(index, action, t, cues, res)
            if hit is None and kind == "type":
                hit = await self._only_field(res)
            if hit is not None:
                await self._finalize(hit, res, reveal=True)
            if res["rung"] and kind == "drag":
                res["drop"] = await self._drop(action)
                if res["drop"] is None:
                    res.update(rung=None, error="drop target not found")
        except _Budget:
            res["tried"].append(f"stopped: more than {MAX_BROWSER_CALLS} page calls")
        if res["rung"] is None and not res["error"]:
            res["error"] = "no plausible element for: " + action.description[:120] + " (tried " \
                + "; ".join(res["tried"]) + ")"
        return res

    async def _ladder(self, index, action, t, cues, res):
        hit = await self._hints(action, t, cues)
        res["tried"].append(f"hints: {'hit ' + hit[0] if hit else 'no plausible match'}")
        if hit is None:
            hit = await self._description(action, cues)
            res["tried"].append(f"description: {'hit' if hit else 'no match'}")
        if hit is None and self.frames is not None and t.bbox and action.timestamp_s is not None:
            hit = await self._visual(index, action)
            res["tried"].append(f"visual: {'hit %.2f' % hit[2] if hit else 'no match'}")
        if hit is None and self.judge is not None:
            for rung in ("llm", "vlm"):
                res["model_calls"] += 1
                hit = await self._model(action, rung)
                res["tried"].append(f"{rung}: {'hit' if hit else 'none'}")
                if hit is not None:
                    break
        return hit

    # each rung returns (rung, record, confidence, point-or-None) or None
    async def _locate(self, locator) -> list[dict]:
        return [r for r in await self._page(ob.describe_locator, locator) if plausible(r, "", self.vp)]

    async def _fit(self, rec: dict, action) -> dict | None:
        """The record the action really goes to (a type/select action: the field itself)."""
        if not plausible(rec, action.type, self.vp):
            return None
        if action.type in ("type", "select"):
            field = rec if (rec["editable"] if action.type == "type" else rec["tag"] == "select") \
                else await self._page(ob.focus_target, rec["path"])
            ok = field and (field["editable"] if action.type == "type" else field["tag"] == "select")
            return field if ok and field.get("visible") else None
        return rec

    async def _choose(self, recs: list[dict], cues: Cues, action) -> dict | None:
        if len(recs) > 1 and cues.ordinal and len(recs) >= abs(cues.ordinal):
            recs = [recs[cues.ordinal - 1 if cues.ordinal > 0 else -1]]
        recs = sorted(recs, key=lambda r: -proximity(r, action.target.bbox, self.vp))  # stable: doc order next
        for r in recs[:3]:
            fit = await self._fit(r, action)
            if fit is not None:
                return fit
        return None

    async def _hints(self, action, t, cues):
        page = self.s.page
        agree = [a for a in (t.name, t.text, *cues.quoted) if a]
        if t.role:
            if t.name:
                recs = await self._locate(page.get_by_role(t.role, name=t.name, exact=True)) \
                    or await self._locate(page.get_by_role(t.role, name=t.name))
            else:   # a role alone names no element: every link of the page is "a link"
                recs = agreeing(await self._locate(page.get_by_role(t.role)), agree, cues, kind=False)
            pick = await self._choose(recs, cues, action) if recs else None
            if pick:
                return "hints:role", pick, 1.0, None
        for text in dict.fromkeys(x for x in (t.text, t.name) if x):
            recs = await self._locate(page.get_by_text(text, exact=True)) or await self._locate(page.get_by_text(text))
            pick = await self._choose(recs, cues, action) if recs else None
            if pick:
                return "hints:text", pick, 0.9, None
        if t.selector:
            recs = agreeing(await self._locate(page.locator(t.selector)), agree, cues, kind=True)
            pick = await self._choose(recs, cues, action) if recs else None
            if pick:
                return "hints:selector", pick, 0.7, None
        return None

    async def _elements(self) -> list[dict]:
        if self._recs is None:
            self._recs = [r for r in await self._page(ob.elements) if plausible(r, "", self.vp)]
        return self._recs

    async def _description(self, action, cues, wanted: list[str] | None = None):
        recs = await self._elements()
        if action.type == "type":
            recs = [r for r in recs if r["editable"] or r["tag"] == "label"]
        elif action.type == "select":
            recs = [r for r in recs if r["tag"] in ("select", "label")]
        if cues.ordinal and wanted is None:
            pick = pick_ordinal(recs, cues.ordinal, cues.noun, cues.role, action.target.bbox, self.vp)
            if pick is not None:
                fit = await self._fit(pick, action)
                return ("description", fit, 0.8, None) if fit else None
        hints = [x for x in (action.target.name, action.target.text) if x] if wanted is None else wanted
        for score, r in rank(recs, cues, action, self.vp, hints)[:3]:
            fit = await self._fit(r, action)
            if fit is not None:
                return "description", fit, round(min(1.0, score), 3), None
        return None

    async def _visual(self, index, action):
        tpl = await self.frames.template(index)
        if tpl is None:
            return None
        screen = await self._page(lambda s: s.screenshot())
        bx, by, bw, bh = action.target.bbox
        m = await asyncio.to_thread(match_template, screen, tpl[0], tpl[1], (bx + bw / 2, by + bh / 2))
        if m is None:
            return None
        x, y, score = m
        at = await self._page(ob.describe_at, x, y)
        rec = at and (at["interactive"] or at["hit"])
        fit = await self._fit(rec, action) if rec else None
        return ("visual", fit, round(score, 3), (x, y)) if fit else None

    async def _model(self, action, rung: str):
        recs = await self._elements()
        if rung == "vlm":
            recs = [r for r in recs if r["in_view"]][:60]
            shot = ob.set_of_marks(await self._page(lambda s: s.screenshot_png()), recs)
            outline = ""
        else:
            recs = sorted(recs, key=lambda r: (not r["why"], not r["in_view"]))[:MAX_LIST]
            recs.sort(key=lambda r: r["path"])
            shot, outline = None, await self._page(ob.aria_outline)
        if not recs:
            return None
        msgs = choice_messages(action, recs, outline, shot)
        k = await self.judge.ask(msgs, lambda text: parse_choice(text, len(recs)), f"grounding ({rung})")
        if k is None:
            return None
        fit = await self._fit(recs[k], action)
        return (rung, fit, 0.5, None) if fit else None

    async def _only_field(self, res):
        st = await self._page(ob.page_state)
        focus = st.get("focus")
        if focus and focus.get("editable"):
            rec = await self._page(ob.describe_path, focus["path"])
            if rec and rec.get("visible"):
                res["tried"].append("focused field")
                return "focused", rec, 0.3, None
        fields = [r for r in await self._elements() if r["editable"]]
        if len(fields) == 1:
            res["tried"].append("the only field")
            return "only-field", fields[0], 0.3, None
        return None

    async def _finalize(self, hit, res, reveal: bool) -> None:
        rung, rec, conf, point = hit
        if point is None:
            if reveal and await self._page(ob.reveal, rec["path"]):
                res["ops"].append({"op": "reveal", "path": rec["path"]})
                rec = await self._page(ob.describe_path, rec["path"]) or rec
            cp = await self._page(ob.click_point, rec["path"])
            if cp is None:
                res["error"] = f"{ob.describe(rec)} has no visible area"
                return
            point, rec = (cp["x"], cp["y"]), {**rec, "box": cp["box"], "covered": cp["covered"]}
        res.update(rung=rung, path=rec["path"], x=round(point[0], 2), y=round(point[1], 2), box=rec["box"],
                   element=ob.describe(rec), confidence=conf)

    async def _drop(self, action) -> dict | None:
        t2 = action.to_target
        quotes = quoted_strings(action.description)
        hit = await self._hints(action.model_copy(update={"type": "hover", "target": t2}), t2, Cues("")) if t2 else None
        if hit is None and len(quotes) >= 2:
            hit = await self._description(action.model_copy(update={"type": "hover", "target": t2 or action.target}),
                                          Cues(""), wanted=[quotes[-1]])
        if hit is None:
            return None
        out: dict = {"ops": []}
        await self._finalize(hit, out, reveal=False)   # revealing it could scroll the source away
        return out if out.get("rung") else None
