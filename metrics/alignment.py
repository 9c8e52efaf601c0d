"""Judge-versus-human statistics (pure numpy / scipy / scikit-learn / krippendorff).

Coding
------
Every pairwise comparison has two sides, A and B. An outcome is coded from A's point
of view: ``A_WINS = 0``, ``B_WINS = 1``, ``TIE = 2`` (`judge.prefs` orients every
comparison so that A is the alphabetically first model).

A *unit* (comparison) is one pair of systems on one task for one dimension; it may be
rated several times (several annotators, or one judge in both presentation orders).
Its ratings are summarised by the counts ``(n_A, n_B, n_tie)`` and its consensus by
the **mean-vote rule**: each rating scores A with 1 (A wins), 0 (B wins) or ½ (tie);
the unit's choice is A if the mean is > ½, B if < ½ and tie if exactly ½
(integer test: ``2·n_A + n_tie`` against ``n``). So 2-1 is a win, 1-1 or 1-1-1 a tie.

Bootstraps resample units with replacement (``n_units`` draws per replicate) and are
vectorised: each replicate is a row of multiplicities, and the statistic is computed
from multiplicity-weighted sums. Confidence intervals are percentile intervals.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from scipy import stats
from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score, roc_auc_score, roc_curve

A_WINS, B_WINS, TIE = 0, 1, 2
LABELS = ("A", "B", "tie")


def unit_counts(unit_index: np.ndarray, outcome: np.ndarray, n_units: int) -> np.ndarray:
    """(n_units, 3) counts of A / B / tie ratings per unit."""
    counts = np.zeros((n_units, 3), dtype=np.int64)
    np.add.at(counts, (np.asarray(unit_index), np.asarray(outcome)), 1)
    return counts


def consensus(counts: np.ndarray) -> np.ndarray:
    """Mean-vote consensus per unit from (..., 3) counts: A_WINS, B_WINS or TIE (see module doc)."""
    counts = np.asarray(counts)
    lhs = 2 * counts[..., A_WINS] + counts[..., TIE]
    n = counts.sum(axis=-1)
    return np.where(lhs > n, A_WINS, np.where(lhs < n, B_WINS, TIE))


def krippendorff_alpha_nominal(counts: np.ndarray, drop_ties: bool = False) -> float:
    """Krippendorff's α at the nominal level from per-unit category counts (units × categories).

    Nominal α depends only on the coincidence matrix
    ``o_ck = Σ_u #{ordered pairs of ratings in u with values (c, k)} / (m_u − 1)``
    (m_u = number of ratings of unit u), not on which rater gave which rating, so pooled
    ratings without annotator ids give the exact value: ``α = 1 − D_o/D_e`` with
    ``D_o = 1 − Σ_c o_cc/n`` and ``D_e = 1 − Σ_c n_c(n_c − 1)/(n(n − 1))``, n_c the
    marginals of o and n the number of pairable ratings. Units with fewer than two
    ratings are unpairable and ignored. ``drop_ties`` removes the TIE column first.
    Returns nan when α is undefined (no pairable unit, or a single category: D_e = 0).
    """
    import krippendorff

    counts = np.asarray(counts, dtype=float)
    if drop_ties:
        counts = counts[:, [A_WINS, B_WINS]]
    counts = counts[counts.sum(axis=1) >= 2]
    if len(counts) == 0 or np.count_nonzero(counts.sum(axis=0)) < 2:
        return float("nan")
    return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))


def win_table(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n_models: int) -> dict[str, np.ndarray]:
    """Per-model wins, losses, ties and games over individual ratings; ``win_rate = (wins + ties/2)/games``."""
    a, b, outcome = map(np.asarray, (a, b, outcome))
    def count(code_a: int, code_b: int) -> np.ndarray:  # times a model on side A had code_a or on side B code_b
        return np.bincount(a[outcome == code_a], minlength=n_models) + np.bincount(b[outcome == code_b],
                                                                                   minlength=n_models)
    wins, losses, ties = count(A_WINS, B_WINS), count(B_WINS, A_WINS), count(TIE, TIE)
    games = wins + losses + ties
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (wins + 0.5 * ties) / games
    return {"wins": wins, "losses": losses, "ties": ties, "games": games, "win_rate": rate}


def bt_unit_matrices(unit_a: np.ndarray, unit_b: np.ndarray, counts: np.ndarray, n_models: int) -> np.ndarray:
    """(n_units, m, m) win matrices: ``W[u, i, j]`` = wins of i over j in unit u, a tie counting ½ to each side."""
    W = np.zeros((len(counts), n_models, n_models))
    u = np.arange(len(counts))
    W[u, unit_a, unit_b] = counts[:, A_WINS] + 0.5 * counts[:, TIE]
    W[u, unit_b, unit_a] = counts[:, B_WINS] + 0.5 * counts[:, TIE]
    return W


def _bt_objective(s: np.ndarray, W: np.ndarray, ridge: float) -> np.ndarray:
    diff = s[..., :, None] - s[..., None, :]
    return (W * -np.logaddexp(0.0, -diff)).sum(axis=(-1, -2)) - 0.5 * ridge * (s ** 2).sum(axis=-1)


def bradley_terry(W: np.ndarray, ridge: float = 1e-4, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Bradley–Terry strengths maximising ``Σ_ij W_ij log σ(s_i − s_j) − ridge/2 · Σ_i s_i²``.

    ``W`` is (m, m) or batched (B, m, m) (wins of i over j, ties as ½). This is a logistic
    regression without intercept; it is fitted by damped Newton steps (IRLS, step halving
    until the penalised log-likelihood does not decrease), vectorised over the batch.
    The tiny ridge makes the optimum unique even when a model never loses and forces
    ``Σ_i s_i = 0`` at the optimum; the result is re-centred to mean 0. Strengths are in
    natural-log odds: P(i beats j) = σ(s_i − s_j).
    """
    W = np.asarray(W, dtype=float)
    single = W.ndim == 2
    W = W[None] if single else W
    m = W.shape[-1]
    N = W + np.swapaxes(W, -1, -2)
    s = np.zeros(W.shape[:-1])
    f = _bt_objective(s, W, ridge)
    eye = np.eye(m)
    for _ in range(max_iter):
        P = 1.0 / (1.0 + np.exp(-(s[..., :, None] - s[..., None, :])))
        grad = (W - N * P).sum(axis=-1) - ridge * s
        C = N * P * (1.0 - P)
        L = C.sum(axis=-1)[..., None] * eye - C  # graph Laplacian = −Hessian of the log-likelihood
        step = np.linalg.solve(L + ridge * eye, grad[..., None])[..., 0]
        t = np.ones(len(s))
        for _ in range(40):
            s_new = s + t[:, None] * step
            f_new = _bt_objective(s_new, W, ridge)
            worse = f_new < f - 1e-12 * np.abs(f)
            if not worse.any():
                break
            t[worse] *= 0.5
        s, f = s_new, f_new
        if np.max(np.abs(t[:, None] * step)) < tol:
            break
    s = s - s.mean(axis=-1, keepdims=True)
    return s[0] if single else s


def resample_counts(n_items: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n_items) multiplicities of a nonparametric bootstrap (n_items draws with replacement)."""
    idx = rng.integers(0, n_items, size=(n_boot, n_items))
    flat = idx + n_items * np.arange(n_boot)[:, None]
    return np.bincount(flat.ravel(), minlength=n_boot * n_items).reshape(n_boot, n_items).astype(float)


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0, ignoring nan replicates."""
    lo, hi = 50 * (1 - level), 50 * (1 + level)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.nanpercentile(samples, [lo, hi], axis=0)
    return q[0], q[1]


def bradley_terry_bootstrap(unit_W: np.ndarray, n_boot: int, rng: np.random.Generator,
                            level: float = 0.95, ridge: float = 1e-4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT point estimate from all units plus a percentile CI from resampling units (comparisons).

    Resampling whole units keeps the several ratings of one comparison together.
    Returns (strengths, lower, upper), each of length m.
    """
    point = bradley_terry(unit_W.sum(axis=0), ridge=ridge)
    if n_boot <= 0 or len(unit_W) == 0:
        nan = np.full_like(point, np.nan)
        return point, nan, nan
    mult = resample_counts(len(unit_W), n_boot, rng)
    m = unit_W.shape[-1]
    W_boot = (mult @ unit_W.reshape(len(unit_W), m * m)).reshape(n_boot, m, m)
    lo, hi = percentile_ci(bradley_terry(W_boot, ridge=ridge), level)
    return point, lo, hi


def weighted_auc(score: np.ndarray, label: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Mann–Whitney ROC-AUC, P(score_pos > score_neg) + ½ P(equal), with per-item weights.

    ``weights`` may be (n,) or a batch (B, n) of bootstrap multiplicities; returns a scalar
    or (B,). O(B·n) via cumulative negative weight below each distinct score. nan where
    a replicate has no positive or no negative.
    """
    score, label = np.asarray(score, float), np.asarray(label).astype(bool)
    w = np.ones((1, len(score))) if weights is None else np.atleast_2d(np.asarray(weights, float))
    order = np.argsort(score, kind="mergesort")
    s_sorted = score[order]
    group = np.concatenate([[0], np.cumsum(s_sorted[1:] != s_sorted[:-1])])
    G = group[-1] + 1 if len(group) else 0
    pos = np.zeros((len(w), G))
    neg = np.zeros((len(w), G))
    lab = label[order]
    ws = w[:, order]
    for mask, target in ((lab, pos), (~lab, neg)):
        np.add.at(target.T, group[mask], ws[:, mask].T)
    neg_below = np.cumsum(neg, axis=1) - neg
    num = (pos * (neg_below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return auc[0] if weights is None or np.ndim(weights) == 1 else auc


def auc_bootstrap(score: np.ndarray, label: np.ndarray, n_boot: int, rng: np.random.Generator,
                  level: float = 0.95) -> tuple[float, float, float]:
    """ROC-AUC (sklearn) with a percentile bootstrap CI over items; (nan, nan, nan) if one class is absent."""
    score, label = np.asarray(score, float), np.asarray(label).astype(int)
    if len(np.unique(label)) < 2:
        return float("nan"), float("nan"), float("nan")
    auc = float(roc_auc_score(label, score))
    if n_boot <= 0:
        return auc, float("nan"), float("nan")
    lo, hi = percentile_ci(weighted_auc(score, label, resample_counts(len(score), n_boot, rng)), level)
    return auc, float(lo), float(hi)


def roc_points(score: np.ndarray, label: np.ndarray) -> list[tuple[float, float]]:
    """ROC curve as (false-positive rate, true-positive rate) points; empty if one class is absent."""
    if len(np.unique(np.asarray(label))) < 2:
        return []
    fpr, tpr, _ = roc_curve(np.asarray(label).astype(int), np.asarray(score, float))
    return [(float(x), float(y)) for x, y in zip(fpr, tpr)]


def sign_agreement(delta: np.ndarray, human: np.ndarray, eps: float = 0.0) -> dict[str, float]:
    """Does sign(Δ) pick the human choice?

    Human ties are excluded (``n_human_tie``); among decisive comparisons, |Δ| ≤ eps is a
    metric tie (``n_metric_tie``, counted separately, not as agreement).
    ``agreement = n_agree / (n_agree + n_disagree + n_metric_tie)``;
    ``agreement_untied = n_agree / (n_agree + n_disagree)``.
    """
    delta, human = np.asarray(delta, float), np.asarray(human)
    decisive = human != TIE
    pred = np.where(delta > eps, A_WINS, np.where(delta < -eps, B_WINS, TIE))[decisive]
    truth = human[decisive]
    agree = int(np.sum(pred == truth))
    mtie = int(np.sum(pred == TIE))
    disagree = len(truth) - agree - mtie
    return {"n_agree": agree, "n_disagree": disagree, "n_metric_tie": mtie,
            "n_human_tie": int(np.sum(~decisive)),
            "agreement": agree / len(truth) if len(truth) else float("nan"),
            "agreement_untied": agree / (agree + disagree) if agree + disagree else float("nan")}


def classification_agreement(human: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Three-class (A / B / tie) agreement of predictions with the human consensus.

    ``agreement`` = share of exact matches; ``balanced_accuracy`` = mean recall over the
    classes present in the human labels; ``kappa`` = Cohen's κ over the labels A/B/tie
    (nan when undefined, e.g. a single class on both sides).
    """
    human, pred = np.asarray(human, int), np.asarray(pred, int)
    if len(human) == 0:
        return {"n": 0, "agreement": float("nan"), "balanced_accuracy": float("nan"), "kappa": float("nan")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bal = float(balanced_accuracy_score(human, pred))
        kappa = float(cohen_kappa_score(human, pred, labels=[A_WINS, B_WINS, TIE]))
    return {"n": int(len(human)), "agreement": float(np.mean(human == pred)),
            "balanced_accuracy": bal, "kappa": kappa}


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Kendall's τ-b (ties corrected) and its two-sided p-value; nan for fewer than two items."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2:
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.kendalltau(x, y, variant="b")
    return float(res.statistic), float(res.pvalue)


def swap_consistency(first: np.ndarray, second: np.ndarray) -> float:
    """Share of comparisons whose verdict (oriented to the same A/B) is the same in both presentation orders."""
    first, second = np.asarray(first), np.asarray(second)
    return float(np.mean(first == second)) if len(first) else float("nan")
