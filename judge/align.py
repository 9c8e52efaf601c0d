"""`judge align`: how well do metrics and judges agree with human pairwise preferences?

    judge align --prefs FILE [--prefs-format auto|a2c|generic] [--run [NAME=]RUN ...]
                [--metric DIM=METRIC ...] [--pairwise FILE ...] [--bootstrap N] [--seed S]
                [--json] [--html FILE] [--allow-missing]

Human side (needs only the prefs file; see `judge.prefs` for formats and orientation).
A unit is (task, unordered model pair, dimension); every row is one rating of it.
Per dimension: Krippendorff's α (nominal; categories A wins / B wins / tie, and with tie
ratings dropped), tie rates, win rates per model ((wins + ties/2)/games over ratings),
Bradley–Terry strengths over all ratings (ties half; `metrics.alignment.bradley_terry`)
with percentile CIs from resampling units. The human *choice* of a unit is the mean-vote
consensus (`metrics.alignment.consensus`).

Metric side (needs ``--run``). Scores are joined on (model, task) from each run's
``results.jsonl``; the model is ``NAME`` from ``--run NAME=RUN``, else the row's
``model``, else run.json's ``model``. Rows with a ``judge_error`` are not scored and count
as missing. ``--metric DIM=METRIC`` (repeatable; replaces the default for DIM) maps a
dimension to a numeric results field or ``mean(f1,f2,...)``. Defaults: motion → temporal,
appearance → appearance, overall → final, or ``mean(appearance,temporal)`` when no row has
a non-null ``final`` (animation runs; a note says so); another dimension → the field of
the same name if any. Per dimension and metric, with Δ = score(A) − score(B):
ROC-AUC of Δ against "A preferred" over units with a decisive human choice (bootstrap CI
over units), sign agreement (`metrics.alignment.sign_agreement`), three-class agreement /
balanced accuracy / Cohen's κ of sign(Δ), and Kendall's τ-b between the models' mean
scores (over the tasks of the units used) and the human BT strengths. A unit whose score
is missing for either model is dropped and counted; a prefs model that no run provides
is an error unless ``--allow-missing``.

Judge side (``--pairwise FILE``): per judge model and dimension, the judge's consensus
per unit (mean vote over its valid verdicts, so disagreeing orders give a tie) against the
human consensus (agreement, balanced accuracy over A/B/tie, κ), the swap-consistency rate
(units judged in both orders whose consensus is the same in each order) and the share
of decisive verdicts that pick the model shown first.
"""
from __future__ import annotations

import argparse
import html
import json
import math
import re
import sys
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from judge.errors import reporting
from judge.prefs import FORMATS, Prefs, PrefsError, Verdict, load_pairwise, load_prefs, load_runs
from metrics import alignment as st

DEFAULT_METRICS = {"motion": "temporal", "appearance": "appearance", "overall": "final"}
FINAL_FALLBACK = "mean(appearance,temporal)"
SCORE_FIELDS = ("exec", "appearance", "temporal", "static", "ifs", "vfs", "final")  # CONTRACTS.md results fields
_MEAN = re.compile(r"mean\(\s*([\w.]+(?:\s*,\s*[\w.]+)*)\s*\)")


def metric_value(expr: str, row: dict | None) -> float | None:
    """Value of a metric expression (field name or ``mean(f1,f2,...)``) for one results row."""
    if row is None:
        return None
    m = _MEAN.fullmatch(expr.replace(" ", ""))
    fields = [f.strip() for f in m.group(1).split(",")] if m else [expr]
    vals = [row.get(f) for f in fields]
    if any(v is None or isinstance(v, str) or (isinstance(v, float) and math.isnan(v)) for v in vals):
        return None
    return float(np.mean([float(v) for v in vals]))


def metric_map(prefs: Prefs, scores: dict, specs: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Dimension → metric expressions (defaults + ``DIM=METRIC`` overrides) and notes for the output."""
    numeric = {k for r in scores.values() for k, v in r.items()
               if isinstance(v, (int, float)) and not k.startswith("_")} | set(SCORE_FIELDS)
    given: dict[str, list[str]] = defaultdict(list)
    for spec in specs:
        dim, eq, expr = spec.partition("=")
        dim, expr = dim.strip(), re.sub(r"\s+", "", expr)
        if not eq or not dim or not expr:
            raise PrefsError("--metric", f"expected DIM=METRIC, got {spec!r}")
        if dim not in prefs.dimensions:
            raise PrefsError("--metric", f"unknown dimension {dim!r} (prefs have {', '.join(prefs.dimensions)})")
        m = _MEAN.fullmatch(expr.replace(" ", ""))
        for f in ([x.strip() for x in m.group(1).split(",")] if m else [expr]):
            if f not in numeric:
                raise PrefsError("--metric", f"unknown metric {f!r} for {dim} (runs have {', '.join(sorted(numeric))})")
        given[dim].append(expr)
    out, notes = {}, []
    has_final = any(r.get("final") is not None for r in scores.values())
    for dim in prefs.dimensions:
        if dim in given:
            out[dim] = given[dim]
            continue
        default = DEFAULT_METRICS.get(dim, dim if dim in numeric else None)
        if default == "final" and not has_final:
            default = FINAL_FALLBACK
            notes.append(f"overall: 'final' is null in every run row (animation runs), so overall uses "
                         f"{FINAL_FALLBACK}; choose another with --metric overall=METRIC")
        if default is None:
            notes.append(f"{dim}: no default metric; map one with --metric {dim}=METRIC")
        else:
            out[dim] = [default]
    return out, notes


def _rng(seed: int, *label: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("/".join(label).encode())])


def _human(prefs: Prefs, dim: str, n_boot: int, seed: int, level: float) -> tuple[dict, dict]:
    rs = [r for r in prefs.ratings if r.dimension == dim]
    models = sorted({r.a for r in rs} | {r.b for r in rs})
    idx = {m: i for i, m in enumerate(models)}
    units: dict[tuple[str, str, str], int] = {}
    uidx = np.array([units.setdefault((r.task_id, r.a, r.b), len(units)) for r in rs])
    out = np.array([r.outcome for r in rs])
    counts = st.unit_counts(uidx, out, len(units))
    ua = np.array([idx[k[1]] for k in units])
    ub = np.array([idx[k[2]] for k in units])
    wt = st.win_table(np.array([idx[r.a] for r in rs]), np.array([idx[r.b] for r in rs]), out, len(models))
    bt, lo, hi = st.bradley_terry_bootstrap(st.bt_unit_matrices(ua, ub, counts, len(models)), n_boot,
                                            _rng(seed, "bt", dim), level)
    cons = st.consensus(counts)
    per_unit = np.bincount(counts.sum(axis=1))
    res = {
        "n_ratings": len(rs), "n_units": len(units),
        "ratings_per_unit": {str(k): int(v) for k, v in enumerate(per_unit) if v},
        "n_annotators": len({r.annotator for r in rs if r.annotator}) or None,
        "tie_rate_ratings": float(np.mean(out == st.TIE)),
        "tie_rate_units": float(np.mean(cons == st.TIE)),
        "alpha_nominal": st.krippendorff_alpha_nominal(counts),
        "alpha_nominal_no_ties": st.krippendorff_alpha_nominal(counts, drop_ties=True),
        "models": {m: {"wins": int(wt["wins"][i]), "losses": int(wt["losses"][i]), "ties": int(wt["ties"][i]),
                       "games": int(wt["games"][i]), "win_rate": float(wt["win_rate"][i]),
                       "bt": float(bt[i]), "bt_ci": [float(lo[i]), float(hi[i])]} for m, i in idx.items()},
        "bt_order": [models[i] for i in np.argsort(-bt, kind="stable")],
    }
    consensus = {k: int(cons[i]) for k, i in units.items()}
    return res, consensus


def _metric_rows(dim: str, cons: dict, human: dict, scores: dict, exprs: list[str], absent: set,
                 n_boot: int, seed: int, level: float) -> list[dict]:
    rows = []
    for expr in exprs:
        keys, deltas, miss_pairs, n_absent = [], [], set(), 0
        for key in cons:
            task, a, b = key
            if a in absent or b in absent:
                n_absent += 1
                continue
            va, vb = (metric_value(expr, scores.get((m, task))) for m in (a, b))
            if va is None or vb is None:
                miss_pairs |= {(m, task) for m, v in ((a, va), (b, vb)) if v is None}
                continue
            keys.append(key)
            deltas.append(va - vb)
        delta = np.array(deltas, float)
        h = np.array([cons[k] for k in keys], int)
        dec = h != st.TIE
        auc, lo, hi = st.auc_bootstrap(delta[dec], h[dec] == st.A_WINS, n_boot, _rng(seed, "auc", dim, expr), level)
        pred = np.where(delta > 0, st.A_WINS, np.where(delta < 0, st.B_WINS, st.TIE))
        per_model = defaultdict(dict)
        for task, a, b in keys:
            for m in (a, b):
                per_model[m][task] = metric_value(expr, scores[(m, task)])
        means = {m: float(np.mean(list(v.values()))) for m, v in sorted(per_model.items())}
        common = [m for m in means if m in human["models"]]
        tau, p = st.kendall_tau_b([means[m] for m in common], [human["models"][m]["bt"] for m in common])
        rows.append({"kind": "metric", "dimension": dim, "name": expr, "n_units": len(cons), "n_used": len(keys),
                     "n_missing_units": len(cons) - len(keys) - n_absent, "n_unscored_model_units": n_absent,
                     "missing_pairs": len(miss_pairs), "missing_examples": [list(x) for x in sorted(miss_pairs)[:5]],
                     "auc": auc, "auc_ci": [lo, hi], **st.sign_agreement(delta, h),
                     "three_class": st.classification_agreement(h, pred), "model_means": means,
                     "kendall_tau_b": tau, "kendall_p": p,
                     "roc": [[round(x, 4), round(y, 4)] for x, y in st.roc_points(delta[dec], h[dec] == st.A_WINS)]})
    return rows


def _judge_rows(verdicts: list[Verdict], consensus: dict[str, dict]) -> list[dict]:
    groups: dict[tuple[str, str], dict] = defaultdict(lambda: defaultdict(list))
    for v in verdicts:
        groups[(v.judge_model, v.dimension)][(v.task_id, v.a, v.b)].append(v)
    rows = []
    for (judge, dim), units in sorted(groups.items()):
        valid = {k: [v for v in vs if v.outcome is not None] for k, vs in units.items()}
        vote = {k: int(st.consensus(np.bincount([v.outcome for v in vs], minlength=3)))
                for k, vs in valid.items() if vs}
        first, second = [], []
        for vs in valid.values():
            by = {o: [v.outcome for v in vs if v.order == o] for o in ("ab", "ba")}
            if by["ab"] and by["ba"]:
                first.append(st.consensus(np.bincount(by["ab"], minlength=3)))
                second.append(st.consensus(np.bincount(by["ba"], minlength=3)))
        decisive = [v for vs in valid.values() for v in vs if v.outcome != st.TIE]
        picks_first = [(v.a if v.outcome == st.A_WINS else v.b) == v.shown_first for v in decisive]
        hum = consensus.get(dim, {})
        matched = [k for k in vote if k in hum]
        h = np.array([hum[k] for k in matched], int)
        j = np.array([vote[k] for k in matched], int)
        dec = h != st.TIE
        n_pos, n_neg = int(np.sum(h == st.A_WINS)), int(np.sum(h == st.B_WINS))
        rows.append({"kind": "judge", "dimension": dim, "name": judge, "n_verdicts": sum(map(len, units.values())),
                     "n_failed": sum(len(units[k]) - len(valid[k]) for k in units), "n_units": len(units),
                     "n_used": len(matched), "n_unmatched": len(vote) - len(matched),
                     "n_human_tie": int(np.sum(~dec)),
                     "agreement": float(np.mean(j[dec] == h[dec])) if dec.any() else float("nan"),
                     "three_class": st.classification_agreement(h, j),
                     "swap_units": len(first), "swap_consistency": st.swap_consistency(first, second),
                     "first_position_rate": float(np.mean(picks_first)) if picks_first else float("nan"),
                     "roc_point": [float(np.sum((j == st.A_WINS) & (h == st.B_WINS)) / n_neg) if n_neg else None,
                                   float(np.sum((j == st.A_WINS) & (h == st.A_WINS)) / n_pos) if n_pos else None]})
    return rows


def align(prefs: Prefs, scores: dict | None = None, runs_info: list | None = None, metric_specs: list[str] = (),
          verdicts: list[Verdict] = (), n_boot: int = 1000, seed: int = 0, allow_missing: bool = False,
          level: float = 0.95) -> dict:
    """Compute the whole alignment report (the ``--json`` object); raises `PrefsError` on bad input."""
    report: dict[str, Any] = {
        "prefs": {"path": prefs.path, "format": prefs.format, "n_rows": prefs.n_rows, "n_ratings": len(prefs.ratings),
                  "models": prefs.models, "dimensions": prefs.dimensions},
        "settings": {"bootstrap": n_boot, "seed": seed, "ci_level": level, "consensus": "mean vote",
                     "orientation": "A = alphabetically first model"},
        "runs": runs_info or [], "notes": [], "human": {}, "alignment": []}
    consensus = {}
    for dim in prefs.dimensions:
        report["human"][dim], consensus[dim] = _human(prefs, dim, n_boot, seed, level)
    if scores is not None and runs_info:
        run_models = {m for r in runs_info for m in r["models"]}
        absent = set(prefs.models) - run_models
        if absent and not allow_missing:
            names = ", ".join(map(repr, sorted(absent)))
            raise PrefsError(prefs.path, f"model {names} has no run (give --run NAME=RUN for it, "
                                         "or --allow-missing)", "model")
        if absent:
            report["notes"].append(f"no run for model(s) {', '.join(sorted(absent))}: their comparisons are skipped")
        mmap, notes = metric_map(prefs, scores, list(metric_specs))
        report["notes"] += notes
        report["settings"]["metrics"] = mmap
        missing = sorted({(m, r.task_id) for r in prefs.ratings for m in (r.a, r.b)
                          if m not in absent and (m, r.task_id) not in scores})
        report["missing"] = {"model_task_pairs": len(missing), "examples": [list(x) for x in missing[:5]]}
        if missing:
            report["notes"].append(f"{len(missing)} (model, task) pairs compared by humans have no score in any run")
        for dim, exprs in mmap.items():
            report["alignment"] += _metric_rows(dim, consensus[dim], report["human"][dim], scores, exprs, absent,
                                                n_boot, seed, level)
    if verdicts:
        report["alignment"] += _judge_rows(list(verdicts), consensus)
    return _clean(report)


def _clean(x: Any) -> Any:
    """JSON-safe copy: nan/inf → None, numpy scalars → Python."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    return x.item() if isinstance(x, np.generic) else x


def _f(x: Any, spec: str = ".3f") -> str:
    return "—" if x is None else format(x, spec)


def render_table(r: dict) -> str:
    """Terminal tables: human agreement, BT strengths / win rates, metric and judge alignment."""
    p, dims = r["prefs"], r["prefs"]["dimensions"]
    out = [f"prefs {p['path']} ({p['format']}): {p['n_rows']} rows, {p['n_ratings']} ratings, "
           f"{len(p['models'])} models, dimensions {', '.join(dims)}"]
    out += [f"note: {n}" for n in r["notes"]]
    out += ["", "Human agreement (unit = task x unordered model pair; Krippendorff alpha, nominal)",
            f"{'dimension':<12}{'ratings':>8}{'units':>7}{'tie rate':>10}{'tie units':>10}"
            f"{'alpha':>8}{'alpha no-tie':>13}"]
    for d in dims:
        h = r["human"][d]
        out.append(f"{d:<12}{h['n_ratings']:>8}{h['n_units']:>7}{h['tie_rate_ratings']:>10.1%}"
                   f"{h['tie_rate_units']:>10.1%}{_f(h['alpha_nominal']):>8}{_f(h['alpha_nominal_no_ties']):>13}")
    s = r["settings"]
    out += ["", f"Human Bradley-Terry strength (log-odds, mean 0) [{s['ci_level']:.0%} CI, {s['bootstrap']} unit "
                f"resamples]  win rate (ties 1/2)", f"{'model':<12}" + "".join(f"{d:<30}" for d in dims)]
    first = r["human"][dims[0]]
    for m in first["bt_order"] + [m for m in p["models"] if m not in first["bt_order"]]:
        cells = []
        for d in dims:
            x = r["human"][d]["models"].get(m)
            cells.append(f"{'':<30}" if x is None else
                         f"{x['bt']:+.2f} [{_f(x['bt_ci'][0], '+.2f')},{_f(x['bt_ci'][1], '+.2f')}] "
                         f"{x['win_rate']:>5.1%}".ljust(30))
        out.append(f"{m:<12}" + "".join(cells))
    if r["alignment"]:
        out += ["", "Alignment with the human choice (agree: decisive human units; 3-class: A/B/tie)",
                f"{'dimension':<12}{'kind':<7}{'name':<26}{'used':>5}{'miss':>5}{'h.tie':>6}  {'AUC [CI]':<20}"
                f"{'agree':>6}{'bal.acc':>8}{'kappa':>7}{'swap':>6}{'tau-b':>7}"]
        for a in r["alignment"]:
            miss, t3 = a.get("n_missing_units", a.get("n_unmatched")), a["three_class"]
            lo, hi = a.get("auc_ci", (None, None))
            auc = f"{_f(a.get('auc'))} [{_f(lo, '.2f')},{_f(hi, '.2f')}]" if a["kind"] == "metric" else ""
            out.append(f"{a['dimension']:<12}{a['kind']:<7}{a['name'][:25]:<26}{a['n_used']:>5}{miss:>5}"
                       f"{a['n_human_tie']:>6}  {auc:<20}{_f(a['agreement'], '.2f'):>6}"
                       f"{_f(t3['balanced_accuracy'], '.2f'):>8}{_f(t3['kappa'], '.2f'):>7}"
                       f"{_f(a.get('swap_consistency'), '.2f') if a['kind'] == 'judge' else '':>6}"
                       f"{_f(a.get('kendall_tau_b'), '+.2f') if a['kind'] == 'metric' else '':>7}")
    return "\n".join(out)


_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _roc_svg(rows: list[dict]) -> str:
    x0, y0, w = 40, 10, 220
    px = lambda f, t: f"{x0 + w * f:.1f},{y0 + w * (1 - t):.1f}"  # noqa: E731
    parts = [f'<rect x="{x0}" y="{y0}" width="{w}" height="{w}" fill="none" stroke="#999"/>',
             f'<line x1="{x0}" y1="{y0 + w}" x2="{x0 + w}" y2="{y0}" stroke="#bbb" stroke-dasharray="4 3"/>',
             f'<text x="{x0 + w / 2}" y="{y0 + w + 28}" text-anchor="middle">false-positive rate</text>',
             f'<text x="12" y="{y0 + w / 2}" transform="rotate(-90 12 {y0 + w / 2})" text-anchor="middle">'
             f'true-positive rate</text>', f'<text x="{x0}" y="{y0 + w + 13}" text-anchor="middle">0</text>',
             f'<text x="{x0 + w}" y="{y0 + w + 13}" text-anchor="middle">1</text>',
             f'<text x="{x0 - 4}" y="{y0 + 4}" text-anchor="end">1</text>']
    for i, a in enumerate(rows):
        c, label = _COLORS[i % len(_COLORS)], html.escape(a["name"])
        if a["kind"] == "metric" and a["roc"]:
            parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="'
                         f'{" ".join(px(f, t) for f, t in a["roc"])}"><title>{label} AUC {_f(a["auc"])}</title>'
                         f'</polyline>')
        elif a["kind"] == "judge" and None not in a["roc_point"]:
            parts.append(f'<circle cx="{px(*a["roc_point"]).split(",")[0]}" cy="{px(*a["roc_point"]).split(",")[1]}"'
                         f' r="5" fill="{c}"><title>{label}</title></circle>')
    return f'<svg width="280" height="275" font-size="11">{"".join(parts)}</svg>'


def _bt_svg(h: dict) -> str:
    models = h["bt_order"]
    vals = [v for m in models for v in [h["models"][m]["bt"], *h["models"][m]["bt_ci"]] if v is not None]
    lo, hi = min(vals + [0.0]) - 0.1, max(vals + [0.0]) + 0.1
    x0, w = 80, 200
    X = lambda v: x0 + w * (v - lo) / (hi - lo)  # noqa: E731
    parts = [f'<line x1="{X(0):.1f}" y1="0" x2="{X(0):.1f}" y2="{22 * len(models) + 4}" stroke="#bbb"/>']
    for i, m in enumerate(models):
        x, y = h["models"][m], 16 + 22 * i
        if None not in x["bt_ci"]:
            parts.append(f'<line x1="{X(x["bt_ci"][0]):.1f}" y1="{y}" x2="{X(x["bt_ci"][1]):.1f}" y2="{y}" '
                         f'stroke="#333" stroke-width="2"/>')
        parts.append(f'<circle cx="{X(x["bt"]):.1f}" cy="{y}" r="4" fill="#1f77b4"/>'
                     f'<text x="{x0 - 6}" y="{y + 4}" text-anchor="end">{html.escape(m)}</text>'
                     f'<text x="{x0 + w + 6}" y="{y + 4}">{x["bt"]:+.2f} ({x["win_rate"]:.0%})</text>')
    parts += [f'<text x="{X(v):.1f}" y="{22 * len(models) + 18}" text-anchor="middle">{v:+.1f}</text>'
              for v in (lo + 0.1, hi - 0.1)]
    return f'<svg width="400" height="{22 * len(models) + 24}" font-size="11">{"".join(parts)}</svg>'


def render_html(r: dict) -> str:
    """Self-contained HTML: per dimension, ROC curves of metrics (judges as points) and BT strengths with CIs."""
    sections = []
    for d in r["prefs"]["dimensions"]:
        rows = [a for a in r["alignment"] if a["dimension"] == d]
        legend = "".join(
            f'<li style="color:{_COLORS[i % len(_COLORS)]}">{a["kind"]} {html.escape(a["name"])}: '
            + (f'AUC {_f(a["auc"])} [{_f(a["auc_ci"][0], ".2f")}, {_f(a["auc_ci"][1], ".2f")}], n={a["n_used"]}'
               if a["kind"] == "metric" else f'agreement {_f(a["agreement"], ".2f")}, n={a["n_used"]}') + "</li>"
            for i, a in enumerate(rows))
        h = r["human"][d]
        sections.append(
            f'<section><h2>{html.escape(d)}</h2><p>alpha {_f(h["alpha_nominal"])} (ties dropped '
            f'{_f(h["alpha_nominal_no_ties"])}), tie rate {h["tie_rate_ratings"]:.1%}, {h["n_units"]} units</p>'
            f'<div class="row"><div><h3>ROC of score difference vs "A preferred" (human ties excluded); '
            f'judges as points</h3>{_roc_svg(rows) if rows else ""}</div><div><h3>Human Bradley-Terry strength, '
            f'{r["settings"]["ci_level"]:.0%} CI (win rate)</h3>{_bt_svg(h)}</div></div><ul>{legend}</ul></section>')
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in r["notes"])
    return ("<!doctype html><html><head><meta charset='utf-8'><title>judge align</title><style>"
            "body{font-family:sans-serif;margin:1em}.row{display:flex;gap:2em;flex-wrap:wrap}"
            "section{border-top:1px solid #ccc}h3{font-size:12px;font-weight:normal}</style></head><body>"
            f"<h1>judge align: {html.escape(r['prefs']['path'])}</h1><ul>{notes}</ul>{''.join(sections)}"
            "</body></html>")



def run(args: argparse.Namespace) -> int:
    prefs = load_prefs(args.prefs, args.prefs_format)      # a PrefsError: exit 2 (judge.cli.dispatch)
    scores, info = load_runs(args.run) if args.run else (None, [])
    verdicts = [v for f in args.pairwise for v in load_pairwise(f)]
    report = align(prefs, scores, info, args.metric, verdicts, args.bootstrap, args.seed, args.allow_missing)
    print(json.dumps(report, allow_nan=False) if args.json else render_table(report), flush=True)
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("align", help="measure metrics and judges against human pairwise preferences",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--prefs", required=True, help="preference file (CSV or JSONL; Animation2Code or generic format)")
    p.add_argument("--prefs-format", choices=FORMATS, default="auto")
    p.add_argument("--run", action="extend", nargs="+", default=[], metavar="[NAME=]RUN",
                   help="run directory, optionally named (repeatable)")
    p.add_argument("--metric", action="extend", nargs="+", default=[], metavar="DIM=METRIC",
                   help="metric for a dimension: a results field or mean(f1,f2,...) (repeatable)")
    p.add_argument("--pairwise", action="extend", nargs="+", default=[], metavar="FILE",
                   help="pairwise.jsonl judge verdicts (repeatable)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML figure (inline SVG)")
    p.add_argument("--allow-missing", action="store_true", help="skip models of the prefs file that no run provides")
    p.set_defaults(func=reporting("judge align")(run))
    return p
