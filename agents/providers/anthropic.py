"""Anthropic Claude through the official `anthropic` SDK (Messages API, `POST /v1/messages`).

Images go as base64 `image` blocks; videos as frames (at most 100 images per request,
the API's limit: longer frame lists are subsampled uniformly). `max_tokens` is required
by the API: 16384 unless the config sets it (older models accept less, e.g. 8192 for
claude-3-5-haiku: pass `--max-tokens`).

Sampling parameters are not sent: the installed SDK (2.x, API version 2026-10-21) has no
`temperature`/`top_p`/`top_k`, and that API version answers 400 when a body carries
them. `temperature`, `top_p` and `seed` still count in the cache key. A deployment that
does accept them can pass them explicitly with `GenerationConfig(extra_body={...})`.

Key: `ANTHROPIC_API_KEY` (read by us and passed explicitly, so the SDK never falls back
to profiles on disk). Base URL: `base_url=`, else `ANTHROPIC_BASE_URL`, else the default.
"""
from __future__ import annotations

import base64
import os
from typing import Any, Sequence

import anthropic

from ._bridge import httpx2_client
from .base import (GenerationConfig, ImagePart, MalformedResponse, Message, Model, Reply, TextPart,
                   VideoPart, video_as_images)

DEFAULT_MAX_TOKENS = 16384
_STOP = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "refusal": "refusal",
         "tool_use": "other", "pause_turn": "other", "model_context_window_exceeded": "length"}


class AnthropicModel(Model):
    provider = "anthropic"
    label = "Anthropic"
    key_env = ("ANTHROPIC_API_KEY",)
    supports_video = False
    max_images = 100

    def __init__(self, name: str, *, base_url: str | None = None, **kwargs: Any):
        super().__init__(name, base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None, **kwargs)

    def _make_sdk(self) -> anthropic.AsyncAnthropic:
        kwargs: dict[str, Any] = {"api_key": self.require_key(), "max_retries": 0, "timeout": self.timeout_s}
        if self.base_url:
            kwargs["base_url"] = self.base_url
        if self.http_client is not None:
            kwargs["http_client"] = httpx2_client(self.http_client)
        return anthropic.AsyncAnthropic(**kwargs)

    # -- request
    def to_wire(self, messages: Sequence[Message], config: GenerationConfig) -> dict[str, Any]:
        """The keyword arguments of `messages.create`."""
        system = "\n\n".join(m.text for m in messages if m.role == "system")
        wire: list[dict[str, Any]] = []
        n_images = sum(isinstance(p, ImagePart) for m in messages for p in m.parts)
        n_videos = sum(isinstance(p, VideoPart) for m in messages for p in m.parts)
        per_video = max(1, (self.max_images - n_images) // n_videos) if n_videos else None
        for m in messages:
            if m.role == "system":
                continue
            blocks: list[dict[str, Any]] = []
            for part in m.parts:
                expanded = video_as_images(part, per_video) if isinstance(part, VideoPart) else [part]
                for p in expanded:
                    if isinstance(p, TextPart):
                        blocks.append({"type": "text", "text": p.text})
                    elif isinstance(p, ImagePart):
                        blocks.append({"type": "image", "source": {
                            "type": "base64", "media_type": p.mime_type,
                            "data": base64.b64encode(p.data).decode("ascii")}})
            wire.append({"role": m.role, "content": blocks})
        kwargs: dict[str, Any] = {"model": self.name, "messages": wire,
                                  "max_tokens": config.max_tokens or DEFAULT_MAX_TOKENS}
        if system:
            kwargs["system"] = system
        if config.extra_body:
            kwargs["extra_body"] = dict(config.extra_body)
        return kwargs

    async def _call(self, messages: Sequence[Message], config: GenerationConfig) -> Reply:
        client = self.sdk()
        try:
            resp = await client.messages.create(**self.to_wire(messages, config))
        except anthropic.APIStatusError as e:
            raise self.status_error(e.status_code, e.message, e.response.headers) from e
        except anthropic.APIConnectionError as e:
            raise self.connection_error(e) from e
        except anthropic.APIResponseValidationError as e:
            raise MalformedResponse(f"Anthropic returned an invalid body for {self.spec!r}: {e}",
                                    provider=self.provider) from e
        return self.parse(resp)

    # -- response
    def parse(self, resp: Any) -> Reply:
        """Text (all text blocks joined), usage and stop reason from a Message."""
        raw_stop = getattr(resp, "stop_reason", None)
        usage = getattr(resp, "usage", None)
        tokens = (getattr(usage, "input_tokens", None), getattr(usage, "output_tokens", None))
        blocks = getattr(resp, "content", None)
        texts = [b.text for b in blocks or [] if getattr(b, "type", None) == "text" and isinstance(b.text, str)]
        if raw_stop == "refusal":
            return Reply("".join(texts), *tokens, stop_reason="refusal", raw_stop_reason=raw_stop)
        if not texts:
            raise MalformedResponse(f"Anthropic response for {self.spec!r} has no text content "
                                    f"(stop_reason={raw_stop!r})", provider=self.provider)
        return Reply("".join(texts), *tokens, stop_reason=_STOP.get(raw_stop or "end_turn", "other"),
                     raw_stop_reason=raw_stop)
