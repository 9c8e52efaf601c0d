"""Generation: task (video + assets) -> model -> one HTML page.

    gen = await generate(task, "openai/gpt-4o", GenerationConfig(), cache, meter)
    gen.html      # the page, or None with gen.error / gen.error_kind

Inputs per family:
- animation: frames of the reference video at 2 fps (all of them unless
  `animation_max_frames` is set);
- interactive: frames at 1 fps, at most 64 (chosen uniformly over the whole video when
  there would be more), plus the image assets as stitched contact sheets and every asset
  file listed by name.
Gemini receives the video file itself (sampling hint = the effective frame rate); other
providers receive the frames as labelled images.

Output extraction: the first fenced ```html block (an unclosed one runs to the end of
the text, as when output is cut at max_tokens), else the first fenced block of any kind,
else the raw text; `<iframe>` elements are removed; nothing left is a failure.

Failures do not raise; they come back as `Generation(html=None, error=..., error_kind=...)`:
- "model": the model's answer has no page (refusal, content filter, empty extraction) or an
  offline baseline has none (e.g. `replay:DIR` without this task): a scored failure;
- "provider": the API failed after all retries or sent a malformed body: infrastructure,
  not the model's fault — do not score, retry later;
- "input": the task's video could not be read.
Run-level problems raise: `AuthError`, `UnknownModel`, `BudgetExceeded`.
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from agents import prompts
from agents.cache import ResponseCache, cached_complete, prompt_sha256
from agents.contact_sheet import contact_sheets
from agents.providers.base import (AuthError, GenerationConfig, ImagePart, Message, ProviderError, UnknownModel,
                                   VideoPart)
from agents.providers.cost import CostMeter
from agents.providers.offline import PageUnavailable
from agents.providers.registry import get_model

_VIDEO_MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime",
               ".mkv": "video/x-matroska", ".avi": "video/avi"}


@dataclass(frozen=True)
class GenerateOptions:
    """How inputs are prepared (not model parameters; they change the messages, hence the cache key)."""

    animation_fps: float = 2.0
    animation_max_frames: int | None = None
    interactive_fps: float = 1.0
    interactive_max_frames: int | None = 64
    max_image_side: int | None = None      # downscale frames whose longer side exceeds this
    assets_per_sheet: int = 24


class Generation(BaseModel):
    """The record of one generation (one task, one model)."""

    task_id: str
    model: str
    html: str | None = None
    error: str | None = None
    error_kind: Literal["model", "provider", "input"] | None = None
    prompt_sha256: str | None = None
    prompt_stamp: str | None = None     # code of the prompt builder (provenance); None: no prompt (baselines)
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    cached: bool = False
    latency_s: float | None = None
    stop_reason: str | None = None
    n_frames: int = 0

    @property
    def ok(self) -> bool:
        return self.html is not None


# ---------------------------------------------------------------- inputs


def sample_frames(path: Any, fps: float, max_frames: int | None = None) -> tuple[list[float], list[np.ndarray]]:
    """Frames at t = k / fps for t < duration (the frame shown at t: the last one with
    presentation time <= t); with `max_frames`, that many of those times chosen uniformly
    (first and last kept). Decodes once and keeps only the chosen frames."""
    from judge.video import iter_frames, probe

    if fps <= 0:
        raise ValueError("fps must be > 0")
    info = probe(path)
    n = max(1, math.floor(info.duration_s * fps + 1e-6))
    ks = list(range(n))
    if max_frames is not None and n > max_frames:
        ks = sorted({round(i * (n - 1) / max(1, max_frames - 1)) for i in range(max_frames)})
    targets = [k / fps for k in ks]
    times: list[float] = []
    frames: list[np.ndarray] = []
    first = prev = None
    i = 0
    for t, frame in iter_frames(path):
        first = t if first is None else first
        t -= first
        while i < len(targets) and prev is not None and t > targets[i] + 1e-6:
            times.append(targets[i])
            frames.append(prev)
            i += 1
        if i >= len(targets):
            break
        prev = frame
    while i < len(targets) and prev is not None:  # targets at or after the last frame
        times.append(targets[i])
        frames.append(prev)
        i += 1
    return times, frames


def _png(frame: np.ndarray, max_side: int | None) -> bytes:
    from PIL import Image

    im = Image.fromarray(frame)
    if max_side and max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def video_part(task: Any, fps: float, max_frames: int | None, max_side: int | None = None) -> VideoPart:
    """The reference video as a `VideoPart` (file bytes + sampled PNG frames)."""
    times, frames = sample_frames(task.video_path, fps, max_frames)
    duration = max(task.spec.duration_s, 1e-6)
    effective = min(fps, len(frames) / duration) if max_frames is not None and len(frames) >= max_frames else fps
    return VideoPart(data=task.video_path.read_bytes(), frames=tuple(_png(f, max_side) for f in frames),
                     times_s=tuple(times), fps=round(effective, 4),
                     mime_type=_VIDEO_MIME.get(task.video_path.suffix.lower(), "video/mp4"))


def build_messages(task: Any, options: GenerateOptions | None = None) -> list[Message]:
    """System prompt + one user message (facts, contact sheets, video) for `task`."""
    o = options or GenerateOptions()
    spec = task.spec
    if spec.family == "animation":
        video = video_part(task, o.animation_fps, o.animation_max_frames, o.max_image_side)
        request = prompts.animation_request(spec, len(video.frames), video.fps)
        return [Message.system(prompts.system_prompt(spec)), Message.user(request, video)]
    video = video_part(task, o.interactive_fps, o.interactive_max_frames, o.max_image_side)
    sheets, images, others = contact_sheets(task.assets_path, per_sheet=o.assets_per_sheet)
    request = prompts.interactive_request(spec, images, others, len(sheets), len(video.frames), video.fps)
    parts: list[Any] = [request]
    parts += [ImagePart(s.png) for s in sheets]
    parts.append(video)
    return [Message.system(prompts.system_prompt(spec)), Message.user(*parts)]


# ---------------------------------------------------------------- outputs

_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")
_IFRAME_ELEMENT = re.compile(r"<iframe\b[^>]*>.*?</iframe\s*>", re.I | re.S)
_IFRAME_TAG = re.compile(r"</?iframe\b[^>]*>", re.I)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block, in order; an unclosed fence runs to the end."""
    lines = text.splitlines()
    blocks: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2).lower()
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        blocks.append((lang, "\n".join(lines[i + 1:j])))
        i = j + 1
    return blocks


def strip_iframes(html: str) -> str:
    """Remove `<iframe>` elements (with their content) and any stray iframe tags."""
    return _IFRAME_TAG.sub("", _IFRAME_ELEMENT.sub("", html))


def extract_html(text: str) -> str:
    """The page in a model answer (see module docstring); "" when there is none."""
    blocks = fenced_blocks(text or "")
    html_blocks = [body for lang, body in blocks if lang in ("html", "htm", "xhtml")]
    if html_blocks:
        page = html_blocks[0]
    elif blocks:
        page = blocks[0][1]
    else:
        page = text or ""
    return strip_iframes(page).strip()


# ---------------------------------------------------------------- the call
def prompt_stamp() -> str:
    """The provenance stamp of the generation prompt: a digest of the code that builds it
    (the prompts and the message building); the inputs' options are in the run identity."""
    from judge.files import code_sha256

    return code_sha256("agents.prompts", "agents.generator", "agents.contact_sheet")[:16]



def needs_request(task: Any, model: Any, config: GenerationConfig | None = None, cache: ResponseCache | None = None,
                  options: GenerateOptions | None = None) -> bool:
    """Whether `generate` for `task` would send a request to `model` (a resolved model):
    not for an offline baseline, an answer `cache` holds, or inputs that cannot be read
    (that generation fails before any request)."""
    from judge.video import VideoError

    if not getattr(model, "sends_requests", True):
        return False
    try:
        messages = build_messages(task, options)
    except (VideoError, OSError):
        return False
    return cache is None or cache.get(cache.key(model, messages, config or GenerationConfig())) is None


async def generate(task: Any, model_spec: Any, config: GenerationConfig | None = None,
                   cache: ResponseCache | None = None, meter: CostMeter | None = None, *,
                   options: GenerateOptions | None = None, **model_kwargs: Any) -> Generation:
    """Generate a page for `task` (a `judge.tasks.Task`) with `model_spec`, a model string
    or a resolved model (`get_model(...)`; pass one instance for a whole run so its SDK
    client and connections are reused). `model_kwargs` go to `get_model` for strings."""
    from judge.video import VideoError

    own = isinstance(model_spec, str)
    if model_kwargs and not own:
        raise TypeError(f"model options {sorted(model_kwargs)} apply only to a model string, not to {model_spec!r}")
    model = get_model(model_spec, **model_kwargs) if own else model_spec
    label = getattr(model, "spec", str(model_spec))
    record = Generation(task_id=task.id, model=label)
    if not getattr(model, "sends_requests", True):   # a baseline: its page comes from the task, no prompt
        try:
            record.html = model.page(task)
        except PageUnavailable as e:
            record.error, record.error_kind = str(e), "model"
        record.cost_usd = 0.0
        return record
    config = config or GenerationConfig()
    try:
        messages = build_messages(task, options)
    except (VideoError, OSError) as e:
        record.error, record.error_kind = f"cannot prepare the inputs: {e}", "input"
        return record
    record.prompt_sha256 = prompt_sha256(messages)
    record.prompt_stamp = prompt_stamp()
    record.n_frames = sum(len(p.frames) for m in messages for p in m.parts if isinstance(p, VideoPart))
    try:
        completion = await cached_complete(model, messages, config, cache, meter)
    except (AuthError, UnknownModel):
        raise
    except ProviderError as e:
        record.error = f"{type(e).__name__} after {e.attempts} attempt(s): {e}"
        record.error_kind = "provider"
        return record
    finally:
        if own:
            await model.aclose()
    record.input_tokens, record.output_tokens = completion.input_tokens, completion.output_tokens
    record.cost_usd, record.cached = completion.cost_usd, completion.cached
    record.latency_s, record.stop_reason = completion.latency_s, completion.stop_reason
    if completion.filtered:
        record.error = f"the model declined ({completion.stop_reason}: {completion.raw_stop_reason})"
        record.error_kind = "model"
        return record
    html = extract_html(completion.text)
    if not html:
        record.error, record.error_kind = "no HTML in the model's answer (empty extraction)", "model"
        return record
    record.html = html
    return record
