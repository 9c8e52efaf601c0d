"""Video files in and out (PyAV).

- `write_video` encodes RGB frames losslessly (libx264rgb, crf 0): decoding gives back
  the exact bytes that were encoded.
- `read_frames` decodes any h264/VP9/... mp4/webm/mkv into RGB uint8 frames, optionally
  resampled to a target fps (nearest earlier frame by presentation time).
- `probe` reads size, fps, frame count and duration without decoding everything.

Every failure is a `VideoError` that names the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from judge.errors import InputError


class VideoError(InputError):
    def __init__(self, path: Path | str, message: str):
        self.path = Path(path)
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    n_frames: int
    duration_s: float
    codec: str


def _open(path: Path):
    import av

    if not path.exists():
        raise VideoError(path, "file not found")
    if path.stat().st_size == 0:
        raise VideoError(path, "file is empty (0 bytes)")
    try:
        container = av.open(str(path))
    except Exception as e:  # av raises InvalidDataError, FileNotFoundError, ...
        raise VideoError(path, f"cannot open as a video ({type(e).__name__}: {e})") from None
    if not container.streams.video:
        container.close()
        raise VideoError(path, "contains no video stream")
    if container.streams.video[0].codec_context is None:
        container.close()
        raise VideoError(path, "unsupported video codec (no decoder for it here): re-encode it as H.264")
    return container


def probe(path: Path | str) -> VideoInfo:
    """Size, fps, frame count and duration. Counts frames by demuxing (no decode) when the
    container does not say."""
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(30)
        n = stream.frames
        if not n:
            n = sum(1 for p in container.demux(stream) if p.size)
        fps = float(rate)
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = n / fps if fps else 0.0
        if duration <= 0 and fps:
            duration = n / fps
        codec = stream.codec_context.name
        w, h = stream.codec_context.width, stream.codec_context.height
    except VideoError:
        raise
    except Exception as e:
        raise VideoError(path, f"cannot read video stream ({type(e).__name__}: {e})") from None
    finally:
        container.close()
    if n <= 0 or w <= 0 or h <= 0:
        raise VideoError(path, "video has no frames")
    return VideoInfo(width=w, height=h, fps=fps, n_frames=n, duration_s=duration, codec=codec)


def iter_frames(path: Path | str):
    """Yield (time_s, RGB uint8 frame) for every decoded frame, in presentation order."""
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = 0
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None else count / float(stream.average_rate or 30)
            count += 1
            yield t, frame.to_ndarray(format="rgb24")
        if count == 0:
            raise VideoError(path, "video has no decodable frames")
    except VideoError:
        raise
    except Exception as e:
        raise VideoError(path, f"corrupt or truncated video ({type(e).__name__}: {e})") from None
    finally:
        container.close()


def read_frames(path: Path | str, fps: float | None = None, max_frames: int | None = None,
                start_s: float = 0.0) -> np.ndarray:
    """Decode to an array (T, H, W, 3) uint8.

    With `fps`, sample at t = start_s + k/fps, taking for each sample the last frame whose
    presentation time is <= t (how a screen recording is sampled); without it, every frame.
    """
    out: list[np.ndarray] = []
    if fps is None:
        for t, f in iter_frames(path):
            if t + 1e-6 < start_s:
                continue
            out.append(f)
            if max_frames and len(out) >= max_frames:
                break
        return np.stack(out) if out else _empty(path)
    step = 1.0 / fps
    next_t = start_s
    prev = None
    first_t = None
    for t, f in iter_frames(path):
        if first_t is None:
            first_t = t
        t -= first_t
        while prev is not None and t > next_t + 1e-6:
            out.append(prev)
            next_t += step
            if max_frames and len(out) >= max_frames:
                return np.stack(out)
        prev = f
    if prev is not None and (not out or next_t <= t + 1e-6):
        out.append(prev)
    return np.stack(out[:max_frames] if max_frames else out) if out else _empty(path)


def _empty(path) -> np.ndarray:
    raise VideoError(path, "no frames in the requested range")


def read_frame_at(path: Path | str, time_s: float) -> np.ndarray:
    """The frame shown at `time_s` (last frame with pts <= time_s)."""
    prev = None
    first = None
    for t, f in iter_frames(path):
        first = t if first is None else first
        if t - first > time_s + 1e-6 and prev is not None:
            return prev
        prev = f
    return prev


class VideoWriter:
    """Streaming lossless encoder (libx264rgb, crf 0: decoding returns the exact RGB bytes).

    Written to `<name>.part` and renamed on a clean close, so a crash never leaves a
    half-written video under the final name. Odd sizes are fine (no chroma subsampling).
    """

    def __init__(self, path: Path | str, fps: float):
        self.path = Path(path)
        self.fps = fps
        self.tmp = self.path.with_name(self.path.name + ".part")
        self.n = 0
        self._container = None
        self._stream = None

    def write(self, frame: np.ndarray) -> None:
        import av

        frame = np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
        if self._container is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._container = av.open(str(self.tmp), mode="w", format="mp4")
            self._stream = self._container.add_stream("libx264rgb", rate=Fraction(self.fps).limit_denominator(1001))
            self._stream.width, self._stream.height = frame.shape[1], frame.shape[0]
            self._stream.pix_fmt = "rgb24"
            self._stream.options = {"crf": "0", "preset": "ultrafast", "g": "30"}
        elif frame.shape[:2] != (self._stream.height, self._stream.width):
            raise VideoError(self.path, f"frame {self.n} is {frame.shape[1]}x{frame.shape[0]}, "
                                        f"video is {self._stream.width}x{self._stream.height}")
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            self._container.mux(packet)
        self.n += 1

    def close(self) -> Path:
        if self._container is None:
            raise VideoError(self.path, "no frames to write")
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = None
        self.tmp.replace(self.path)
        return self.path

    def abort(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:
                pass
            self._container = None
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(path: Path | str, frames, fps: float) -> Path:
    """Encode RGB uint8 frames (an iterable of (H, W, 3)) losslessly; see `VideoWriter`."""
    with VideoWriter(path, fps) as w:
        for frame in frames:
            w.write(frame)
    return Path(path)


def reference_frames(task) -> np.ndarray:
    """The reference video of a `judge.tasks.Task` sampled at its fps, `n_frames` frames (the candidate
    is rendered at the same instants)."""
    return read_frames(task.video_path, fps=task.spec.fps, max_frames=task.spec.n_frames)
