"""OpenAI (and OpenAI-compatible servers such as vLLM) through the official `openai` SDK.

Chat Completions API (`POST {base_url}/chat/completions`). Images go as `image_url`
parts with base64 data URIs; videos are sent as frames (Chat Completions takes no video).

Key: `OPENAI_API_KEY`. Base URL: `base_url=` (`--base-url`), else `OPENAI_BASE_URL`,
else api.openai.com. With a custom base URL and no key, the placeholder key `EMPTY`
is sent (vLLM without `--api-key` accepts anything), and `max_tokens` is used instead of
`max_completion_tokens` (older compatible servers know only the former).

Reasoning models on api.openai.com (`o1`, `o3`, `o4-mini`, `gpt-5*`) accept only the
default sampling, so `temperature`/`top_p` are not sent to them (they still count in the
cache key); pass `extra_body` to force a value.
"""
from __future__ import annotations

import base64
import os
import re
from typing import Any, Sequence

import openai

from .base import (GenerationConfig, ImagePart, MalformedResponse, Message, Model, Reply, TextPart,
                   VideoPart, video_as_images)

_OFFICIAL_HOST = "api.openai.com"
_REASONING = re.compile(r"^(o\d|gpt-5)")
_STOP = {"stop": "stop", "length": "length", "content_filter": "content_filter",
         "tool_calls": "other", "function_call": "other"}


class OpenAIModel(Model):
    provider = "openai"
    label = "OpenAI"
    key_env = ("OPENAI_API_KEY",)
    supports_video = False
    default_concurrency = 8

    def __init__(self, name: str, *, base_url: str | None = None, **kwargs: Any):
        super().__init__(name, base_url=base_url or os.environ.get("OPENAI_BASE_URL") or None, **kwargs)

    @property
    def custom_endpoint(self) -> bool:
        return bool(self.base_url) and _OFFICIAL_HOST not in str(self.base_url)

    def require_key(self) -> str:
        """The key; `EMPTY` for a custom endpoint when none is set (vLLM accepts anything)."""
        if self.custom_endpoint and not (self.api_key or os.environ.get("OPENAI_API_KEY")):
            return "EMPTY"
        return super().require_key()

    def _make_sdk(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(api_key=self.require_key(), base_url=self.base_url, max_retries=0,
                                  timeout=self.timeout_s, http_client=self.http_client)

    # -- request
    def to_wire(self, messages: Sequence[Message], config: GenerationConfig) -> dict[str, Any]:
        """The keyword arguments of `chat.completions.create`."""
        wire: list[dict[str, Any]] = []
        for m in messages:
            if m.role in ("system", "assistant"):
                wire.append({"role": m.role, "content": m.text})
                continue
            content: list[dict[str, Any]] = []
            for part in m.parts:
                expanded = video_as_images(part) if isinstance(part, VideoPart) else [part]
                for p in expanded:
                    if isinstance(p, TextPart):
                        content.append({"type": "text", "text": p.text})
                    elif isinstance(p, ImagePart):
                        url = f"data:{p.mime_type};base64,{base64.b64encode(p.data).decode('ascii')}"
                        content.append({"type": "image_url", "image_url": {"url": url}})
            wire.append({"role": "user", "content": content})
        kwargs: dict[str, Any] = {"model": self.name, "messages": wire}
        sampling = self.custom_endpoint or not _REASONING.match(self.name)
        if config.temperature is not None and sampling:
            kwargs["temperature"] = config.temperature
        if config.top_p is not None and sampling:
            kwargs["top_p"] = config.top_p
        if config.seed is not None:
            kwargs["seed"] = config.seed
        if config.max_tokens is not None:
            kwargs["max_tokens" if self.custom_endpoint else "max_completion_tokens"] = config.max_tokens
        if config.extra_body:
            kwargs["extra_body"] = dict(config.extra_body)
        return kwargs

    async def _call(self, messages: Sequence[Message], config: GenerationConfig) -> Reply:
        client = self.sdk()
        try:
            resp = await client.chat.completions.create(**self.to_wire(messages, config))
        except openai.APIStatusError as e:
            body = e.body if isinstance(e.body, dict) else {}
            code = body.get("code") if isinstance(body.get("code"), str) else None
            raise self.status_error(e.status_code, e.message, e.response.headers, code=code) from e
        except openai.APIConnectionError as e:
            raise self.connection_error(e) from e
        except openai.APIResponseValidationError as e:
            raise MalformedResponse(f"OpenAI returned an invalid body for {self.spec!r}: {e}",
                                    provider=self.provider) from e
        return self.parse(resp)

    # -- response
    def parse(self, resp: Any) -> Reply:
        """Text, usage and stop reason from a ChatCompletion; `MalformedResponse` when absent."""
        choices = getattr(resp, "choices", None)
        if not choices:
            raise MalformedResponse(f"OpenAI response for {self.spec!r} has no choices", provider=self.provider)
        choice = choices[0]
        message = getattr(choice, "message", None)
        raw_stop = getattr(choice, "finish_reason", None)
        refusal = getattr(message, "refusal", None)
        content = getattr(message, "content", None)
        usage = getattr(resp, "usage", None)
        tokens = (getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None))
        if refusal:
            return Reply(str(refusal), *tokens, stop_reason="refusal", raw_stop_reason=raw_stop)
        if raw_stop == "content_filter":
            return Reply(content or "", *tokens, stop_reason="content_filter", raw_stop_reason=raw_stop)
        if not isinstance(content, str):
            raise MalformedResponse(f"OpenAI response for {self.spec!r} has no message content "
                                    f"(finish_reason={raw_stop!r})", provider=self.provider)
        return Reply(content, *tokens, stop_reason=_STOP.get(raw_stop or "stop", "other"), raw_stop_reason=raw_stop)
