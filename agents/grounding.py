"""The grounding ladder: where in the candidate page an action lands.

Rungs propose candidates with evidence; the decision and every candidate considered
(element, source, score, evidence) are logged per step (`candidates`, `decision`):

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
   With a relation ("the checkbox next to 'Buy milk'", "the × on the right of 'X'", "the
   Edit link in the row of 'Alice'"), the quoted text is an anchor: candidates of the
   described kind are ranked by their relation to it (`agents.cues.rank_related`), and a
   role-only or selector hint must agree with that ranking. A container never beats a
   descendant that matches as well. When nothing matches and the description names a
   glyph ("the small × icon"), icon-only controls are compared with that glyph's shape
   (`agents.visual_match.glyph_score`).
3. `visual` -- the target's crop from the reference video at the action's timestamp
   (`target.bbox`, pixels that differ from the frame before the pointer moved in are
   masked out: the pointer), matched multi-scale on the candidate's screenshot
   (`cv2.TM_CCOEFF_NORMED` >= `VISUAL_MIN_SCORE`), then the element at that point.
4. `llm` -- a judge model picks one of the numbered interactive elements (with the
   page's ARIA snapshot); 5. `vlm` -- the same on a numbered set-of-marks screenshot.
   Both only when a judge model is configured. The elements the deterministic rungs
   considered come first in the list, each with its score and evidence; a weak (<
   `STRONG_TEXT`) or close (runner-up within `AMBIGUOUS`) text decision is also put to
   the model (`llm`), which may confirm it or pick another candidate.

The visual rung is also tried when the text rungs found only a weak candidate (score <
`STRONG_TEXT`): a strong visual match (>= `VISUAL_OVER_TEXT`) of an element that fits
the action then wins over it. A hit is *plausible* when it is visible (rendered, or
reached by a real click on its box -- an invisible native input under the label that
draws it), not clipped away, not a page-sized container, and fits the action: `type` needs an editable field (a label or wrapper
resolves to its field), `select` a `<select>`. Ties between equally good elements go
to the one nearest the target's position in the reference video, then document order.
Page-level actions need no element: `wait`; `press` without target hints and without a
quoted target in its description (the focused element receives it: rung `focused`; a
grounded `press` focuses its element first, clicking it only if it takes no focus); `scroll` without target hints (rung `window`: a
point whose scroll chain leaves the window to scroll). A chosen element is scrolled into
view (recorded as a `reveal` op, replayed on resume) and clicked at a point that
hit-tests to it. At most `MAX_BROWSER_CALLS` page calls are made per action.

One module (~520 lines): the rungs share the candidate log, the page-call budget and the
decision rules; each rung is a method of `Grounder` so one decision sees them all.
"""
from __future__ import annotations

import asyncio
import json
import re

from agents import observe as ob
from agents.cues import (Cues, drop_place, agreeing, keyword_hit, pick_ordinal, plausible, proximity, quoted_strings,
                         rank_evidence, text_score)
from agents.providers.base import ImagePart, Message
from agents.visual_match import GLYPH_MIN, GLYPHS, ReferenceFrames, glyph_score, match_template

MAX_BROWSER_CALLS = 20
MAX_LIST = 120             # elements shown to a judge model
STRONG_TEXT = 0.7          # a text-rung score below this lets the visual rung (and a judge model) weigh in
AMBIGUOUS = 0.02           # a runner-up this close makes the text decision a judge model's call, when configured
VISUAL_OVER_TEXT = 0.9     # a visual match this strong wins over a weak text candidate
MAX_LOGGED = 8             # candidates logged per rung
_INSIDE = re.compile(r"\b(in|inside|within|of)\s+(the\s+)?([\w'\"-]+\s+){0,3}(panel|list|box|sidebar|section|area|"
                     r"container|pane|feed|chat|table|menu|dropdown|column|thread|log|window|modal|dialog|drawer)\b", re.I)
_GENERIC = set("new top bottom left right main first last current empty other small big large".split())


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


def element_list(recs: list[dict], evidence: dict[str, list[dict]] | None = None) -> str:
    """One line per element; the deterministic rungs' candidates carry their evidence."""
    def ev(r: dict) -> str:
        items = (evidence or {}).get(r["path"]) or []
        return "".join(f"  <- {c['source']} score {c['score']:.2f} {json.dumps(c['evidence'], sort_keys=True)}"
                       for c in items)
    return "\n".join(f"[{i}] {ob.describe(r)}" + (f" id={r['id']}" if r.get("id") else "") + ev(r)
                     for i, r in enumerate(recs))


def choice_messages(action, recs: list[dict], outline: str, screenshot: bytes | None,
                    evidence: dict[str, list[dict]] | None = None) -> list[Message]:
    t = action.target
    hints = ", ".join(f"{k}={v!r}" for k, v in (("role", t.role), ("name", t.name), ("text", t.text)) if v)
    ask = (f"Action to perform: {action.type} -- {action.description}\n"
           + (f"Typed text: {action.text!r}\n" if action.text and action.type == "type" else "")
           + (f"Hints from the original site: {hints}\n" if hints else "")
           + "Which element of the page below does this action target? Elements (number, kind, label, box; "
           + "the deterministic grounding's candidates first, each with its evidence after '<-'):\n"
           + element_list(recs, evidence)
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

    def __init__(self, session, viewport: tuple[int, int], *, frames: ReferenceFrames | None = None, judge=None,
                 moved_focus: str | None = None):
        self.s, self.vp, self.frames, self.judge = session, viewport, frames, judge
        self.moved_focus = moved_focus      # the field the previous step focused (an editor it opened)
        self.calls = 0
        self._recs: list[dict] | None = None
        self._cand: dict[str, dict] = {}     # path -> record of every logged candidate

    async def _page(self, fn, *args):
        self.calls += 1
        if self.calls > MAX_BROWSER_CALLS:
            raise _Budget()
        return await fn(self.s, *args)

    async def ground(self, index: int, action) -> dict:
        """Ground action `index`. Returns a JSON-able record: `rung` (None when grounding
        failed), `path`, `x`, `y`, `box`, `element`, `confidence`, `tried`, `candidates`
        (every candidate considered: element, path, source, score, evidence), `decision`
        (why the winner won), `model_calls`, `error`, `drop` (drag destination) and `ops`
        (state-changing calls made: reveal)."""
        self.calls, self._recs, self._cand = 0, None, {}
        res = {"rung": None, "path": None, "x": None, "y": None, "box": None, "element": "-", "confidence": 0.0,
               "tried": [], "candidates": [], "decision": None, "model_calls": 0, "error": None, "drop": None, "ops": []}
        t, kind = action.target, action.type
        if kind == "wait":
            return {**res, "rung": "none", "element": "(page)"}
        if kind == "press" and t.is_empty() and not Cues(action.description, (action.key,)).quoted:
            st = await ob.page_state(self.s)
            return {**res, "rung": "focused", "element": f"focused: {(st.get('focus') or {}).get('path') or 'body'}"}
        if kind == "scroll" and t.is_empty():
            inner = await self._container(action, res) if _INSIDE.search(action.description) else None
            if inner is not None:
                return inner
            x, y = await ob.window_point(self.s, action.direction or "down")
            return {**res, "rung": "window", "x": x, "y": y, "element": "(window)"}
        exclude = (action.text, action.key) if kind in ("type", "select", "press") else ()
        cues = Cues(action.description, exclude, kind)
        if kind == "drag" and len(cues.quoted) >= 2:
            cues.quoted = cues.quoted[:1]
        if kind == "drag" and cues.anchor:      # "drag 'X' above 'Y'": Y is the drop place, not an anchor
            cues = Cues(action.description.split(cues.anchor)[0], exclude, kind)
        try:
            hit = await self._ladder(index, action, t, cues, res)
            if hit is None and kind == "type":
                hit = await self._only_field(res, cues)
            if hit is not None:
                await self._finalize(hit, res, reveal=True)
            if res["rung"] and kind == "drag":
                res["drop"] = await self._drop(action, res)
                if res["drop"] is None:
                    res.update(rung=None, error="drop target not found")
        except _Budget:
            res["tried"].append(f"stopped: more than {MAX_BROWSER_CALLS} page calls")
        if res["rung"] is None and not res["error"]:
            res["error"] = "no plausible element for: " + action.description[:120] + " (tried " \
                + "; ".join(res["tried"]) + ")"
        return res

    async def _container(self, action, res: dict) -> dict | None:
        """"Scroll down inside the comments panel": the scroll container the description
        names (its label, heading, name, classes or text), or the only one there is; the
        pointer goes to its centre so the wheel scrolls it."""
        from agents.cues import keyword_score, text_score

        boxes = await ob.scrollers(self.s, action.direction or "down")
        if not boxes:
            return None
        cues = Cues(action.description)
        words = cues.keywords - {"panel", "list", "box", "area", "container", "pane", "section", "inside", "down", "up"}
        def fit(r: dict) -> float:
            named = {**r, "text": f"{r.get('label', '')} {r['text'][:80]}"}
            return (keyword_score(named, words) if words else 0.0) + (text_score(r, cues.quoted) if cues.quoted else 0.0)
        scored = [(fit(r), r) for r in boxes]
        scored.sort(key=lambda p: -p[0])
        if scored[0][0] <= 0 and len(boxes) > 1:
            return None
        score, r = scored[0]
        self._log(res, "container", [(s, b, {"label": b.get("label"), "keywords": round(s, 3)}) for s, b in scored])
        res["decision"] = (f"the scroll container the description names ({score:.2f})" if score > 0
                           else "the page's only scroll container that can move that way")
        x, y = r["point"]
        return {**res, "rung": "container", "path": r["path"], "x": round(x, 2), "y": round(y, 2), "box": r["box"],
                "element": ob.describe(r), "confidence": round(min(1.0, 0.5 + score / 2), 3)}

    def _log(self, res: dict, source: str, scored) -> None:
        """Add candidates (score, record[, evidence]) to the step's log."""
        for item in list(scored)[:MAX_LOGGED]:
            score, rec = item[0], item[1]
            self._cand[rec["path"]] = rec
            res["candidates"].append({"source": source, "score": round(float(score), 3), "path": rec["path"],
                                      "element": ob.describe(rec), "evidence": item[2] if len(item) > 2 else {}})

    async def _ladder(self, index, action, t, cues, res):
        hit = await self._hints(action, t, cues, res)
        res["tried"].append(f"hints: {'hit ' + hit[0] if hit else 'no plausible match'}")
        if hit is not None:
            self._log(res, hit[0], [(hit[2], hit[1], {"hint": hit[0].split(":")[1]})])
            res["decision"] = f"{hit[0]}: the target hints name the element" + \
                (" and it stands in the described relation" if cues.anchor and hit[0] != "hints:role" else "")
            return hit
        hit = await self._description(action, cues, res=res)
        res["tried"].append(f"description: {'hit %.2f' % hit[2] if hit else 'no match'}")
        weak = hit is None or hit[2] < STRONG_TEXT
        if weak and self.frames is not None and t.bbox and action.timestamp_s is not None:
            vis = await self._visual(index, action, res)
            res["tried"].append(f"visual: {'hit %.2f' % vis[2] if vis else 'no match'}")
            if vis is not None and hit is not None and vis[4] > 1 and hit[1]["path"] != vis[1]["path"] and cues.anchor:
                # identical icons in every row: the picture says what, the relation says which one
                res["tried"].append(f"visual: the picture is at {vis[4]} places; the described relation says which")
            elif vis is not None and (hit is None or vis[2] >= VISUAL_OVER_TEXT):
                res["decision"] = (f"visual match {vis[2]:.2f} at the reference position" +
                                   (f" over a weak text candidate ({hit[2]:.2f})" if hit else "") +
                                   (f" (nearest of {vis[4]} look-alikes)" if vis[4] > 1 else ""))
                return vis[:4]
        if hit is not None:
            others = sorted((c for c in res["candidates"] if c["path"] != hit[1]["path"]), key=lambda c: -c["score"])
            runner = f"; next best {others[0]['score']:.2f}: {others[0]['element']}" if others else "; no other candidate"
            close = bool(others) and others[0]["score"] >= hit[2] - AMBIGUOUS
            if self.judge is not None and not res["decision"] and (hit[2] < STRONG_TEXT or close):
                # a weak or close call: the judge model decides, shown the same candidates and evidence
                res["model_calls"] += 1
                pick = await self._model(action, "llm", res)
                res["tried"].append(f"llm (to decide a {'close' if close else 'weak'} call): {'hit' if pick else 'none'}")
                if pick is not None:
                    res["decision"] = (f"llm: the judge model chose among the candidates (deterministic best "
                                       f"{hit[2]:.2f}{runner})")
                    return pick
            res["decision"] = res["decision"] or (f"description: best of {len(res['candidates'])} candidates "
                                                  f"({hit[2]:.2f}{runner})")
            return hit
        if self.judge is not None:
            for rung in ("llm", "vlm"):
                res["model_calls"] += 1
                hit = await self._model(action, rung, res)
                res["tried"].append(f"{rung}: {'hit' if hit else 'none'}")
                if hit is not None:
                    res["decision"] = f"{rung}: the judge model picked it from the candidate list"
                    return hit
        return None

    # each rung returns (rung, record, confidence, point-or-None) or None
    async def _locate(self, locator) -> list[dict]:
        return [r for r in await self._page(ob.describe_locator, locator) if plausible(r, "", self.vp)]

    async def _fit(self, rec: dict, action) -> dict | None:
        """The record the action really goes to (a type/select action: the field itself; a
        click on a <label> of a text field or combobox: that control -- "click the country
        dropdown" found by its label's text; a checkbox's label is itself what users click)."""
        if not plausible(rec, action.type, self.vp):
            return None
        if action.type in ("click", "dblclick", "hover") and rec["tag"] == "label":
            ctl = await self._page(ob.focus_target, rec["path"])
            if ctl and ctl.get("visible") and ctl["role"] not in ("checkbox", "radio", "switch") \
                    and ctl["type"] not in ("checkbox", "radio", "file"):
                return ctl
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

    async def _hints(self, action, t, cues, res=None):
        page = self.s.page
        agree = [a for a in (t.name, t.text, *cues.quoted) if a]
        if t.role:
            if t.name:
                recs = await self._locate(page.get_by_role(t.role, name=t.name, exact=True)) \
                    or await self._locate(page.get_by_role(t.role, name=t.name))
                if len(recs) > 1 and cues.anchor:    # several 'Reply' buttons: the one under 'Comment 2'
                    recs = await self._agreeing(recs, [], cues, action, False)
            else:   # a role alone names no element: every link of the page is "a link"
                recs = await self._agreeing(await self._locate(page.get_by_role(t.role)), agree, cues, action, False)
            pick = await self._choose(recs, cues, action) if recs else None
            if pick:
                return "hints:role", pick, 1.0, None
        for text in dict.fromkeys(x for x in (t.text, t.name) if x):
            recs = await self._locate(page.get_by_text(text, exact=True)) or await self._locate(page.get_by_text(text))
            pick = await self._choose(recs, cues, action) if recs else None
            if pick:
                return "hints:text", pick, 0.9, None
        if t.selector:
            recs = await self._agreeing(await self._locate(page.locator(t.selector)), agree, cues, action, True)
            pick = await self._choose(recs, cues, action) if recs else None
            if pick:
                return "hints:selector", pick, 0.7, None
        return None

    async def _agreeing(self, recs, agree, cues, action, kind: bool):
        """Hits of a hint that does not pick one element by itself (a role alone, a reference
        selector, a name several elements share) that agree with the description: with a
        relation, the best related candidates (within `AMBIGUOUS`); else `agents.cues.agreeing`."""
        if not recs:
            return []
        if cues.anchor and (not agree or not [a for a in (action.target.name, action.target.text) if a]):
            ranked = rank_evidence(await self._elements(), cues, action, self.vp)
            if not ranked:
                return []
            top = ranked[0][0]
            good = {r["path"] for s, r, _ in ranked if s >= top - AMBIGUOUS}
            return [r for r in recs if r["path"] in good]
        return agreeing(recs, agree, cues, kind=kind)

    async def _elements(self) -> list[dict]:
        if self._recs is None:
            self._recs = [r for r in await self._page(ob.elements) if plausible(r, "", self.vp)]
        return self._recs

    async def _description(self, action, cues, wanted: list[str] | None = None, res=None):
        recs = await self._elements()
        if action.type == "type":
            recs = [r for r in recs if r["editable"] or r["tag"] == "label" or (cues.anchor and r["why"])
                    or (not r["why"] and cues.anchor)]
        elif action.type == "select":
            recs = [r for r in recs if r["tag"] in ("select", "label") or cues.anchor]
        if cues.ordinal and wanted is None and not cues.anchor:
            pick = pick_ordinal(recs, cues.ordinal, cues.noun, cues.role, action.target.bbox, self.vp)
            if pick is not None:
                fit = await self._fit(pick, action)
                if res is not None:
                    self._log(res, "description:ordinal", [(0.8, pick, {"ordinal": cues.ordinal, "noun": cues.noun})])
                return ("description", fit, 0.8, None) if fit else None
        hints = [x for x in (action.target.name, action.target.text) if x] if wanted is None else wanted
        ranked = rank_evidence(recs, cues, action, self.vp, hints)
        if not ranked and hints and wanted is None:   # the reference's label may not exist here (an icon-only arrow)
            ranked = rank_evidence(recs, cues, action, self.vp, [])
        if action.type in ("type", "select") and cues.anchor:
            ranked = [p for p in ranked if p[1]["editable"] or p[1]["tag"] in ("select", "label")] or ranked
        if not ranked and wanted is None and not cues.quoted and set(GLYPHS) & cues.keywords:
            ranked = await self._glyphs(recs, cues)
        if res is not None:
            self._log(res, "description:relation" if cues.anchor else "description", ranked)
        for score, r, _ in ranked[:3]:
            fit = await self._fit(r, action)
            if fit is not None:
                return "description", fit, round(min(1.0, score), 3), None
        return None

    async def _glyphs(self, recs: list[dict], cues) -> list[tuple[float, dict, dict]]:
        """Icon-only controls (no text, nothing in their name or classes matched) whose drawing
        looks like the glyph the description names ("the small × icon"): the best one when it
        clears `GLYPH_MIN` and looks more like that glyph than like any other by 0.05."""
        names = set(GLYPHS) & cues.keywords
        icons = [r for r in recs if r["why"] and r["in_view"] and not (r.get("text") or "").strip()
                 and 4 <= r["box"][2] <= 80 and 4 <= r["box"][3] <= 80]
        if not icons:
            return []
        shot = await self._page(lambda s: s.screenshot())
        out = []
        for r in icons:
            x, y, w, h = (int(round(v)) for v in r["box"])
            crop = shot[max(0, y):y + h, max(0, x):x + w]
            score, ch = glyph_score(crop, names)
            other = max(glyph_score(crop, {n})[0] for n in GLYPHS if n not in names and not set(GLYPHS[n]) & set(ch))
            if score >= GLYPH_MIN and score >= other + 0.05:
                out.append((round(0.4 + 0.4 * score, 3), r, {"glyph": ch, "glyph_score": score, "other_glyphs": other}))
        out.sort(key=lambda p: -p[0])
        return out

    async def _visual(self, index, action, res=None):
        tpl = await self.frames.template(index)
        if tpl is None:
            return None
        screen = await self._page(lambda s: s.screenshot())
        bx, by, bw, bh = action.target.bbox
        m = await asyncio.to_thread(match_template, screen, tpl[0], tpl[1], (bx + bw / 2, by + bh / 2))
        if m is None:
            return None
        x, y, score, places = m
        at = await self._page(ob.describe_at, x, y)
        rec = at and (at["interactive"] or at["hit"])
        fit = await self._fit(rec, action) if rec else None
        if res is not None and rec:
            self._log(res, "visual", [(score, rec, {"template": round(score, 3), "point": [round(x), round(y)],
                                                    "places": places, "fits_action": fit is not None})])
        return ("visual", fit, round(score, 3), (x, y), places) if fit else None

    async def _model(self, action, rung: str, res=None):
        recs = await self._elements()
        evidence: dict[str, list[dict]] = {}
        for c in (res or {}).get("candidates", []):
            evidence.setdefault(c["path"], []).append(c)
        first = [self._cand[p] for p in evidence if p in self._cand]      # the same candidates, first
        rest = [r for r in recs if r["path"] not in evidence]
        if rung == "vlm":
            recs = (first + [r for r in rest if r["in_view"]])[:60]
            shot = ob.set_of_marks(await self._page(lambda s: s.screenshot_png()), recs)
            outline = ""
        else:
            rest = sorted(rest, key=lambda r: (not r["why"], not r["in_view"]))[:max(0, MAX_LIST - len(first))]
            rest.sort(key=lambda r: r["path"])
            recs = first + rest
            shot, outline = None, await self._page(ob.aria_outline)
        if not recs:
            return None
        msgs = choice_messages(action, recs, outline, shot, evidence)
        k = await self.judge.ask(msgs, lambda text: parse_choice(text, len(recs)), f"grounding ({rung})")
        if k is None:
            return None
        fit = await self._fit(recs[k], action)
        return (rung, fit, 0.5, None) if fit else None

    async def _only_field(self, res, cues: Cues):
        """The focused field, or the page's only field, when nothing better was found --
        but only if it does not contradict the description: a named field ("the 'Email'
        field", "the edit field") must show that name somewhere (label, placeholder,
        id/class), else the text would land in another box."""
        def agrees(rec: dict) -> bool:
            if cues.quoted and max((text_score(rec, [q]) for q in cues.quoted), default=0) < 0.75:
                return False
            named = {k for k in cues.keywords if k not in _GENERIC}
            return not named or any(keyword_hit(rec, k) for k in named)

        st = await self._page(ob.page_state)
        focus = st.get("focus")
        if focus and focus.get("editable"):
            rec = await self._page(ob.describe_path, focus["path"])
            if rec and rec.get("visible") and focus["path"] == self.moved_focus:
                res["tried"].append("the field the previous step opened and focused")
                res["decision"] = "the focused field: the previous step opened it (an inline editor)"
                return "focused", rec, 0.4, None
            if rec and rec.get("visible") and agrees(rec):
                res["tried"].append("focused field")
                res["decision"] = "the focused field: no candidate matched the description, and it does not contradict it"
                return "focused", rec, 0.3, None
        fields = [r for r in await self._elements() if r["editable"]]
        if len(fields) == 1:
            if not agrees(fields[0]):
                res["tried"].append(f"the only field ({ob.describe(fields[0])}) does not match the description")
                return None
            res["tried"].append("the only field")
            res["decision"] = "the page's only field: no candidate matched the description, and it does not contradict it"
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

    async def _drop(self, action, src: dict) -> dict | None:
        """Where a drag ends. The destination is the `to_target` hint, else the last quote
        ("drag 'Carrots' above 'Apples'"), else the edge of the dragged item's own list
        ("to the top of the list"). The words before it say which side of the destination
        the item goes (`cues.drop_place`): the pointer is released in that quarter of its
        box (the side a sortable list reads the drop from), or at its centre for "onto"."""
        t2 = action.to_target
        quotes = quoted_strings(action.description)
        side, edge = drop_place(action.description)
        hit = await self._hints(action.model_copy(update={"type": "hover", "target": t2}), t2, Cues("")) if t2 else None
        if hit is None and len(quotes) >= 2:
            hit = await self._description(action.model_copy(update={"type": "hover", "target": t2 or action.target}),
                                          Cues(""), wanted=[quotes[-1]])
        if hit is None and edge and src.get("path"):
            lst = await self._page(ob.list_items, src["path"])
            if lst and lst["items"]:
                item = lst["items"][0 if edge == "first" else -1][0]
                rec = await self._page(ob.describe_path, item)
                hit = ("list edge", rec, 0.8, None) if rec else None
        if hit is None:
            return None
        out: dict = {"ops": []}
        await self._finalize(hit, out, reveal=False)   # revealing it could scroll the source away
        if not out.get("rung"):
            return None
        if side != "on":
            x, y, w, h = out["box"]
            sx, sy, sw, sh = src.get("box") or (out["x"], out["y"], 0, 0)
            across = abs((sy + sh / 2) - (y + h / 2)) < min(h, sh or h) / 2 and abs((sx + sw / 2) - (x + w / 2)) > w / 2
            f = 0.25 if side == "before" else 0.75
            px, py = (x + w * f, out["y"]) if across else (out["x"], y + h * f)
            if 0 <= px < self.vp[0] and 0 <= py < self.vp[1]:
                out.update(x=round(px, 2), y=round(py, 2), side=side)
        return out
