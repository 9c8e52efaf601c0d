"""Provider-neutral model interface: messages, generation settings, completions, errors,
retries and the `provider/model` registry.

A chat model is a `Model` subclass (one per provider SDK) with one coroutine,
`complete(messages, config) -> Completion`. Everything provider-specific (wire format,
error mapping, key lookup) lives in the adapter; everything shared lives here:

- retries: exponential backoff with jitter on 429/5xx/connection errors, honouring
  `Retry-After`; the SDKs' own retries are disabled so there is one retry policy;
- a per-provider concurrency limit (`asyncio.Semaphore`, one per event loop);
- API keys are looked up lazily, on the first real request, so a run served entirely
  from the cache needs no key.

`get_model("openai/gpt-4o")` resolves a model string; bare names `reference`, `blank`,
`first-frame` and `replay:DIR` (or `offline/<name>`) are the offline baselines of
`agents.providers.offline`.
"""
from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import random
import time
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, ClassVar, Literal, Mapping, Sequence, Union

from pydantic import BaseModel

from judge.errors import EXIT_INPUT, EXIT_JUDGE, WebjudgeError

from .cost import Price, cost_of, price_for

log = logging.getLogger("webjudge.agents.providers")

# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image, PNG bytes by default."""

    data: bytes
    mime_type: str = "image/png"


@dataclass(frozen=True)
class VideoPart:
    """A video clip.

    `data` (the encoded file) is sent natively to providers that accept video (Gemini);
    every other provider receives `frames` (PNG bytes sampled at `times_s` seconds) as
    images. `fps` is the sampling rate of `frames`, also sent as the native sampling hint.
    """

    data: bytes
    frames: tuple[bytes, ...]
    times_s: tuple[float, ...]
    fps: float
    mime_type: str = "video/mp4"


Part = Union[TextPart, ImagePart, VideoPart]
Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    parts: tuple[Part, ...]

    @classmethod
    def system(cls, text: str) -> "Message":
        return cls("system", (TextPart(text),))

    @classmethod
    def user(cls, *parts: Part | str) -> "Message":
        return cls("user", tuple(TextPart(p) if isinstance(p, str) else p for p in parts))

    @property
    def text(self) -> str:
        """The text parts joined by blank lines (used for system messages)."""
        return "\n\n".join(p.text for p in self.parts if isinstance(p, TextPart))


def video_as_images(video: VideoPart, max_images: int | None = None) -> list[Part]:
    """Frames of a video as a header text plus one `t=…s` label and image per frame.

    With `max_images`, frames are subsampled uniformly to fit a provider's image limit.
    """
    idx = list(range(len(video.frames)))
    if max_images is not None and len(idx) > max_images:
        step = (len(idx) - 1) / max(1, max_images - 1)
        idx = sorted({round(i * step) for i in range(max_images)})
    parts: list[Part] = [TextPart(
        f"Video: {len(idx)} frames sampled from the reference recording "
        f"(about {video.fps:g} frames per second), in order, each labelled with its time.")]
    for i in idx:
        parts.append(TextPart(f"t={video.times_s[i]:.2f}s"))
        parts.append(ImagePart(video.frames[i]))
    return parts


# ---------------------------------------------------------------- settings and results


@dataclass(frozen=True)
class GenerationConfig:
    """Generation parameters: part of the cache key (unlike transport settings).

    `max_tokens=None` lets each provider use its default (Anthropic requires a value and
    gets 16384). `temperature`/`top_p` go to OpenAI and Gemini; Anthropic's current API
    rejects sampling parameters, so they are not sent there. `seed` is sent where
    supported (OpenAI, Gemini) and always acts as an epoch in the cache key. `native_video=False` forces frames even for video-capable
    providers. `extra_body` is merged into the request body (e.g. `reasoning_effort`).
    """

    temperature: float | None = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    top_p: float | None = None
    native_video: bool = True
    extra_body: Mapping[str, Any] | None = None

    def key_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed,
                "top_p": self.top_p, "native_video": self.native_video,
                "extra_body": dict(self.extra_body) if self.extra_body else None}


StopReason = Literal["stop", "length", "refusal", "content_filter", "other"]


class Completion(BaseModel):
    """One model answer. `cost_usd` is None when the model has no known price;
    a cache hit has `cached=True` and `cost_usd=0.0`."""

    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    model: str
    provider: str
    cached: bool = False
    latency_s: float = 0.0
    stop_reason: StopReason = "stop"
    raw_stop_reason: str | None = None

    @property
    def filtered(self) -> bool:
        """Stopped by a refusal or a content filter (never cached)."""
        return self.stop_reason in ("refusal", "content_filter")


# ---------------------------------------------------------------- errors


class ProviderError(WebjudgeError):
    """A model call failed. `retryable` errors are retried by `Model.complete`."""
    exit_code = EXIT_JUDGE

    def __init__(self, message: str, *, provider: str = "", status: int | None = None,
                 retryable: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.provider, self.status, self.retryable, self.retry_after = provider, status, retryable, retry_after
        self.attempts = 1


class AuthError(ProviderError):
    """Missing or rejected API key; the message names the environment variable to set."""
    exit_code = EXIT_INPUT


class RateLimitError(ProviderError):
    """HTTP 429. `retry_after` (seconds) comes from Retry-After or the provider's body."""


class MalformedResponse(ProviderError):
    """A successful HTTP response without the content we need."""


class UnknownModel(ProviderError):
    """An unknown provider in a model string, or a model the provider does not know."""
    exit_code = EXIT_INPUT


# ---------------------------------------------------------------- retry helpers


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from `retry-after-ms`, `retry-after` (seconds or HTTP date)."""
    if not headers:
        return None
    get = headers.get
    ms = get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_SEMAPHORES: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, int], asyncio.Semaphore]]" = \
    weakref.WeakKeyDictionary()


def provider_semaphore(provider: str, limit: int) -> asyncio.Semaphore:
    """The semaphore shared by every model of `provider` with this limit, in this loop."""
    per_loop = _SEMAPHORES.setdefault(asyncio.get_running_loop(), {})
    key = (provider, limit)
    if key not in per_loop:
        per_loop[key] = asyncio.Semaphore(limit)
    return per_loop[key]


@dataclass
class Reply:
    """What an adapter's single attempt returns (before cost and latency)."""

    text: str
    input_tokens: int | None
    output_tokens: int | None
    stop_reason: StopReason
    raw_stop_reason: str | None = None


Sleep = Callable[[float], Awaitable[Any]]


class Model(ABC):
    """A chat model behind one provider SDK.

    Transport settings (`base_url`, `api_key`, `http_client`, `timeout_s`,
    `max_attempts`, `max_concurrency`, `sleep`) never enter the cache key.
    """

    provider: ClassVar[str]
    label: ClassVar[str]                    # human name for messages ("OpenAI")
    key_env: ClassVar[tuple[str, ...]]      # env variables holding the key, in order
    supports_video: ClassVar[bool] = False
    sends_requests: ClassVar[bool] = True   # False: answers from the task itself (the offline baselines)
    max_images: ClassVar[int | None] = None
    wire_version: ClassVar[int] = 1         # bump when the message layout sent changes
    default_concurrency: ClassVar[int] = 4

    def __init__(self, name: str, *, base_url: str | None = None, api_key: str | None = None,
                 http_client: Any = None, max_attempts: int = 5, max_concurrency: int | None = None,
                 timeout_s: float = 600.0, sleep: Sleep | None = None, rng: random.Random | None = None,
                 base_delay_s: float = 1.0, max_delay_s: float = 60.0, price: Price | None = None):
        if not name:
            raise UnknownModel(f"empty model name for provider {self.provider!r}", provider=self.provider)
        self.name, self.base_url, self.api_key, self.http_client = name, base_url, api_key, http_client
        self.max_attempts = max(1, int(max_attempts))
        self.max_concurrency = max(1, int(max_concurrency or self.default_concurrency))
        self.timeout_s, self.base_delay_s, self.max_delay_s = timeout_s, base_delay_s, max_delay_s
        self._sleep: Sleep = sleep or asyncio.sleep
        self._rng = rng or random.Random()
        self.price = price if price is not None else price_for(self.provider, name)
        self._sdk: Any = None
        self._sdk_loop: Any = None

    @property
    def spec(self) -> str:
        return f"{self.provider}/{self.name}"

    def cache_identity(self) -> dict[str, Any]:
        """What identifies this model's answers in the cache key."""
        return {"provider": self.provider, "model": self.name, "wire": self.wire_version}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"

    # -- keys and SDK clients
    def require_key(self) -> str:
        """The API key: the `api_key` argument, else the first of `key_env` that is set."""
        if self.api_key:
            return self.api_key
        for var in self.key_env:
            if os.environ.get(var):
                return os.environ[var]
        names = " or ".join(self.key_env)
        raise AuthError(f"no API key for {self.label} model {self.spec!r}: set {names} "
                        f"(or pass api_key=...)", provider=self.provider)

    def sdk(self) -> Any:
        """The SDK client, built on first use (and rebuilt in a new event loop when we own it)."""
        loop = asyncio.get_running_loop()
        if self._sdk is None or (self.http_client is None and self._sdk_loop is not loop):
            self._sdk, self._sdk_loop = self._make_sdk(), loop
        return self._sdk

    @abstractmethod
    def _make_sdk(self) -> Any:
        """Build the SDK client (reads the key, disables SDK retries)."""

    @abstractmethod
    async def _call(self, messages: Sequence[Message], config: GenerationConfig) -> Reply:
        """One request; raise `ProviderError` subclasses, `retryable` where a retry may help."""

    # -- shared error mapping
    def status_error(self, status: int, message: str, headers: Mapping[str, str] | None = None,
                     code: str | None = None) -> ProviderError:
        """Map an HTTP error status to our error types."""
        p, where = self.provider, f"{self.label} returned HTTP {status} for {self.spec!r}"
        if status in (401, 403):
            return AuthError(f"{self.label} rejected the API key ({where}: {message}). "
                             f"Set {' or '.join(self.key_env)} to a valid key.", provider=p, status=status)
        if status == 404:
            return UnknownModel(f"{where}: {message} (is the model name right?)", provider=p, status=status)
        if status == 429:
            return RateLimitError(f"rate limited: {where}: {message}", provider=p, status=status,
                                  retryable=code != "insufficient_quota", retry_after=parse_retry_after(headers))
        retryable = status in (408, 409) or status >= 500
        return ProviderError(f"{where}: {message}", provider=p, status=status, retryable=retryable,
                             retry_after=parse_retry_after(headers) if retryable else None)

    def connection_error(self, exc: BaseException) -> ProviderError:
        return ProviderError(f"cannot reach {self.label} for {self.spec!r}: {type(exc).__name__}: {exc}",
                             provider=self.provider, retryable=True)

    # -- the public call
    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1`: Retry-After when given, else
        exponential backoff (base * 2^(attempt-1), capped) with jitter in [50%, 100%]."""
        if retry_after is not None:
            return min(retry_after, 10 * self.max_delay_s)
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return delay * (0.5 + 0.5 * self._rng.random())

    async def complete(self, messages: Sequence[Message], config: GenerationConfig | None = None) -> Completion:
        """Send `messages`, retrying transient failures; return text, usage, cost, latency."""
        config = config or GenerationConfig()
        start = time.monotonic()
        async with provider_semaphore(self.provider, self.max_concurrency):
            for attempt in range(1, self.max_attempts + 1):
                try:
                    reply = await self._call(messages, config)
                    break
                except ProviderError as e:
                    e.attempts = attempt
                    if not e.retryable or attempt == self.max_attempts:
                        raise
                    wait = self.backoff(attempt, e.retry_after)
                    log.warning("%s: %s; retry %d/%d in %.1fs", self.spec, e, attempt,
                                self.max_attempts - 1, wait)
                    await self._sleep(wait)
        return Completion(text=reply.text, input_tokens=reply.input_tokens, output_tokens=reply.output_tokens,
                          cost_usd=cost_of(self.price, reply.input_tokens, reply.output_tokens),
                          model=self.name, provider=self.provider, cached=False,
                          latency_s=time.monotonic() - start, stop_reason=reply.stop_reason,
                          raw_stop_reason=reply.raw_stop_reason)

    async def aclose(self) -> None:
        """Close the SDK client when we created its HTTP client (never a caller's client)."""
        if self._sdk is not None and self.http_client is None:
            await self._close_sdk(self._sdk)
        self._sdk = None

    async def _close_sdk(self, sdk: Any) -> None:
        result = sdk.close()
        if asyncio.iscoroutine(result):
            await result


# ---------------------------------------------------------------- registry

