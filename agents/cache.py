"""Content-addressed cache of model completions.

Key = sha256 of a canonical JSON document holding:
- the model identity: provider, model name, and the adapter's wire-format version;
- the generation parameters (`GenerationConfig.key_dict()`: temperature, max_tokens,
  seed, top_p, native_video, extra_body) — `seed` doubles as an epoch: change it to
  draw fresh samples;
- the messages: roles, texts, and sha256 of every image/video byte string (plus the
  video's frame hashes, times and fps);
- a user `scope` string (default "") and the cache format version.

Not in the key: transport settings — timeouts, retry counts, backoff, concurrency,
API keys, HTTP clients, and **the base URL**. A model is identified by its
`provider/model` name, so moving a vLLM server to another port or going through a proxy
keeps the cache. If two endpoints serve *different* weights under the same name, give
them different `scope`s (`ResponseCache(scope="server-b")`).

Entries are JSON files `<dir>/<key[:2]>/<key>.json`, written atomically (temporary file
+ `os.replace`), so concurrent runs and crashes never leave a torn entry; an unreadable
entry is a miss. The directory is `judge.files.cache_dir("llm")`: `$WEBJUDGE_CACHE_DIR/llm`, else
`~/.cache/webjudge/llm`.
Completions stopped by a refusal or a content filter are never stored.

`cached_complete(model, messages, config, cache, meter)` is the one call site: a hit
returns `cached=True, cost_usd=0.0` and counts the original cost as saved; a miss first
asks the meter for budget (`BudgetExceeded`), then calls the model and records its cost.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any, Sequence

from agents.providers.base import Completion, GenerationConfig, ImagePart, Message, TextPart, VideoPart
from agents.providers.cost import CostMeter
from judge.files import atomic_write, cache_dir

log = logging.getLogger("webjudge.agents.cache")

CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    return cache_dir("llm")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages with every byte string replaced by its sha256 (JSON-serialisable)."""
    out = []
    for m in messages:
        parts: list[dict[str, Any]] = []
        for p in m.parts:
            if isinstance(p, TextPart):
                parts.append({"type": "text", "text": p.text})
            elif isinstance(p, ImagePart):
                parts.append({"type": "image", "mime": p.mime_type, "sha256": _sha(p.data)})
            elif isinstance(p, VideoPart):
                parts.append({"type": "video", "mime": p.mime_type, "sha256": _sha(p.data), "fps": p.fps,
                              "frames": [_sha(f) for f in p.frames], "times": [round(t, 6) for t in p.times_s]})
            else:
                raise TypeError(f"unknown message part {type(p).__name__}")
        out.append({"role": m.role, "parts": parts})
    return out


def _digest(doc: Any) -> str:
    return _sha(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def prompt_sha256(messages: Sequence[Message]) -> str:
    """Hash of what the model sees (messages only; no model or settings)."""
    return _digest(canonical_messages(messages))


def cache_key(model: Any, messages: Sequence[Message], config: GenerationConfig, scope: str = "") -> str:
    """The content address of a call; see the module docstring for what it covers."""
    identity = model.cache_identity() if hasattr(model, "cache_identity") else dict(model)
    return _digest({"format": CACHE_FORMAT, "scope": scope, "model": identity,
                    "config": config.key_dict(), "messages": canonical_messages(messages)})


class ResponseCache:
    """Completions stored as files under `directory`. `read=False` ignores existing
    entries (refresh); `write=False` stores nothing."""

    def __init__(self, directory: Path | str | None = None, *, scope: str = "", read: bool = True,
                 write: bool = True):
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.scope, self.read, self.write = scope, read, write

    def key(self, model: Any, messages: Sequence[Message], config: GenerationConfig) -> str:
        return cache_key(model, messages, config, self.scope)

    def path_for(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Completion | None:
        """The stored completion (as originally returned: `cached=False`, original cost), or None."""
        if not self.read:
            return None
        path = self.path_for(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("format") != CACHE_FORMAT or entry.get("key") != key:
                return None
            return Completion.model_validate(entry["completion"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("ignoring unreadable cache entry %s (%s)", path, e)
            return None

    def put(self, key: str, completion: Completion, meta: dict[str, Any] | None = None) -> bool:
        """Store atomically; refusals/content-filtered outputs are not stored (returns False)."""
        if not self.write or completion.filtered:
            return False
        entry = {"format": CACHE_FORMAT, "key": key, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "meta": meta or {}, "completion": completion.model_dump(mode="json")}
        atomic_write(self.path_for(key), json.dumps(entry, ensure_ascii=False), fsync=False)
        return True

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("??/*.json")) if self.directory.is_dir() else 0


async def cached_complete(model: Any, messages: Sequence[Message], config: GenerationConfig | None = None,
                          cache: ResponseCache | None = None, meter: CostMeter | None = None) -> Completion:
    """`model.complete` through the cache and the cost meter.

    Hit: no request, `cached=True`, `cost_usd=0.0`, original cost added to `meter.saved_usd`.
    Miss: `meter.check()` (may raise `BudgetExceeded`), the call, `meter.add(cost)`, store.
    """
    config = config or GenerationConfig()
    key = cache.key(model, messages, config) if cache is not None else None
    if cache is not None and key is not None:
        hit = cache.get(key)
        if hit is not None:
            if meter is not None:
                meter.add_saved(hit.cost_usd)
            return hit.model_copy(update={"cached": True, "cost_usd": 0.0, "latency_s": 0.0})
    if meter is not None:
        meter.check(getattr(model, "spec", ""))
    completion = await model.complete(messages, config)
    if meter is not None:
        meter.add(completion.cost_usd, completion.input_tokens, completion.output_tokens, getattr(model, "spec", ""))
    if cache is not None and key is not None:
        cache.put(key, completion, {"model": getattr(model, "spec", ""), "config": config.key_dict()})
    return completion
