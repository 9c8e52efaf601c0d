"""The frame-embedder interface shared by the appearance metric (and VFS).

An embedder maps frames ``(N,H,W,3) uint8`` RGB to ``(N,D) float32`` rows of
unit L2 norm.  Perceptual distance between two frames = ``1 - cosine`` of their
embeddings (= ``1 - dot`` since rows are unit-norm); see :func:`cosine_distance`.

Every embedder has a ``name`` recorded next to each score it produces
(``"classic-v1"``, ``"dreamsim:ensemble"``, ...).  Embeddings made with
different names are not comparable.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Embedder", "BackendUnavailable", "cosine_distance", "frame_batch", "l2_normalise"]


class BackendUnavailable(RuntimeError):
    """A learned backend cannot run here (missing package, weights or checkout)."""


@runtime_checkable
class Embedder(Protocol):
    name: str

    def embed(self, frames: np.ndarray) -> np.ndarray:
        """``(N,H,W,3) uint8`` -> ``(N,D) float32``, rows L2-normalised."""
        ...


def frame_batch(frames) -> np.ndarray:
    """``frames`` as an ``(N,H,W,3) uint8`` array (one ``(H,W,3)`` frame becomes N=1)."""
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (N,H,W,3) uint8, got {frames.shape} {frames.dtype}")
    return frames


def l2_normalise(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, eps)).astype(np.float32)


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,D) x (M,D) -> (N,M) matrix of ``1 - cos``, in [0, 2]."""
    a = l2_normalise(a)
    b = l2_normalise(b)
    a[np.abs(a) < 1e-12] = 0.0  # float32 denormals make the matmul crawl
    b[np.abs(b) < 1e-12] = 0.0
    return np.clip(1.0 - a @ b.T, 0.0, 2.0).astype(np.float32)
