"""``classic-v1``: the offline default frame embedding (no weights, no torch).

It describes colour, shape and layout of what stands out from the background,
so that a blank page is *not* similar to a page with content (the pitfall of
plain colour histograms, which the background bin dominates).

Pipeline for a batch of frames ``(N,H,W,3)`` (one video, or one screenshot):

1. Each frame is resized to 64x64 (``cv2.INTER_AREA``, after an exact
   integer pre-shrink to >= 128 px for speed; the aspect ratio is
   not kept, so a layout is described in box-relative coordinates -- DreamSim
   does the same with its 224x224 resize) and converted to CIE Lab.
2. **Background** ``bg``: the mean Lab colour of the most frequent 4-bit-per-
   channel RGB colour over *all* thumbnails of the batch.  One background per
   batch (= per video), so it cannot flip between frames; a single frame is
   its own batch.  This is the one way a row depends on the rest of the batch.
3. Per pixel, ``dE = |Lab - bg|`` and a foreground weight
   ``w = clip((dE - 6) / 20, 0, 1)`` (dE < 6 is background / noise).
   Foreground *presence* ``p = clip(mean(w) / 0.004, 0, 1)`` (full presence from
   ~16 foreground pixels of 4096).
4. Blocks (raw vectors ``v``):

   =====  ======  =================================================================
   block  weight  content
   =====  ======  =================================================================
   A      0.25    layout: the foreground weight ``w`` averaged to 16x16, Gaussian-
                  blurred (sigma 2 cells): where things are, not their colour
   B      0.30    colour: foreground-weighted soft (trilinear) Lab histogram,
                  5 (L) x 6 (a) x 6 (b) bins; only pixels with ``w > 0`` count
   Cg     0.15    shape: global histogram of edge orientations (8 unsigned bins,
                  soft), weighted by gradient magnitude (strongest Lab channel,
                  minus a noise floor of 2)
   Cc     0.20    shape + layout: the same orientation histogram in 4x4 cells
                  (bilinear spatial pooling, as in HOG)
   D      0.10    the background colour as a soft histogram (same bins as B)
   =====  ======  =================================================================

5. Each block becomes a unit vector with a "nothing here" part that names the
   background: ``u = [sqrt(q) * v/|v|, sqrt(1 - q) * h_bg]`` where ``h_bg`` is
   the unit background histogram (block D) and ``q`` is the block's presence
   (``p`` for A and B; for C, ``clip(edge_mass / 500, 0, 1)`` with edge mass = sum
   of floored gradient magnitudes, 500 ~ a 10 px edge of contrast dE 50; D is
   always present).  The embedding is ``concat_b sqrt(weight_b) * u_b`` --
   unit-norm by construction.

Hence ``cos(x, y) = sum_b weight_b * cos(u_b(x), u_b(y))``: a weighted mean of
block similarities.  Two blank frames on the same background are identical
(cos 1), blank frames on different backgrounds are not (cos ~0); a blank
frame versus a frame with clear content shares only the background block
(cos ~0.1, distance ~0.9); the same element at two places in the box keeps
B, Cg and D (0.55) and part of the blurred A and bilinear Cc.  Cost: ~1-2 ms
per frame for a 1000x600 crop.
"""
from __future__ import annotations

import cv2
import numpy as np

from .base import frame_batch, l2_normalise

__all__ = ["ClassicEmbedder"]

_S = 64  # thumbnail side
_L_BINS, _AB_BINS = 5, 6
_WEIGHTS = {"A": 0.25, "B": 0.30, "Cg": 0.15, "Cc": 0.20, "D": 0.10}


def _thumbnails_lab(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,H,W,3) uint8 RGB -> (N,S,S,3) float32 Lab (L 0..100, a/b ~ -128..127), and RGB thumbs."""
    n = len(frames)
    small = np.empty((n, _S, _S, 3), np.uint8)
    h, w = frames.shape[1:3]
    k = max(1, min(h, w) // (2 * _S))  # exact integer pre-shrink (OpenCV's fast INTER_AREA path)
    for i, f in enumerate(frames):  # crop views are fine for cv2
        if k > 1:
            f = cv2.resize(f[: h // k * k, : w // k * k], (w // k, h // k), interpolation=cv2.INTER_AREA)
        small[i] = cv2.resize(f, (_S, _S), interpolation=cv2.INTER_AREA)
    lab8 = cv2.cvtColor(small.reshape(n * _S, _S, 3), cv2.COLOR_RGB2Lab).reshape(n, _S, _S, 3)
    lab = lab8.astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    return lab, small


def _background(lab: np.ndarray, small: np.ndarray) -> np.ndarray:
    q = (small >> 4).astype(np.int32).reshape(-1, 3)
    code = (q[:, 0] << 8) | (q[:, 1] << 4) | q[:, 2]
    mode = np.argmax(np.bincount(code, minlength=4096))
    return lab.reshape(-1, 3)[code == mode].mean(axis=0)


def _soft_hist(lab: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Trilinear Lab histogram. lab (N,P,3), weights (N,P) -> (N, L*A*B).

    Only pixels with a positive weight are binned.
    """
    n = lab.shape[0]
    nb = np.array([_L_BINS, _AB_BINS, _AB_BINS])
    size = int(np.prod(nb))
    frame, pix = np.nonzero(weights > 0)
    out = np.zeros(n * size, np.float64)
    if frame.size == 0:
        return out.reshape(n, size)
    x = lab[frame, pix].astype(np.float64)
    wt = weights[frame, pix].astype(np.float64)
    lo = np.array([0.0, -90.0, -90.0])
    hi = np.array([100.0, 90.0, 90.0])
    coord = np.clip((x - lo) / (hi - lo) * nb - 0.5, 0, nb - 1)  # bin-centre units
    base = np.minimum(np.floor(coord).astype(np.int64), nb - 2)
    frac = coord - base
    fl, fa, fb = frac[:, 0], frac[:, 1], frac[:, 2]
    idx0 = frame * size + (base[:, 0] * nb[1] + base[:, 1]) * nb[2] + base[:, 2]
    for dl, wl in ((0, 1 - fl), (1, fl)):
        for da, wa in ((0, 1 - fa), (1, fa)):
            for db, wb in ((0, 1 - fb), (1, fb)):
                off = (dl * nb[1] + da) * nb[2] + db
                out += np.bincount(idx0 + off, weights=wt * wl * wa * wb, minlength=out.size)
    return out.reshape(n, size)


def _orientation_hists(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global (N,8) and 4x4-cell (N,128) orientation histograms, and edge mass (N,)."""
    lab = lab.astype(np.float32, copy=False)
    gx = np.zeros_like(lab)
    gy = np.zeros_like(lab)
    gx[:, :, 1:-1] = (lab[:, :, 2:] - lab[:, :, :-2]) * 0.5
    gy[:, 1:-1] = (lab[:, 2:] - lab[:, :-2]) * 0.5
    mag2 = gx * gx + gy * gy
    # per pixel, the Lab channel with the strongest gradient
    flat = np.arange(mag2.size // 3) * 3 + np.argmax(mag2, axis=-1).ravel()
    shape = mag2.shape[:-1]
    gx, gy, m2 = (a.reshape(-1)[flat].reshape(shape) for a in (gx, gy, mag2))
    mag = np.maximum(np.sqrt(m2) - 2.0, 0.0)
    nbin = 8
    theta = np.arctan2(gy, gx)
    theta = np.where(theta < 0, theta + np.pi, theta) * (nbin / np.pi)  # [0, 8]
    b0f = np.floor(theta)
    f = theta - b0f
    b0 = b0f.astype(np.int64) % nbin
    b1 = (b0 + 1) % nbin
    n = lab.shape[0]
    # per-pixel soft orientation histogram (2 adjacent bins), then bilinear pooling into 4x4 cells
    dense = np.zeros((n * _S * _S, nbin), np.float32)
    pix = np.arange(n * _S * _S)
    dense[pix, b0.ravel()] = (mag * (1 - f)).ravel()
    dense[pix, b1.ravel()] += (mag * f).ravel()
    dense = dense.reshape(n, _S, _S, nbin)
    cells = np.einsum("cy,nyxb,dx->ncdb", _CELL_W, dense, _CELL_W, optimize=True)
    return dense.sum(axis=(1, 2)), cells.reshape(n, -1), mag.reshape(n, -1).sum(axis=1)


def _cell_weights(cells: int = 4) -> np.ndarray:
    """(cells, S) bilinear weights of pixel rows/cols to cell centres (columns sum to 1)."""
    size = _S / cells
    centres = (np.arange(cells) + 0.5) * size - 0.5
    y = np.clip(np.arange(_S), centres[0], centres[-1])
    w = np.maximum(0.0, 1.0 - np.abs(y[None, :] - centres[:, None]) / size)
    return (w / w.sum(axis=0, keepdims=True)).astype(np.float32)


_CELL_W = _cell_weights()


def _block(v: np.ndarray, presence: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """Rows ``[sqrt(q) v/|v|, sqrt(1-q) empty]`` (``empty``: unit rows)."""
    v = v.reshape(len(v), -1)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    q = np.where(norm[:, 0] > 1e-9, np.clip(presence, 0.0, 1.0), 0.0)[:, None]
    unit = v / np.maximum(norm, 1e-12)
    return np.concatenate([np.sqrt(q) * unit, np.sqrt(1.0 - q) * empty], axis=1)


class ClassicEmbedder:
    """Offline default embedder (see module docstring). Deterministic, numpy + cv2 only."""

    name = "classic-v1"

    def embed(self, frames: np.ndarray) -> np.ndarray:
        frames = frame_batch(frames)
        n = len(frames)
        if n == 0:
            return np.zeros((0, self.dim), np.float32)
        lab, small = _thumbnails_lab(frames)
        bg = _background(lab, small)
        diff = lab - bg
        de = np.sqrt((diff * diff).sum(-1))
        w = np.clip((de - 6.0) / 20.0, 0.0, 1.0)
        presence = w.reshape(n, -1).mean(axis=1) / 0.004

        grid = 16
        k = _S // grid
        layout = w.reshape(n, grid, k, grid, k).mean(axis=(2, 4)).astype(np.float32)
        layout = np.stack([cv2.GaussianBlur(x, (0, 0), 2.0) for x in layout])
        colour = _soft_hist(lab.reshape(n, -1, 3), w.reshape(n, -1))
        glob, cells, edge_mass = _orientation_hists(lab)
        edge_q = edge_mass / 500.0
        bg_hist = l2_normalise(_soft_hist(bg[None, None, :].repeat(n, 0), np.ones((n, 1))))

        blocks = {
            "A": _block(layout, presence, bg_hist),
            "B": _block(colour, presence, bg_hist),
            "Cg": _block(glob, edge_q, bg_hist),
            "Cc": _block(cells, edge_q, bg_hist),
            "D": bg_hist,
        }
        out = np.concatenate([np.sqrt(_WEIGHTS[k]) * blocks[k] for k in _WEIGHTS], axis=1)
        out[np.abs(out) < 1e-12] = 0.0  # no float32 denormals (they make BLAS ~50x slower)
        return l2_normalise(out)

    @property
    def dim(self) -> int:
        hist = _L_BINS * _AB_BINS * _AB_BINS
        return (16 * 16) + hist + 8 + 128 + 5 * hist
