"""The grounding ladder's visual rung: the target's crop from the reference video at the
action's timestamp (`target.bbox`; pixels that changed while the recorded pointer moved
in are masked out), matched multi-scale on the candidate's screenshot with
`cv2.TM_CCOEFF_NORMED` >= `VISUAL_MIN_SCORE` (`agents.grounding` then takes the element
at that point)."""
from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import cv2
import numpy as np

VISUAL_MIN_SCORE = 0.8
VISUAL_SCALES = (1.0, 0.9, 1.1, 0.8, 1.25, 0.67, 1.5)
PRE_MOVE_S = 0.4           # the recorder moves the pointer for 0.4 s before an action (judge.record.MOVE_MS)


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


class Match(NamedTuple):
    x: float
    y: float
    score: float
    places: int        # distinct spots within 0.02 of the best (7 identical trash icons: 7)


def match_template(screen: np.ndarray, crop: np.ndarray, mask: np.ndarray, expect: tuple[float, float] | None
                   ) -> Match | None:
    """Best match of the crop's centre on the screen over `VISUAL_SCALES` (matched in
    parallel: OpenCV releases the GIL); among peaks within 0.02 of the best, the one
    nearest `expect`. `places` counts those near-best peaks at distinct spots: more than
    one means the picture alone does not say which element it is."""
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
    apart = max(4.0, min(crop.shape[:2]) / 2)
    spots: list[tuple[float, float]] = []
    for _, x, y in near:
        if all((x - a) ** 2 + (y - b) ** 2 > apart ** 2 for a, b in spots):
            spots.append((x, y))
    v, x, y = near[0]
    return Match(float(x), float(y), float(v), len(spots))


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


# ---- glyphs: what an icon-only control draws -------------------------------------------------
# "Click the small × icon": a control with no text, name, class or title that says what it is
# (react-select's clear indicator is an unnamed <svg> path) is recognised by its shape. The
# glyphs a description can name are rendered from DejaVu Sans (Debian's fonts-dejavu-core) and
# compared with the control's ink, both cropped to their ink and scaled to GLYPH_SIZE.
GLYPH_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
GLYPH_SIZE = 24
GLYPH_MIN = 0.6            # similarity (1 - mean |difference| of the blurred ink masks, rescaled) to count
GLYPHS = {"close": "×✕", "x": "×✕", "delete": "×✕", "remove": "×✕", "clear": "×✕", "check": "✓✔", "plus": "+",
          "add": "+", "minus": "−", "next": "›❯→", "right": "›❯→", "previous": "‹❮←", "left": "‹❮←", "back": "‹❮←",
          "menu": "☰", "down": "⌄▾▼", "up": "⌃▴▲", "chevron": "⌄›"}
_GLYPH_CACHE: dict[str, np.ndarray | None] = {}


def _ink(mask: np.ndarray) -> np.ndarray | None:
    """A binary ink mask cropped to its ink, scaled to GLYPH_SIZE (aspect kept, centred), blurred."""
    ys, xs = np.nonzero(mask)
    if len(ys) < 4:
        return None
    m = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32)
    h, w = m.shape
    s = (GLYPH_SIZE - 2) / max(h, w)
    m = cv2.resize(m, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.zeros((GLYPH_SIZE, GLYPH_SIZE), np.float32)
    y0, x0 = (GLYPH_SIZE - m.shape[0]) // 2, (GLYPH_SIZE - m.shape[1]) // 2
    out[y0:y0 + m.shape[0], x0:x0 + m.shape[1]] = m
    return cv2.GaussianBlur(np.clip(out * 2, 0, 1), (5, 5), 1.2)


def glyph_mask(ch: str) -> np.ndarray | None:
    if ch not in _GLYPH_CACHE:
        try:
            from PIL import Image, ImageDraw, ImageFont

            font = ImageFont.truetype(GLYPH_FONT, 48)
            img = Image.new("L", (96, 96), 0)
            ImageDraw.Draw(img).text((16, 8), ch, fill=255, font=font)
            _GLYPH_CACHE[ch] = _ink(np.asarray(img) > 96)
        except OSError:            # the font is not installed: no glyph rung
            _GLYPH_CACHE[ch] = None
    return _GLYPH_CACHE[ch]


def icon_mask(crop: np.ndarray) -> np.ndarray | None:
    """The ink of a control's crop: pixels away from its border's median colour."""
    if crop.shape[0] < 4 or crop.shape[1] < 4:
        return None
    border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]])
    bg = np.median(border, axis=0)
    return _ink(np.abs(crop.astype(np.int16) - bg.astype(np.int16)).max(2) > 48)


def glyph_score(crop: np.ndarray, names: set[str]) -> tuple[float, str]:
    """How much the crop looks like a glyph one of `names` stands for ("close" ~ ×): (score, glyph)."""
    ink = icon_mask(crop)
    best = (0.0, "")
    if ink is None:
        return best
    for name in names:
        for ch in GLYPHS.get(name, ""):
            ref = glyph_mask(ch)
            if ref is None:
                continue
            sim = 1.0 - float(np.abs(ink - ref).sum()) / max(1e-6, float(np.maximum(ink, ref).sum()))
            best = max(best, (round(sim, 3), ch))
    return best
