"""Dynamic time warping on a precomputed cost matrix.

``dtw(C)`` aligns a sequence of ``N`` items with one of ``M`` items given the
cost ``C[i, j]`` of matching item ``i`` with item ``j``.

* Steps: ``(1,0)``, ``(0,1)``, ``(1,1)``; the path starts at ``(0,0)`` and ends
  at ``(N-1, M-1)``.
* Accumulated cost ``D[i,j] = C[i,j] + min(D[i-1,j], D[i,j-1], D[i-1,j-1])``;
  the returned path is the minimum-sum path.
* **Normalised cost** = (sum of ``C`` along that path) / (number of cells on the
  path).  For cost in [0, 1] the result is in [0, 1].
* Ties on backtracking prefer the diagonal step, then ``(1,0)``, then ``(0,1)``.

The recurrence is evaluated one anti-diagonal at a time (all cells with the
same ``i + j`` are independent), so there are ``N + M - 1`` vectorised numpy
steps: a 150 x 150 matrix takes a few milliseconds.
"""
from __future__ import annotations

import numpy as np

__all__ = ["dtw"]


def dtw(cost: np.ndarray) -> tuple[float, np.ndarray]:
    """Return ``(normalised_cost, path)``; ``path`` is (L,2) int64 rows ``(i, j)``."""
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise ValueError(f"cost must be a non-empty 2-D matrix, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("cost contains non-finite values")
    n, m = c.shape
    # Skewed storage: A[s, i] holds the accumulated cost of padded cell (i, s - i),
    # padded cell (i, j) being cell (i-1, j-1) of C.  Every anti-diagonal is then a
    # contiguous row and the recurrence uses slices only.
    a = np.full((n + m + 1, n + 1), np.inf)
    a[0, 0] = 0.0
    cs = np.full((n + m + 1, n + 1), np.inf)
    ii, jj = np.meshgrid(np.arange(1, n + 1), np.arange(1, m + 1), indexing="ij")
    cs[ii + jj, ii] = c
    for s in range(2, n + m + 1):
        lo, hi = max(1, s - m), min(n, s - 1) + 1
        best = np.minimum(np.minimum(a[s - 1, lo - 1 : hi - 1], a[s - 1, lo:hi]), a[s - 2, lo - 1 : hi - 1])
        a[s, lo:hi] = cs[s, lo:hi] + best
    # Backtrack (padded coordinates).
    i, j = n, m
    path = [(n - 1, m - 1)]
    while (i, j) != (1, 1):
        s = i + j
        diag, up, left = a[s - 2, i - 1], a[s - 1, i - 1], a[s - 1, i]
        if diag <= up and diag <= left:
            i, j = i - 1, j - 1
        elif up <= left:
            i -= 1
        else:
            j -= 1
        path.append((i - 1, j - 1))
    p = np.asarray(path[::-1], dtype=np.int64)
    total = float(c[p[:, 0], p[:, 1]].sum())
    return total / len(p), p
