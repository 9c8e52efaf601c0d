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
import re

from agents import observe as ob
from agents.cues import Cues, agreeing, pick_ordinal, plausible, proximity, quoted_strings, rank
from agents.providers.base import ImagePart, Message
from agents.visual_match import ReferenceFrames, match_template

MAX_BROWSER_CALLS = 20
MAX_LIST = 120             # elements shown to a judge model


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
