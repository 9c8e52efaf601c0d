"""Google Gemini through the official `google-genai` SDK (Gemini API,
`POST {base}/{api_version}/models/{model}:generateContent`).

Video goes natively as an inline video part with `videoMetadata.fps` set to the
sampling rate the generator chose (Gemini samples 1 fps by default), when the container
type is one Gemini accepts and the request's inline data stays under 20 MB; otherwise,
or with `GenerationConfig(native_video=False)`, frames are sent as images.

Key: `GOOGLE_API_KEY`, else `GEMINI_API_KEY`. Base URL: `base_url=` (the SDK otherwise
honours `GOOGLE_GEMINI_BASE_URL`). Vertex AI is not used (`vertexai=False`).
The SDK's own retries are disabled (`HttpRetryOptions(attempts=1)`).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from .base import (AuthError, GenerationConfig, ImagePart, MalformedResponse, Message, Model, ProviderError,
                   Reply, TextPart, VideoPart, video_as_images)

try:  # the SDK prefers httpx2 when it is installed
    import httpx2
    _TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, httpx2.TransportError)
except ImportError:  # pragma: no cover - depends on the environment
    _TRANSPORT_ERRORS = (httpx.TransportError,)

MAX_INLINE_BYTES = 20 * 1024 * 1024
VIDEO_MIME_TYPES = {"video/mp4", "video/mpeg", "video/mov", "video/quicktime", "video/avi", "video/x-flv",
                    "video/mpg", "video/webm", "video/wmv", "video/3gpp"}
_FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
             "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "MODEL_ARMOR"}
_STOP = {"STOP": "stop", "MAX_TOKENS": "length"}


def _retry_delay(details: Any) -> float | None:
    """Seconds from a `google.rpc.RetryInfo` detail (`"retryDelay": "7s"`) in an error body."""
    err = details.get("error", details) if isinstance(details, Mapping) else {}
    for d in err.get("details", []) if isinstance(err, Mapping) else []:
        if isinstance(d, Mapping) and str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
            m = re.fullmatch(r"\s*([\d.]+)s\s*", str(d.get("retryDelay", "")))
            if m:
                return float(m.group(1))
    return None


def _error_reasons(details: Any) -> set[str]:
    err = details.get("error", details) if isinstance(details, Mapping) else {}
    return {str(d.get("reason")) for d in (err.get("details", []) if isinstance(err, Mapping) else [])
            if isinstance(d, Mapping) and d.get("reason")}


class GoogleModel(Model):
    provider = "google"
    label = "Google Gemini"
    key_env = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
    supports_video = True
    default_concurrency = 4

    def _make_sdk(self) -> genai.Client:
        options: dict[str, Any] = {"retry_options": types.HttpRetryOptions(attempts=1),
                                   "timeout": int(self.timeout_s * 1000)}
        if self.base_url:
            options["base_url"] = self.base_url
        if self.http_client is not None:
            options["httpx_async_client"] = self.http_client
        return genai.Client(api_key=self.require_key(), vertexai=False, http_options=types.HttpOptions(**options))

    async def _close_sdk(self, sdk: genai.Client) -> None:
        await sdk.aio.aclose()
        sdk.close()

    # -- request
    def _native_ok(self, messages: Sequence[Message], config: GenerationConfig) -> bool:
        parts = [p for m in messages for p in m.parts]
        inline = sum(len(p.data) for p in parts if isinstance(p, (ImagePart, VideoPart)))
        videos_ok = all(p.mime_type in VIDEO_MIME_TYPES for p in parts if isinstance(p, VideoPart))
        return config.native_video and videos_ok and inline <= MAX_INLINE_BYTES

    def to_wire(self, messages: Sequence[Message], config: GenerationConfig) -> dict[str, Any]:
        """The keyword arguments of `aio.models.generate_content`."""
        native = self._native_ok(messages, config)
        contents: list[types.Content] = []
        for m in messages:
            if m.role == "system":
                continue
            parts: list[types.Part] = []
            for part in m.parts:
                if isinstance(part, VideoPart) and native:
                    parts.append(types.Part(inline_data=types.Blob(data=part.data, mime_type=part.mime_type),
                                            video_metadata=types.VideoMetadata(fps=part.fps)))
                    continue
                for p in video_as_images(part) if isinstance(part, VideoPart) else [part]:
                    if isinstance(p, TextPart):
                        parts.append(types.Part(text=p.text))
                    elif isinstance(p, ImagePart):
                        parts.append(types.Part(inline_data=types.Blob(data=p.data, mime_type=p.mime_type)))
            contents.append(types.Content(role="model" if m.role == "assistant" else "user", parts=parts))
        system = "\n\n".join(m.text for m in messages if m.role == "system")
        cfg: dict[str, Any] = {"temperature": config.temperature, "top_p": config.top_p, "seed": config.seed,
                               "max_output_tokens": config.max_tokens, "system_instruction": system or None}
        if config.extra_body:
            cfg["http_options"] = types.HttpOptions(extra_body=dict(config.extra_body))
        return {"model": self.name, "contents": contents,
                "config": types.GenerateContentConfig(**{k: v for k, v in cfg.items() if v is not None})}

    async def _call(self, messages: Sequence[Message], config: GenerationConfig) -> Reply:
        client = self.sdk()
        try:
            resp = await client.aio.models.generate_content(**self.to_wire(messages, config))
        except genai_errors.APIError as e:
            raise self._api_error(e) from e
        except _TRANSPORT_ERRORS as e:
            raise self.connection_error(e) from e
        return self.parse(resp)

    def _api_error(self, e: genai_errors.APIError) -> ProviderError:
        status = int(e.code or 0)
        message = e.message or str(e)
        if status == 400 and "API_KEY_INVALID" in _error_reasons(e.details):
            return AuthError(f"Google Gemini rejected the API key (HTTP 400: {message}). "
                             f"Set GOOGLE_API_KEY or GEMINI_API_KEY to a valid key.", provider=self.provider,
                             status=status)
        headers = getattr(getattr(e, "response", None), "headers", None)
        err = self.status_error(status, message, headers)
        if err.retryable and err.retry_after is None:
            err.retry_after = _retry_delay(e.details)
        return err

    # -- response
    def parse(self, resp: Any) -> Reply:
        """Text (non-thought parts), usage (thinking tokens count as output) and stop reason."""
        usage = getattr(resp, "usage_metadata", None)
        prompt_tokens = getattr(usage, "prompt_token_count", None)
        out = getattr(usage, "candidates_token_count", None)
        thoughts = getattr(usage, "thoughts_token_count", None)
        out_tokens = None if out is None and thoughts is None else (out or 0) + (thoughts or 0)
        candidates = getattr(resp, "candidates", None)
        if not candidates:
            feedback = getattr(resp, "prompt_feedback", None)
            block = getattr(feedback, "block_reason", None)
            if block is not None:
                return Reply("", prompt_tokens, out_tokens, stop_reason="content_filter",
                             raw_stop_reason=f"prompt blocked: {getattr(block, 'value', block)}")
            raise MalformedResponse(f"Gemini response for {self.spec!r} has no candidates", provider=self.provider)
        cand = candidates[0]
        reason = getattr(cand, "finish_reason", None)
        raw_stop = getattr(reason, "value", reason)
        content = getattr(cand, "content", None)
        texts = [p.text for p in getattr(content, "parts", None) or []
                 if isinstance(getattr(p, "text", None), str) and not getattr(p, "thought", False)]
        if raw_stop in _FILTERED:
            return Reply("".join(texts), prompt_tokens, out_tokens, stop_reason="content_filter",
                         raw_stop_reason=raw_stop)
        if not texts:
            raise MalformedResponse(f"Gemini response for {self.spec!r} has no text content "
                                    f"(finishReason={raw_stop!r})", provider=self.provider)
        return Reply("".join(texts), prompt_tokens, out_tokens, stop_reason=_STOP.get(raw_stop or "STOP", "other"),
                     raw_stop_reason=raw_stop)
