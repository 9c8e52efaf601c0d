"""Pairwise judging: the evidence shown, the prompts, and reply parsing (for `judge pairwise`).

A judge model sees the reference and two anonymous candidates as labelled images at the
same instants (animation: frames at N evenly spaced times; interactive: the checkpoint
screenshots after the same actions) and answers, for one dimension, which candidate
matches the reference better:

    [system]  the job, the blinding rule, the answer format
    [user]    criterion + rubric, then "Reference" / "Candidate 1" / "Candidate 2", each
              as a header text and one `<group>, <label>` text + image per instant,
              then the instruction to end with `Verdict: 1|2|tie`.

`parse_verdict` reads the answer: the last line that starts with ``Verdict:`` (any case,
markdown emphasis allowed) must name exactly one of ``1``, ``2`` (also ``Candidate 1`` /
``Candidate 2``) or ``tie``; anything else is an error, never a guess. `to_field` maps the
screen position to the pairwise.jsonl ``verdict`` (the winning *field*, a or b): in order
``ab`` candidate 1 is model a, in order ``ba`` candidate 1 is model b.

Evidence: `EvidenceBuilder` makes those images from a task and candidate pages (reference
frames from the task's video; candidates rendered in a shared `judge.browser.runtime.Browser`
by `render_instants`; interactive tasks use checkpoint screenshots), cached per task and
per (model, task). See `judge.pairwise` for the exact sampling rules.

`PROMPT_VERSION` changes whenever the wording changes (it is stored in every row; the
response cache keys on the full text anyway).
"""
from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from agents.providers.base import ImagePart, Message, Part, TextPart

PROMPT_VERSION = 1

RUBRICS: dict[str, str] = {
    "overall": (
        "Overall fidelity. Which candidate, taken as a whole, is the more faithful reproduction of the "
        "reference: the one a careful viewer would pick as closer to the recording? Weigh both what is on "
        "screen (elements, layout, colours, text) and how it changes over time (what moves, where, when and "
        "how fast). A candidate that shows nothing, shows the wrong content or breaks the layout loses to one "
        "that is recognisably the same scene, even an imperfect one. Do not reward extra detail that the "
        "reference does not have."),
    "motion": (
        "Motion. Which candidate moves more like the reference? Follow each element from one instant to the "
        "next and compare with the reference: the same elements move (or stay still), along the same paths "
        "and directions, starting and stopping at the same times, with similar speed, easing, rotation, "
        "scaling, fading and looping. Judge the change between instants, not the look of the elements: "
        "ignore differences in colour, shape or styling unless they make the motion impossible to follow. "
        "A candidate that stays static loses to one whose motion resembles the reference's."),
    "appearance": (
        "Appearance. Which candidate looks more like the reference? Compare what is drawn: the elements "
        "present, their layout and relative positions, shapes, sizes, colours, gradients, borders, shadows, "
        "text and fonts, and the background. Judge the look of each element itself, comparing corresponding "
        "elements even when timing differences place them elsewhere at a given instant; do not judge how or "
        "when things move."),
}

SYSTEM_PROMPT = """\
You are an expert front-end reviewer. Two web pages (Candidate 1 and Candidate 2) were each \
written to reproduce a reference recording of a web page. You compare them against the \
reference on one criterion and decide which candidate matches the reference better.

Rules:
- Judge only the images you are given, against the reference, on the stated criterion.
- The candidates are anonymous and their order is random: the position of a candidate says \
nothing about its quality. Do not favour the first or the second one.
- Answer "tie" only when neither candidate is better on this criterion (for example both look \
the same, or both are equally wrong).
- Explain briefly (a few sentences), then end your reply with one final line of exactly this \
form: "Verdict: 1", "Verdict: 2" or "Verdict: tie"."""

GROUPS = ("Reference", "Candidate 1", "Candidate 2")


def user_parts(dimension: str, labels: Sequence[str], reference: Sequence[bytes], first: Sequence[bytes],
               second: Sequence[bytes], kind: str = "frames") -> list[Part]:
    """The user message's parts: rubric, then the three labelled image groups, then the ask.

    `labels[i]` names instant i (e.g. ``t=0.40 s`` or ``after step 2: Click 'Add'``);
    `reference`, `first`, `second` are PNG bytes, one per label. `kind` is ``frames``
    (animation) or ``checkpoints`` (screenshots after interaction steps).
    """
    if dimension not in RUBRICS:
        raise ValueError(f"no rubric for dimension {dimension!r} (known: {', '.join(RUBRICS)})")
    if not (len(labels) == len(reference) == len(first) == len(second)) or not labels:
        raise ValueError("need the same number (>= 1) of labels, reference and candidate images")
    what = (f"{len(labels)} frames sampled at the same instants of virtual time from the reference recording "
            "and from each candidate page" if kind == "frames" else
            f"{len(labels)} screenshots taken after the same user actions on the reference page and on each "
            "candidate page")
    parts: list[Part] = [TextPart(f"Criterion: {dimension}.\n{RUBRICS[dimension]}\n\nBelow are {what}, "
                                  "in time order, each labelled.")]
    for group, images in zip(GROUPS, (reference, first, second)):
        parts.append(TextPart(f"{group}: {len(images)} images."))
        for label, png in zip(labels, images):
            parts.append(TextPart(f"{group}, {label}"))
            parts.append(ImagePart(png))
    parts.append(TextPart(f"Which candidate matches the Reference better on the criterion \"{dimension}\"? "
                          "Explain briefly, then end with the final line \"Verdict: 1\", \"Verdict: 2\" or "
                          "\"Verdict: tie\"."))
    return parts


def build_messages(dimension: str, labels: Sequence[str], reference: Sequence[bytes], first: Sequence[bytes],
                   second: Sequence[bytes], kind: str = "frames") -> list[Message]:
    """System prompt + one user message (see `user_parts`)."""
    return [Message.system(SYSTEM_PROMPT),
            Message("user", tuple(user_parts(dimension, labels, reference, first, second, kind)))]


# ---------------------------------------------------------------- parsing

_VERDICT_LINE = re.compile(r"^[\s>#*_`\-]*(?:final\s+)?verdict\s*[*_`]*\s*[:：]\s*(.*)$", re.I)
_TOKEN = re.compile(r"\b(?:candidate\s*#?\s*)?([12])\b|\b(tie)\b", re.I)
_STRIP = "*_`\"'[](){}<>. \t"


def parse_verdict(text: str | None) -> tuple[str | None, str | None]:
    """(answer, error): answer ∈ {"1", "2", "tie"} from the last ``Verdict:`` line, else
    (None, reason). The value must name one answer and start with it (``Verdict: 2``,
    ``**Verdict:** Candidate 1``, ``verdict: TIE.``, ``Verdict: 1 (better timing)``);
    ``Verdict: 1 or 2`` or ``Verdict: <1|2|tie>`` are errors."""
    lines = [m.group(1) for m in map(_VERDICT_LINE.match, (text or "").splitlines()) if m]
    if not lines:
        return None, "no 'Verdict:' line in the reply"
    value = lines[-1].strip().strip(_STRIP)
    found = {(m.group(1) or m.group(2)).lower() for m in _TOKEN.finditer(value)}
    first = _TOKEN.match(value)
    if len(found) != 1 or first is None:
        return None, f"unparseable verdict {lines[-1].strip()[:80]!r} (expected 1, 2 or tie)"
    return found.pop(), None


def to_field(answer: str | None, order: str) -> str | None:
    """The winning field (``a``/``b``/``tie``) for a screen answer in presentation `order`."""
    if order not in ("ab", "ba"):
        raise ValueError(f"order must be 'ab' or 'ba', not {order!r}")
    if answer is None or answer == "tie":
        return answer
    first, second = ("a", "b") if order == "ab" else ("b", "a")
    return {"1": first, "2": second}[answer]


# ---------------------------------------------------------------- images

def encode_png(frame: np.ndarray, max_side: int | None = None) -> bytes:
    """RGB uint8 frame → PNG bytes, downscaled (aspect kept) so its longer side ≤ `max_side`."""
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(frame))
    if max_side and max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def fit_png(data: bytes, max_side: int | None = None) -> bytes:
    """A PNG file (e.g. a checkpoint screenshot) as RGB PNG bytes, downscaled like `encode_png`."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return encode_png(np.asarray(im.convert("RGB")), max_side)


# ---------------------------------------------------------------- evidence

@dataclass
class Evidence:
    """What the judge sees of one comparison: one label and one PNG per instant."""

    kind: str                             # frames | checkpoints
    labels: list[str]
    reference: list[bytes]
    candidates: dict[str, list[bytes]]    # model -> PNGs, one per label
    notes: list[str] = field(default_factory=list)


def frame_indices(n_frames: int, n: int) -> list[int]:
    """Up to `n` distinct frame indices evenly spaced over 0..n_frames-1 (ends included)."""
    return sorted({int(i) for i in np.linspace(0, n_frames - 1, n).round()})


def _checkpoints(task: Any, runs: list[Path]) -> list[tuple[str, Path, list[Path]]]:
    """(label, reference png, candidate pngs) for the checkpoints every run has.

    Reference: the task's ``checkpoints/initial.png`` and each action's checkpoint. Candidate
    (docs/CONTRACTS.md, written by `agents.judge_graph`): ``artifacts/<task_id>/initial.png``
    and ``artifacts/<task_id>/steps/step_<NN>_after.png`` (NN = action index, two digits)."""
    refs = [("initially", task.initial_checkpoint_path, "initial.png")]
    refs += [(f"after step {k + 1}: {a.description}", task.checkpoint_path(k), f"steps/step_{k:02d}_after.png")
             for k, a in enumerate(task.spec.actions)]
    out = []
    for label, ref, name in refs:
        cands = [run / "artifacts" / task.id / name for run in runs]
        if ref is not None and ref.is_file() and all(p.is_file() for p in cands):
            out.append((label, ref, cands))
    return out


class EvidenceBuilder:
    """Reference and candidate images, cached per task and per (model, task)."""

    def __init__(self, browser: Any, n: int, max_side: int | None):
        self.browser, self.n, self.max_side = browser, n, max_side
        self._ref: dict[str, tuple[list[int], list[str], list[bytes]]] = {}
        self._cand: dict[tuple[str, str], tuple[list[bytes], str | None]] = {}

    def forget(self, keep_task: str) -> None:
        self._ref = {k: v for k, v in self._ref.items() if k == keep_task}
        self._cand = {k: v for k, v in self._cand.items() if k[1] == keep_task}

    async def _reference(self, task: Any) -> tuple[list[int], list[str], list[bytes]]:
        """Frame indices, time labels and PNGs of the reference video (read at the task's fps)."""
        if task.id not in self._ref:
            from judge.video import reference_frames

            frames = await asyncio.to_thread(reference_frames, task)
            idx = [i for i in frame_indices(task.spec.n_frames, self.n) if i < len(frames)]
            self._ref[task.id] = (idx, [f"t={i / task.spec.fps:.2f} s" for i in idx],
                                  [encode_png(frames[i], self.max_side) for i in idx])
        return self._ref[task.id]

    async def _candidate(self, task: Any, model: str, page: Path, idx: list[int]) -> tuple[list[bytes], str | None]:
        if (model, task.id) not in self._cand:
            frames, fatal = await render_instants(self.browser, task, page.read_bytes(), idx)
            self._cand[(model, task.id)] = ([encode_png(f, self.max_side) for f in frames], fatal)
        return self._cand[(model, task.id)]

    async def build(self, task: Any, pages: dict[str, Path]) -> Evidence | str:
        """Evidence for the models of `pages`, or a reason to skip."""
        if task.family == "interactive":
            found = _checkpoints(task, [p.parent.parent.parent for p in pages.values()])
            if not found:
                return "interactive task without matching checkpoint screenshots in the runs' artifacts"
            found = [found[i] for i in frame_indices(len(found), self.n)]
            fit = lambda p: fit_png(p.read_bytes(), self.max_side)  # noqa: E731
            return Evidence("checkpoints", [f[0] for f in found], [fit(f[1]) for f in found],
                            {m: [fit(f[2][j]) for f in found] for j, m in enumerate(pages)})
        idx, labels, ref = await self._reference(task)
        ev = Evidence("frames", labels, ref, {})
        for model, page in pages.items():
            ev.candidates[model], fatal = await self._candidate(task, model, page, idx)
            if fatal:
                ev.notes.append(f"page of {model!r} failed: {fatal[:200]}")
        return ev


async def render_instants(browser: Any, task: Any, html: bytes,
                          indices: list[int]) -> tuple[list[np.ndarray], str | None]:
    """Frames `indices` (at the task's fps) of `html` under the virtual clock, stepping
    through every frame up to the last one as `render_page` does. Returns (frames,
    fatal); frames after a page failure are white. Raises `BrowserError`."""
    from judge.browser.runtime import PageError
    from judge.browser.sandbox import page_folders

    spec, wanted = task.spec, set(indices)
    w, h = spec.viewport.width, spec.viewport.height
    shots: dict[int, np.ndarray] = {}
    fatal = None
    async with browser.session(html, (w, h), page_folders(None, task.assets_path)) as s:
        try:
            await s.load()
            for i in range(max(indices) + 1):
                await s.advance_to(i * 1000.0 / spec.fps)
                if i in wanted:
                    frame = await s.screenshot()
                    if frame.shape[:2] != (h, w):  # as PageSession.capture: keep the viewport size
                        frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
                    shots[i] = frame
            await s.collect_errors()
        except PageError as e:
            fatal = str(e)
    white = np.full((h, w, 3), 255, np.uint8)
    return [shots.get(i, white) for i in indices], fatal
