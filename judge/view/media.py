"""Browser-playable previews for `judge view`, made with PyAV on first need and cached.

Contract:
- Capture videos are lossless (`libx264rgb`, RGB 4:4:4), which browsers do not play. A
  preview is VP9 in WebM (`libvpx-vp9`, yuv420p, realtime preset), at the task's fps and
  size (padded by one edge pixel to even dimensions), one frame per virtual frame, a
  keyframe every second.
- `reference_preview(task)`: the task's video sampled exactly as the metrics sample it
  (t = k / fps, the last frame whose presentation time is <= t, `spec.n_frames` frames).
- `candidate_preview(task, html)`: the saved page rendered under the virtual clock at
  the task's fps for `spec.n_frames` frames (`judge.record.render_page`, the scorer's
  capture path, into a temporary lossless file), then encoded. A page that fails
  part-way keeps the frames it rendered; a page that renders nothing has no preview
  (`PreviewError`).
- Cache: `judge.files.cache_dir("previews")/<key>.webm`, key = sha256 of the source
  (video file bytes, or page bytes + task spec) and `PREVIEW_VERSION`; written by
  `judge.files.atomic_write` semantics (temporary file + `os.replace`), so concurrent
  viewers and crashes never leave a torn preview. One render per key at a time.
- The browser is started lazily on the first candidate preview and closed by `close()`.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from judge.errors import JudgeError
from judge.files import cache_dir, sha256_file
from judge.tasks import Task

PREVIEW_VERSION = "vp9-1"


class PreviewError(JudgeError):
    """No preview can be made (nothing rendered, unreadable video)."""


def encode_webm(frames: Iterable[np.ndarray], fps: float, out: Path) -> int:
    """Encode RGB frames to VP9/WebM at `out` (atomically); returns the frame count."""
    import av

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".webm")
    os.close(fd)
    n = 0
    try:
        container = av.open(tmp, mode="w", format="webm")
        stream = None
        for frame in frames:
            frame = np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
            h, w = frame.shape[:2]
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            if stream is None:
                stream = container.add_stream("libvpx-vp9", rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height = frame.shape[1], frame.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.options = {"deadline": "realtime", "cpu-used": "8", "crf": "30", "b": "0",
                                  "row-mt": "1", "g": str(max(1, round(fps)))}
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
            n += 1
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
        container.close()
        if n == 0:
            raise PreviewError(f"{out.name}: no frames to encode")
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return n


def sampled_frames(path: Path, fps: float, n_frames: int) -> Iterator[np.ndarray]:
    """Frames of a video at t = k / fps, k < n_frames (the last frame with pts <= t),
    streamed (as `judge.video.read_frames` samples, without holding the whole clip)."""
    from judge.video import iter_frames

    step, k, prev, first = 1.0 / fps, 0, None, None
    for t, f in iter_frames(path):
        first = t if first is None else first
        t -= first
        while prev is not None and t > k * step + 1e-6 and k < n_frames:
            yield prev
            k += 1
        if k >= n_frames:
            return
        prev = f
    while prev is not None and k < n_frames:  # the clip ends early: hold its last frame
        yield prev
        k += 1


class Previews:
    """Cached previews (see the module docstring)."""

    def __init__(self, directory: Path | None = None):
        self.dir = Path(directory) if directory else cache_dir("previews")
        self._locks: dict[str, asyncio.Lock] = {}
        self._browser = None
        self._browser_lock = asyncio.Lock()

    def _path(self, key: str) -> Path:
        return self.dir / f"{key}.webm"

    async def _once(self, key: str, make) -> Path:
        path = self._path(key)
        if path.is_file():
            return path
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if not path.is_file():
                await make(path)
        return path

    async def reference(self, task: Task) -> Path:
        spec = task.spec
        key = hashlib.sha256(f"{PREVIEW_VERSION}|ref|{sha256_file(task.video_path)}|{spec.fps}|{spec.n_frames}"
                             .encode()).hexdigest()[:32]

        async def make(path: Path) -> None:
            await asyncio.to_thread(encode_webm, sampled_frames(task.video_path, spec.fps, spec.n_frames),
                                    spec.fps, path)
        return await self._once(key, make)

    async def browser(self):
        from judge.browser.runtime import Browser

        async with self._browser_lock:
            if self._browser is None:
                self._browser = await Browser().start()
            return self._browser

    async def candidate(self, task: Task, html: bytes) -> Path:
        spec = task.spec
        key = hashlib.sha256(f"{PREVIEW_VERSION}|cand|{hashlib.sha256(html).hexdigest()}|"
                             f"{spec.model_dump_json()}".encode()).hexdigest()[:32]

        async def make(path: Path) -> None:
            from judge.browser.sandbox import page_folders
            from judge.record import render_page

            browser = await self.browser()
            with tempfile.TemporaryDirectory(prefix="webjudge-view-") as tmp:
                lossless = Path(tmp) / "render.mp4"
                res = await render_page(browser, html, viewport=spec.viewport, fps=spec.fps, n_frames=spec.n_frames,
                                        folders=page_folders(None, task.assets_path), video_path=lossless,
                                        keep_frames=False)
                if not lossless.is_file():
                    raise PreviewError(f"{task.id}: the page rendered no frame ({res.fatal or 'no output'})")
                await asyncio.to_thread(encode_webm, sampled_frames(lossless, spec.fps, spec.n_frames), spec.fps, path)
        return await self._once(key, make)

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
