"""Frame embedders for the appearance metric (and VFS).

``get_embedder(name)``:

* ``"classic"``  -> :class:`ClassicEmbedder` (``classic-v1``; offline, no weights)
* ``"dreamsim"`` -> :class:`DreamSimEmbedder` (raises ``BackendUnavailable`` when
  the package or weights are missing; never downloads)
* ``"auto"``     -> DreamSim when its weights are available, else classic.

DreamSim config: ``cache_dir`` (else env ``WEBJUDGE_DREAMSIM_DIR``),
``dreamsim_type`` (else env ``WEBJUDGE_DREAMSIM_TYPE``, else ``"ensemble"``),
``device`` (``"cpu"``).  ``embedder_status()`` lists ``(name, ok, reason)`` for
``judge doctor``.
"""
from __future__ import annotations

import os

from .base import BackendUnavailable, Embedder, cosine_distance, l2_normalise
from .classic import ClassicEmbedder

__all__ = ["get_embedder", "embedder_status", "Embedder", "BackendUnavailable", "ClassicEmbedder",
           "cosine_distance", "l2_normalise"]


def _dreamsim_type(cfg: dict) -> str:
    return cfg.get("dreamsim_type") or os.environ.get("WEBJUDGE_DREAMSIM_TYPE") or "ensemble"


def get_embedder(name: str = "auto", **cfg) -> Embedder:
    """Build an embedder by backend name ("auto" | "classic" | "dreamsim")."""
    if name == "classic":
        return ClassicEmbedder()
    if name in ("dreamsim", "auto"):
        from .dreamsim import DreamSimEmbedder, availability

        dtype = _dreamsim_type(cfg)
        if name == "auto" and not availability(cfg.get("cache_dir"), dtype)[0]:
            return ClassicEmbedder()
        return DreamSimEmbedder(cache_dir=cfg.get("cache_dir"), dreamsim_type=dtype,
                                device=cfg.get("device", "cpu"))
    raise ValueError(f"unknown embedder {name!r}: use 'auto', 'classic' or 'dreamsim'")


def embedder_status(**cfg) -> list[tuple[str, bool, str]]:
    """``[(name, ok, reason)]`` for every embedding backend."""
    from .dreamsim import availability

    dtype = _dreamsim_type(cfg)
    ok, why = availability(cfg.get("cache_dir"), dtype)
    return [
        (ClassicEmbedder.name, True, "built in (no weights)"),
        (f"dreamsim:{dtype}", ok, why),
    ]
