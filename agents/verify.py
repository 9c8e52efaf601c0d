"""Verifying one replayed action, and the judge model's roles (assertions, rubric).

A step *passes* when it was executed (grounded and performed without error) and its
verdict holds. Verdicts, each with its `source`:

- no assertion: `rule:executed` (IWR-Bench: an executed action passes); a `type` action
  must also leave its text in a field (`rule:typed`).
- `scroll`: only if a scroll offset (window or a container under the pointer) moved in
  the asked direction (`rule:scroll-direction`); IWR-Bench accepted any scrollY change.
- quoted text in the assertion (`rule:quoted-text`, decisive): each quoted string is
  expected present, or absent when its clause negates it ("no longer shows", "does not
  show", "is removed", "instead of", "from X to ..."). Present = in the rendered visible
  text (`agents.observe`), case- and space-insensitive, word-bounded, else in the OCR of
  the after-screenshot. A text that was already shown, in the same elements, before the
  action proves nothing, nor does the absence of a text that was never shown (unless the
  assertion says "still"/"remains"): when no quoted text newly appeared or vanished, the
  assertion is left to the next rule.
- appear / disappear wording without quotes (`rule:appeared`, `rule:disappeared`): some
  element became visible / hidden.
- state wording about the target ("highlighted", "selected", "checked", ...): the pixels
  around the target, or its checked/pressed state, changed (`rule:target-changed`).
- otherwise: with a judge model, `llm:<provider/model>` on before/after screenshots with
  the reference checkpoint labelled as such; offline, `rule:executed-changed` -- passes
  iff something visible changed (pixels, visible text, field values, scroll). This is
  the documented offline default; nothing passes "because unknown".

Failing rules are decisive. Passing weak rules (appeared, target-changed,
executed-changed) are confirmed by the judge model when one is configured.
A judge-model failure (API down, timeouts, malformed replies after the re-asks) raises
`judge.score.JudgeError`: an infrastructure error, never a page failure.

One module (~510 lines): the rules run in one order over one pair of observations and
return the first verdict that decides; splitting them would split that order.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, dataclass

import numpy as np

from agents.cache import ResponseCache, cached_complete
from agents.providers.base import GenerationConfig, ImagePart, Message, ProviderError
from agents.providers.cost import BudgetExceeded
from judge.errors import JudgeError

CHANGED_LEVEL = 24        # per-channel difference (0-255) that counts as a changed pixel
MIN_CHANGED_PX = 30       # changed pixels that count as a visible change (a caret is ~17)
TARGET_MARGIN = 8         # px around the target box for "the target changed"
SHORT_QUOTE = 3           # words: a quote this short is a name that may sit inside a longer line

_NEG = re.compile(r"\b(no longer|not|never|without|no|none of|n't|instead of|rather than|except|excluding|other than|"
                  r"apart from|replac\w*|remov\w*|delet\w*|"
                  r"disappear\w*|vanish\w*|gone|hidden|hides?|clear\w*|dismiss\w*)\b|n't\b", re.I)
_STILL = re.compile(r"\b(still|remains?|stays?|keeps?|continues? to|unchanged)\b", re.I)
_APPEAR = re.compile(r"\b(appears?|appeared|opens?|opened|pops? up|shows? up|becomes? visible|(is|are) (now )?"
                     r"(visible|displayed|shown|open|expanded)|expands?|drops? down|reveal\w*)\b", re.I)
_DISAPPEAR = re.compile(r"\b(disappears?|closes?|closed|collapses?|(is|are) (now )?(hidden|gone|removed|dismissed|"
                        r"collapsed)|hides?|vanish\w*)\b", re.I)
_STATE = re.compile(r"\b(highlight\w*|selected|checked|unchecked|active|activated|filled|colou?red|toggled|pressed|"
                    r"enabled|disabled|underlined|bold|lit|marked|starred|turns?|changes? colou?r)\b", re.I)
_QUOTE = re.compile(r'"([^"]+)"|“([^”]+)”|‘([^’]+)’|«([^»]+)»|(?<![A-Za-z0-9])\'([^\']+)\'(?![A-Za-z0-9])')


@dataclass
class Verdict:
    passed: bool
    source: str
    reason: str
    weak: bool = False      # a passing heuristic that a judge model should confirm

    def to_dict(self) -> dict:
        return asdict(self)


# ---- the judge model -------------------------------------------------------------------------
class JudgeModel:
    """A provider model in a judge role: bounded re-asks on malformed replies, refusals
    and timeouts (each re-ask uses a new seed, hence a new cache key), then `JudgeError`."""

    def __init__(self, model, *, cache: ResponseCache | None = None, meter=None, timeout_s: float = 120.0,
                 attempts: int = 3):
        self.model, self.cache, self.meter = model, cache, meter     # meter: the run's CostMeter (budget)
        self.timeout_s, self.attempts = timeout_s, max(1, attempts)
        self.calls = self.cached = 0
        self.cost_usd = 0.0

    @property
    def spec(self) -> str:
        return getattr(self.model, "spec", str(self.model))

    async def ask(self, messages, parse, what: str):
        last = "no attempt"
        for attempt in range(self.attempts):
            config = GenerationConfig(temperature=0.0, seed=attempt or None)
            try:
                comp = await asyncio.wait_for(cached_complete(self.model, messages, config, self.cache, self.meter), self.timeout_s)
            except asyncio.TimeoutError:
                last = f"no reply within {self.timeout_s:g} s"
                continue
            except (ProviderError, BudgetExceeded) as e:
                raise JudgeError(f"{what}: judge model {self.spec} failed: {e}") from None
            self.calls += 1
            self.cached += comp.cached
            self.cost_usd += comp.cost_usd or 0.0
            if comp.filtered:
                last = f"reply refused/filtered ({comp.stop_reason})"
                continue
            try:
                return parse(comp.text)
            except ValueError as e:
                last = f"malformed reply: {e}"
        raise JudgeError(f"{what}: judge model {self.spec} failed after {self.attempts} attempts: {last}")

    def usage(self) -> dict:
        return {"model": self.spec, "calls": self.calls, "cached": self.cached, "cost_usd": round(self.cost_usd, 6)}


def parse_verdict(text: str) -> bool:
    m = re.search(r"verdict\W{0,4}\s*(yes|no|pass|fail|true|false)\b", text or "", re.I) \
        or re.match(r"\W*(yes|no)\b", text or "", re.I)
    if not m:
        raise ValueError(f"no 'Verdict: YES/NO' in the reply: {(text or '')[:120]!r}")
    return m.group(1).lower() in ("yes", "pass", "true")


def parse_rubric(text: str) -> float:
    """`Score: N/100` (the last one) -> N in [0, 100]."""
    found = re.findall(r"score\W{0,4}\s*(\d+(?:\.\d+)?)\s*(?:/\s*100)?", text or "", re.I)
    if not found or not 0 <= float(found[-1]) <= 100:
        raise ValueError(f"no 'Score: N/100' in the reply: {(text or '')[:120]!r}")
    return float(found[-1])


RUBRIC = ("Compare the CANDIDATE screenshot of a generated web page with the REFERENCE screenshot of the original "
          "page in the same state. Score visual fidelity out of 100: layout 10, elements 15, content/text 40, "
          "style 15, overall 20. Explain briefly, then end with 'Score: N/100'.")


async def rubric_score(judge: JudgeModel, ref_png: bytes, cand_png: bytes, label: str) -> float:
    msgs = [Message.system("You are a strict judge of visual fidelity between web pages."),
            Message.user(RUBRIC, "REFERENCE:", ImagePart(ref_png), "CANDIDATE:", ImagePart(cand_png))]
    return await judge.ask(msgs, parse_rubric, f"visual rubric ({label})")


async def llm_verdict(judge: JudgeModel, action, assertion: str, before_png: bytes, after_png: bytes,
                      ref_png: bytes | None, text_diff: str) -> Verdict:
    parts: list = [f"A test replays user actions on a generated web page. Action: {action.type} -- "
                   f"{action.description}\nAssertion to check on the page under test: {assertion}\n"
                   f"Visible-text change: {text_diff or '(none)'}",
                   "BEFORE the action (page under test):", ImagePart(before_png),
                   "AFTER the action (page under test):", ImagePart(after_png)]
    if ref_png:
        parts += ["REFERENCE (the original site after this action; for context only -- styles may differ, "
                  "judge the page under test):", ImagePart(ref_png)]
    parts.append("Does the assertion hold on the page under test AFTER the action? Reply 'Verdict: YES' or "
                 "'Verdict: NO', then one sentence why.")
    msgs = [Message.system("You verify steps of interaction tests on web pages."), Message.user(*parts)]
    ok = await judge.ask(msgs, parse_verdict, "assertion check")
    return Verdict(ok, f"llm:{judge.spec}", "judge model: " + ("holds" if ok else "does not hold"))


# ---- deterministic checks --------------------------------------------------------------------
def _n(s: str) -> str:
    return re.sub(r"\s+", " ", s or "").strip().casefold()


def in_view(items: list) -> list[tuple[str, str]]:
    """The visible-text items a user can see without scrolling: [path, text, in_view, top,
    left] items with in_view set ([path, text] items, from older observations, count as seen)."""
    return [(it[0], it[1]) for it in items if len(it) < 3 or it[2]]


def _ws(s: str) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def find_text(items: list, q: str, anywhere: bool = False, any_case: bool = False) -> set[str]:
    """Paths of the visible-text items in the viewport (`anywhere`: also those scrolled
    out of it) containing `q` (word-bounded at alphanumeric ends; a phrase split over
    several text nodes is found in the joined text, path '*'). Case counts -- "2 of 5
    selected" is not "2 OF 5 SELECTED" written by a page that transforms text (the text
    read is the DOM's, before CSS `text-transform`) -- except for a quote in capitals
    (the annotator copied a heading styled in caps) or `any_case` (OCR of text drawn on a
    canvas, used only when the DOM shows the text in no letter case at all)."""
    q = _ws(q)
    if not q:
        return set()
    items = [(it[0], it[1]) for it in items] if anywhere else in_view(items)
    pat = re.compile((r"(?<![A-Za-z0-9])" if q[0].isalnum() else "") + re.escape(q)
                     + (r"(?![A-Za-z0-9])" if q[-1].isalnum() else ""), re.I)

    def found(text: str) -> bool:
        for m in pat.finditer(_ws(text)):
            if any_case or m.group(0) == q or q.isupper():
                return True
        return False

    hits = {p for p, t in items if found(t)}
    joined = " ".join(t for _, t in items)
    if not hits and found(joined):
        hits = {"*"}
    if not hits and len(q) >= 8:   # a phrase split over inline nodes ("link to <b>x</b>.") joins with extra spaces
        squeezed = re.sub(r"\s+", "", joined)
        i = squeezed.casefold().find(re.sub(r"\s+", "", q).casefold())
        if i >= 0:
            seg = squeezed[i:i + len(re.sub(r"\s+", "", q))]
            if any_case or seg == re.sub(r"\s+", "", q) or q.isupper():
                hits = {"*"}
    return hits


_RUN = re.compile(r"\x00\d+\x00(?:\s*(?:,\s*(?:and|or)?|and|or)\s*\x00\d+\x00)+")
_NEG_AFTER = re.compile(r"\s*(was|were|used to be|stood)\s*(before|earlier)?\s*($|[;,.)])|"
                        r"\s*(is|are|were|was|gets?|have been|has been|stays?|remains?)?\s*(no longer|not|removed|deleted|gone|hidden|"
                        r"cleared|dismissed|filtered out|filtered away|excluded|dropped)\b|\s*(disappears?|vanish\w*)",
                        re.I)


def expectations(assertion: str) -> list[tuple[str, bool]]:
    """Quoted strings of an assertion with the polarity their clause gives them
    (True: expected shown)."""
    quotes: list[str] = []

    def mark(m) -> str:
        quotes.append(next(g for g in m.groups() if g))
        return f" \x00{len(quotes) - 1}\x00 "

    marked = _QUOTE.sub(mark, assertion or "")
    out = []
    for clause in re.split(r"[.;!?]|,|\bbut\b|\band\b|\bwhile\b|\bwhereas\b", marked):
        for m in re.finditer(r"\x00\d+\x00", clause):
            before, after = clause[:m.start()], clause[m.end():]
            neg = bool(_NEG.search(before)) or bool(_NEG_AFTER.match(after))
            if re.search(r"\bfrom\s*$", before) and re.match(r"\s*to\b", after):
                neg = True
            out.append((quotes[int(m.group(0).strip("\x00"))], not neg))
    # a list of quotes shares its polarity: 'no longer shows "A", "B" and "C"',
    # '"Austria", "Greece" and the other countries are filtered out'
    index = {}
    for k, m in enumerate(re.finditer(r"\x00(\d+)\x00", marked)):
        index[int(m.group(1))] = k
    for run in _RUN.finditer(marked):
        ids = [int(x) for x in re.findall(r"\x00(\d+)\x00", run.group(0))]
        if len(ids) < 2:
            continue
        tail = re.split(r"[.;!?]|\bbut\b|\bwhile\b", marked[run.end():])[0]
        neg = not out[index[ids[0]]][1] or bool(_NEG_AFTER.match(re.sub(r"^\s*(?:,|and|or)?\s*(?:the\s+)?(?:other|rest|remaining)?"
                                                                   r"(?:\s+\w+){0,2}?\s*(?=\b(?:is|are|were|was|get|gets|"
                                                                   r"have|has)\b)", " ", tail)))
        if neg:
            for i in ids:
                out[index[i]] = (out[index[i]][0], False)
    return out


_ORDER = re.compile(r"\b(order|sorted|sorts?|followed by|ascending|descending|alphabetical\w*|first row|is first|"
                    r"comes first|youngest first|oldest first|top to bottom|is last|now first)\b", re.I)


def misordered(assertion: str, items: list) -> str | None:
    """An assertion that states an order ('sorted by age: "A" is the first row, followed by
    "B", ... "C" is last') needs the quoted texts shown top to bottom (then left to right)
    in that order; returns why not, or None (no order stated, or it holds)."""
    for sentence in re.split(r"[.;!?]", assertion or ""):
        if not _ORDER.search(_QUOTE.sub(" ", sentence)):    # order words of the sentence, not of a quoted line
            continue
        quotes = [q for q, present in expectations(sentence) if present]
        if len(quotes) < 2:
            continue
        pos = []
        for q in quotes:
            hit = [it for it in items if len(it) >= 5 and it[2] and find_text([it], q)]
            if not hit:
                return None          # not all shown: the presence rule speaks
            pos.append((min(it[3] for it in hit), min(it[4] for it in hit), q))
        for (y0, x0, a), (y1, x1, b) in zip(pos, pos[1:]):
            if (y1, x1) < (y0, x0) and abs(y1 - y0) > 3:
                return f'"{b}" is shown above "{a}", not after it as the assertion says'
    return None


def standalone(items: list, q: str) -> set[str]:
    """Paths of in-view text items that are exactly `q` (spaces normalised; case as `find_text`)."""
    q = _ws(q)
    return {p for p, t in in_view(items) if _ws(t) == q or (q.isupper() and _ws(t).upper() == q)}


def _unchanged(before: list, after: list, paths: set[str]) -> bool:
    """Do the text items at `paths` read the same before and after?"""
    def texts(items):
        return {p: _ws(t) for p, t in in_view(items) if p in paths}
    return "*" not in paths and texts(before) == texts(after)


def check_quoted(assertion: str, before: dict, after: dict, ocr_after=None) -> Verdict | None:
    exps = expectations(assertion)
    if not exps:
        return None
    undecided, notes, evidence = [], [], 0
    anywhere = bool(after.get("revealed"))   # the judge scrolled to reach the target: the viewport moved, not the page
    for q, present in exps:
        was, now = find_text(before["text"], q), find_text(after["text"], q)
        if present and anywhere and not now:
            now = find_text(after["text"], q, anywhere=True)
        if present:
            if not now and (len(q.split()) > 1 and find_text(after["text"], q, any_case=True)
                            or {_ws(t).casefold() for _, t in in_view(after["text"])} & {_ws(q).casefold()}):
                return Verdict(False, "rule:quoted-text", f'"{q}" is shown only with other letter case')
            if not now and ocr_after is not None and find_text([("ocr", ocr_after())], q, any_case=True):
                now = {"ocr"}
            if not now:
                return Verdict(False, "rule:quoted-text", f'"{q}" is not shown')
            if now - was or _STILL.search(assertion):
                evidence += 1
                notes.append(f'"{q}" shown' + (" (OCR)" if now == {"ocr"} else ""))
            else:
                undecided.append(q)
        else:
            # "X is no longer shown": when X stood on its own before (a menu item, a row), it is the
            # standalone X that must go, not X inside a longer line ("You chose: Contact us")
            if standalone(before["text"], q):
                was, now = standalone(before["text"], q), standalone(after["text"], q)
            elif now and now <= was and _unchanged(before["text"], after["text"], now) and len(q.split()) <= SHORT_QUOTE:
                undecided.append(q)   # a name only inside a longer line that did not change ("You chose: Contact us")
                continue              # (a quoted sentence still there is what "no longer shows" denies)
            if now:
                return Verdict(False, "rule:quoted-text", f'"{q}" is still shown')
            evidence += bool(was) or bool(_STILL.search(assertion))
            notes.append(f'"{q}" not shown')
    bad_order = misordered(assertion, after["text"])
    if bad_order:
        return Verdict(False, "rule:quoted-order", bad_order)
    if not evidence:
        return None      # nothing the assertion names appeared or vanished: this rule cannot tell
    context = f" (shown before too: {', '.join(undecided)})" if undecided else ""
    return Verdict(True, "rule:quoted-text", "; ".join(notes) + context)


def scroll_moved(direction: str, before: dict, after: dict) -> tuple[bool, str]:
    """Did the window, or a scroll container measured before, move in `direction`?"""
    axis, sign = (1, 1) if direction == "down" else (1, -1) if direction == "up" else (0, 1) if direction == "right" else (0, -1)
    moves = [("window", (after["scroll"][axis] - before["scroll"][axis]) * sign)]
    now = {c[0]: c for c in after.get("chain", [])}
    for c in before.get("chain", []):
        a = now.get(c[0])
        if a and a[1] is not None and c[1] is not None:
            moves.append((c[0].rsplit(" > ", 1)[-1], (a[1 + axis] - c[1 + axis]) * sign))
    best = max(moves, key=lambda m: m[1])
    return best[1] >= 1.0, f"{best[0]} moved {best[1]:+.0f} px {direction}"


def _clip(box, shape, margin: int):
    x, y, w, h = (int(round(v)) for v in box)
    H, W = shape[:2]
    return max(0, x - margin), max(0, y - margin), min(W, x + w + margin), min(H, y + h + margin)


def changed_pixels(a: np.ndarray, b: np.ndarray, box=None, margin: int = TARGET_MARGIN, ignore=()) -> int:
    """Pixels whose colour changed by more than `CHANGED_LEVEL` (within `box` + margin when
    given; never inside the `ignore` boxes + 4 px)."""
    if a is None or b is None:
        return 0
    if a.shape != b.shape:
        return int(a.shape[0] * a.shape[1])
    changed = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(2) > CHANGED_LEVEL
    for ib in ignore:
        x0, y0, x1, y1 = _clip(ib, a.shape, 4)
        changed[y0:y1, x0:x1] = False
    if box is not None:
        x0, y0, x1, y1 = _clip(box, a.shape, margin)
        return int(changed[y0:y1, x0:x1].sum()) if x1 > x0 and y1 > y0 else 0
    return int(changed.sum())


def blurred(before: dict, after: dict, target_path: str | None) -> list:
    """Boxes whose pixel changes are the browser's, not the page's: the element that lost
    focus (its focus ring and caret vanish on any click elsewhere) unless it is the
    target, and the text selection (a drag selects text)."""
    fb, fa = before.get("focus") or {}, after.get("focus") or {}
    out = list(before.get("selection", [])) + list(after.get("selection", []))
    if fb.get("box") and fb.get("path") != fa.get("path") and fb.get("path") != target_path:
        out.append(fb["box"])
    return out


def text_diff(before: dict, after: dict, limit: int = 300) -> str:
    was, now = {t for _, t in in_view(before["text"])}, {t for _, t in in_view(after["text"])}
    add, rem = sorted(now - was)[:8], sorted(was - now)[:8]
    out = (f"added {add}" if add else "") + ("; " if add and rem else "") + (f"removed {rem}" if rem else "")
    return out[:limit]


def page_changed(before: dict, after: dict, img_b, img_a, target_path: str | None = None) -> tuple[bool, str]:
    px = changed_pixels(img_b, img_a, ignore=blurred(before, after, target_path))
    if px >= MIN_CHANGED_PX:
        return True, f"{px} pixels changed"
    if {t for _, t in in_view(before["text"])} != {t for _, t in in_view(after["text"])}:
        return True, "visible text changed"
    if before["scroll"] != after["scroll"]:
        return True, "the page scrolled"
    return False, f"nothing visible changed ({px} pixels)"


def states_target(assertion: str, description: str) -> bool:
    """Does a clause of the assertion give the action's own target a new state ("'Buy milk'
    is checked", "the checkbox is ticked")? Its subject is a quoted text of the description
    (the target's label or its anchor) or the description's role word."""
    from agents.cues import ROLE_WORDS, quoted_strings

    named = {_n(q) for q in quoted_strings(description)}
    roles = {w for w in re.findall(r"[a-z]+", _QUOTE.sub(" ", description).lower()) if w in ROLE_WORDS}
    for clause in re.split(r"[.;!?]|,|\bbut\b|\band\b(?! struck)|\bwhile\b", assertion or ""):
        if not _STATE.search(re.sub(r"\bpre-?filled\b", " ", clause)) or _NEG.search(clause):
            continue
        quotes = {_n(q) for q in quoted_strings(clause)}
        if quotes & named or (not quotes and roles & set(re.findall(r"[a-z]+", clause.lower()))):
            return True
    return False


_DIALOG_GOES = re.compile(r"\b(dialog|modal|pop-?up|overlay|lightbox|drawer)\b[^.;,]{0,20}?\b(closes|closed|disappears|"
                          r"is dismissed|goes away|is hidden|vanishes)\b", re.I)
_DIALOG_COMES = re.compile(r"\b(dialog|modal|pop-?up|overlay|lightbox|drawer)\b[^.;,]{0,20}?\b(opens|appears|pops up|"
                           r"is shown|shows up)\b", re.I)
_ALL_CLOSED = re.compile(r"\ball\b[^.;,]{0,40}\b(collapsed|closed|hidden)\b", re.I)


def container_claims(assertion: str, before: dict, after: dict) -> Verdict | None:
    """What an assertion says about a whole container besides its quoted text: "the
    dialog closes" (every dialog shown before is gone), "a dialog opens" (one is shown
    now), "all answers are collapsed" (no text newly appeared). A failing claim, or None."""
    db, da = set(before.get("dialogs") or []), set(after.get("dialogs") or [])
    if _DIALOG_GOES.search(assertion) and "dialogs" in after and db and db & da:
        return Verdict(False, "rule:dialog-open", "the assertion says the dialog closes, but it is still shown")
    if _DIALOG_COMES.search(assertion) and "dialogs" in after and not da:
        return Verdict(False, "rule:dialog-closed", "the assertion says a dialog opens, but none is shown")
    if _ALL_CLOSED.search(assertion):
        new = {t for _, t in in_view(after["text"])} - {t for _, t in in_view(before["text"])}
        if new:
            return Verdict(False, "rule:appeared", f"the assertion says all are closed, but {sorted(new)[:2]} appeared")
    return None


def rule_verdict(action, before: dict, after: dict, img_b, img_a, box, ocr_after=None,
                 target_path: str | None = None) -> Verdict | None:
    """The deterministic verdict for an executed step with an assertion, or None."""
    assertion = action.assertion or ""
    v = check_quoted(assertion, before, after, ocr_after)
    if v is not None and v.passed and box is not None and states_target(assertion, action.description):
        # '"Buy milk" is checked' about the clicked control: the count elsewhere is not enough
        px = changed_pixels(img_b, img_a, box, ignore=blurred(before, after, target_path))
        if px < MIN_CHANGED_PX:
            return Verdict(False, "rule:target-unchanged", f"{v.reason}; but the target itself did not change "
                                                           f"({px} pixels around it), as the assertion says it does")
    if v is not None and v.passed:
        w = container_claims(assertion, before, after)
        if w is not None:
            return w
    if v is not None:
        return v
    if not _QUOTE.search(assertion):
        vb, va = set(before.get("visible", [])), set(after.get("visible", []))
        if _DISAPPEAR.search(assertion):
            gone = len(vb - va)
            return Verdict(gone > 0, "rule:disappeared", f"{gone} elements became hidden", weak=gone > 0)
        if _APPEAR.search(assertion):
            new = len(va - vb)
            return Verdict(new > 0, "rule:appeared", f"{new} elements became visible", weak=new > 0)
    if box is not None and _STATE.search(assertion):
        px = changed_pixels(img_b, img_a, box, ignore=blurred(before, after, target_path))
        ok = px >= MIN_CHANGED_PX
        return Verdict(ok, "rule:target-changed" if ok else "rule:target-unchanged",
                       f"{px} pixels changed around the target", weak=ok)
    ok, why = page_changed(before, after, img_b, img_a, target_path)
    return Verdict(ok, "rule:executed-changed" if ok else "rule:unchanged", why, weak=ok)


def typed_verdict(action, after: dict) -> Verdict:
    """Typing must land, exactly as typed, in the field the step was grounded on (`after["target_value"]`:
    that field's value after the action; None when the grounded element is no field, e.g.
    a button that moves focus to a field elsewhere -- then the focused field counts)."""
    text = _ws(action.text)       # exactly as typed: a field's value is never case-transformed by styles
    target = after.get("target_value")
    if target is not None:
        ok = text in _ws(target)
        return Verdict(ok, "rule:typed", "the typed text is in the described field" if ok
                       else f"the described field holds {_ws(target)[:60]!r}, not the typed text")
    value = _ws((after.get("focus") or {}).get("value", ""))
    ok = text in value or bool(find_text(after["text"], action.text or ""))
    return Verdict(ok, "rule:typed", "the typed text is in the focused field" if ok else "the typed text is in no field")


async def verify_step(action, *, executed: bool, error: str | None, before: dict | None, after: dict | None,
                      img_b=None, img_a=None, box=None, judge: JudgeModel | None = None, pngs=None,
                      ocr_after=None, target_path: str | None = None) -> Verdict:
    """The verdict for one step (see the module docstring). `pngs()` returns the before,
    after and reference-checkpoint PNG bytes for the judge model (only called when needed)."""
    if not executed or before is None or after is None:
        return Verdict(False, "rule:not-executed", error or "not executed")
    if action.type == "scroll":
        ok, why = scroll_moved(action.direction or "down", before, after)
        if not ok or not action.assertion:
            return Verdict(ok, "rule:scroll-direction", why)
    if action.type == "type":
        v = typed_verdict(action, after)
        if not v.passed or not action.assertion:
            return v
    if not action.assertion:
        return Verdict(True, "rule:executed", "executed; no assertion")
    v = rule_verdict(action, before, after, img_b, img_a, box, ocr_after, target_path)
    if v.weak and judge is not None:
        before_png, after_png, ref_png = pngs()
        return await llm_verdict(judge, action, action.assertion, before_png, after_png, ref_png, text_diff(before, after))
    return v
