"""Which class answers a model string: the registry of providers.

`provider/model` strings name an API provider (`openai`, `anthropic`, `google`: their SDKs
are imported only when resolved); the offline baselines (`reference`, `blank`,
`first-frame`, `replay:DIR`) are the `offline` provider, resolved here like any other.
"""
from __future__ import annotations

import importlib
from typing import Any

from .base import UnknownModel
from .offline import OfflineModel

PROVIDERS: dict[str, tuple[str, str]] = {
    "openai": ("agents.providers.openai", "OpenAIModel"),
    "anthropic": ("agents.providers.anthropic", "AnthropicModel"),
    "google": ("agents.providers.google", "GoogleModel"),
}
OFFLINE_NAMES = ("reference", "blank", "first-frame", "replay:DIR")


def parse_model_spec(spec: str) -> tuple[str, str]:
    """Split `provider/model` at the first slash (model names may contain slashes).
    Offline baselines parse as `("offline", name)`."""
    spec = (spec or "").strip()
    if spec in ("reference", "blank", "first-frame") or spec.startswith("replay:"):
        return "offline", spec
    provider, sep, name = spec.partition("/")
    if not sep or not provider or not name:
        raise UnknownModel(f"model {spec!r} is not of the form provider/model (providers: "
                           f"{', '.join(PROVIDERS)}; offline baselines: {', '.join(OFFLINE_NAMES)})")
    return provider.lower(), name


def get_model(spec: str, *, base_url: str | None = None, **kwargs: Any):
    """Resolve a model string to a `Model` (or an `OfflineModel` for the baselines).

    Keyword arguments (`api_key`, `http_client`, `max_attempts`, `max_concurrency`,
    `timeout_s`, `sleep`, `price`, ...) go to the adapter; no key is read here.
    """
    provider, name = parse_model_spec(spec)
    if provider == "offline":
        return OfflineModel(name)
    if provider not in PROVIDERS:
        raise UnknownModel(f"unknown provider {provider!r} in model {spec!r}; known providers: "
                           f"{', '.join(PROVIDERS)} (offline baselines: {', '.join(OFFLINE_NAMES)})")
    module, cls = PROVIDERS[provider]
    return getattr(importlib.import_module(module), cls)(name, base_url=base_url, **kwargs)
