"""Metric side of `judge align` on synthetic run directories whose scores agree, disagree or
are unrelated to synthetic human preferences; plus unit tests of `metrics.alignment`."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from metrics import alignment as st
from tests.helpers.align_cli import run_align

MODELS = {"m_alpha": 1.5, "m_beta": 0.5, "m_gamma": -0.5, "m_delta": -1.5}  # latent model offsets
TASKS = [f"task-{i:02d}" for i in range(80)]


@pytest.fixture()
def study(tmp_path):
    """An a2c prefs file (3 ratings per unit, some split 2-1, some all-EQUAL) and one run per model.

    Humans prefer the higher latent quality q (appearance) / r (motion) / o (overall). Runs
    carry appearance = q (agrees), temporal = −r (disagrees), ifs = noise, final = null.
    """
    rng = np.random.default_rng(15)  # fixed draw; CI coverage itself: test_auc_ci_coverage
    names = list(MODELS)
    q = {(m, t): MODELS[m] + rng.normal() for m in names for t in TASKS}
    r = {(m, t): MODELS[m] + rng.normal() for m in names for t in TASKS}
    o = {(m, t): MODELS[m] + rng.normal() for m in names for t in TASKS}
    rows = []
    for t in TASKS:
        pairs = [(x, y) for i, x in enumerate(names) for y in names[i + 1:]]
        for k in rng.choice(len(pairs), 2, replace=False):  # two distinct pairs per task: 160 units
            x, y = pairs[k]
            tie = rng.random() < 0.1
            for k in range(3):
                m1, m2 = (x, y) if rng.random() < 0.5 else (y, x)
                win = {d: (max((x, y), key=lambda m: lat[(m, t)])) for d, lat in
                       (("overall", o), ("motion", r), ("appearance", q))}
                if k == 2:  # the third annotator dissents on motion: 2-1 keeps the majority
                    win["motion"] = x if win["motion"] == y else y
                if tie:
                    win = {d: "EQUAL" for d in win}
                rows.append({"model_1": m1, "model_2": m2, "example": t, **{f"winner_{d}": w for d, w in win.items()}})
    prefs = tmp_path / "prefs.csv"
    with prefs.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    runs = {}
    for m in names:
        d = tmp_path / "runs" / m
        d.mkdir(parents=True)
        (d / "run.json").write_text(json.dumps({"name": m, "model": m, "judge_model": None, "command": "evaluate"}))
        with (d / "results.jsonl").open("w") as f:
            for t in TASKS:
                f.write(json.dumps({"task_id": t, "family": "animation", "model": m, "exec": True,
                                    "appearance": q[(m, t)], "temporal": -r[(m, t)], "static": False,
                                    "ifs": float(rng.random()), "vfs": None, "final": None, "steps": [],
                                    "error": None, "judge_error": None}) + "\n")
        runs[m] = d
    return prefs, runs


def rows_by(report, dim):
    return {a["name"]: a for a in report["alignment"] if a["dimension"] == dim and a["kind"] == "metric"}


def test_agree_disagree_random(study, capsys):
    prefs, runs = study
    argv = ["--prefs", str(prefs), "--json", "--seed", "3", "--bootstrap", "500",
            "--metric", "overall=ifs", "--metric", "overall=appearance"]
    for d in runs.values():
        argv += ["--run", str(d)]
    code, rep, _ = run_align(argv, capsys)
    assert code == 0
    app = rows_by(rep, "appearance")["appearance"]
    assert app["auc"] == 1.0 and app["auc_ci"] == [1.0, 1.0]
    assert app["agreement"] == 1.0 and app["n_disagree"] == 0 and app["kendall_tau_b"] == 1.0
    assert app["n_human_tie"] > 0 and app["n_used"] == 160 and app["n_missing_units"] == 0
    mot = rows_by(rep, "motion")["temporal"]
    assert mot["auc"] == 0.0 and mot["agreement"] == 0.0 and mot["kendall_tau_b"] == -1.0
    assert mot["three_class"]["kappa"] < 0
    noise = rows_by(rep, "overall")["ifs"]
    lo, hi = noise["auc_ci"]
    assert lo < 0.5 < hi and abs(noise["auc"] - 0.5) < 0.15
    assert 0 < hi - lo < 0.4
    assert rows_by(rep, "overall")["appearance"]["auc"] > 0.6  # overall and appearance share the model offsets
    assert rep["settings"]["metrics"]["overall"] == ["ifs", "appearance"]


def test_final_null_uses_documented_fallback(study, capsys):
    prefs, runs = study
    argv = ["--prefs", str(prefs), "--json", "--bootstrap", "0"] + [a for d in runs.values() for a in ("--run", str(d))]
    code, rep, _ = run_align(argv, capsys)
    assert code == 0
    assert rep["settings"]["metrics"]["overall"] == ["mean(appearance,temporal)"]
    assert any("final" in n and "mean(appearance,temporal)" in n for n in rep["notes"])
    row = rows_by(rep, "overall")["mean(appearance,temporal)"]
    assert row["auc_ci"] == [None, None] and row["auc"] is not None


def test_missing_scores_counted_not_zero(study, capsys):
    prefs, runs = study
    with prefs.open() as f:
        units = {(r["example"], *sorted((r["model_1"], r["model_2"]))) for r in csv.DictReader(f)}
    dropped = min(t for t, a, b in units if "m_beta" in (a, b))  # a row that humans need: removed
    nulled = max(t for t, a, b in units if "m_gamma" in (a, b))  # a row whose temporal is null
    jerr = min(t for t, a, b in units if "m_alpha" in (a, b) and t not in (dropped, nulled))
    for model, edit in (("m_beta", lambda x: None if x["task_id"] == dropped else x),
                        ("m_gamma", lambda x: {**x, "temporal": None} if x["task_id"] == nulled else x),
                        ("m_alpha", lambda x: {**x, "judge_error": "timeout"} if x["task_id"] == jerr else x)):
        res = runs[model] / "results.jsonl"
        lines = [edit(json.loads(x)) for x in res.read_text().splitlines()]
        res.write_text("".join(json.dumps(x) + "\n" for x in lines if x is not None))
    argv = ["--prefs", str(prefs), "--json", "--bootstrap", "0"] + [a for d in runs.values() for a in ("--run", str(d))]
    code, rep, _ = run_align(argv, capsys)
    assert code == 0
    n_beta = sum(1 for t, a, b in units if t == dropped and "m_beta" in (a, b))
    n_gamma = sum(1 for t, a, b in units if t == nulled and "m_gamma" in (a, b))
    n_alpha = sum(1 for t, a, b in units if t == jerr and "m_alpha" in (a, b))
    # a row with a judge_error is not scored: missing like an absent row
    assert rep["missing"]["model_task_pairs"] == 2
    assert sorted(map(tuple, rep["missing"]["examples"])) == sorted([("m_beta", dropped), ("m_alpha", jerr)])
    assert [r["n_judge_error"] for r in rep["runs"]] == [1, 0, 0, 0]
    app, mot = rows_by(rep, "appearance")["appearance"], rows_by(rep, "motion")["temporal"]
    assert app["n_missing_units"] == n_beta + n_alpha and app["n_used"] == len(units) - n_beta - n_alpha
    assert mot["n_missing_units"] == n_beta + n_gamma + n_alpha and mot["missing_pairs"] == 3
    assert app["auc"] == 1.0  # dropped, not scored as 0
    assert any("2 (model, task) pairs" in n for n in rep["notes"])


def test_unknown_model_is_exit_2_unless_allowed(study, capsys):
    prefs, runs = study
    argv = ["--prefs", str(prefs), "--json", "--bootstrap", "0"] + \
        [a for m, d in runs.items() if m != "m_delta" for a in ("--run", str(d))]
    code, _, err = run_align(argv, capsys)
    assert code == 2 and str(prefs) in err and "m_delta" in err and len(err.strip().splitlines()) == 1
    code, rep, _ = run_align(argv + ["--allow-missing"], capsys)
    assert code == 0 and any("m_delta" in n for n in rep["notes"])
    app = rows_by(rep, "appearance")["appearance"]
    assert app["n_unscored_model_units"] > 0 and app["n_used"] + app["n_unscored_model_units"] == app["n_units"]


def test_named_run_and_bad_metric(study, capsys):
    prefs, runs = study
    (runs["m_alpha"] / "run.json").unlink()
    res = runs["m_alpha"] / "results.jsonl"
    res.write_text("".join(json.dumps({k: v for k, v in json.loads(x).items() if k != "model"}) + "\n"
                           for x in res.read_text().splitlines()))
    others = [a for m, d in runs.items() if m != "m_alpha" for a in ("--run", str(d))]
    code, _, err = run_align(["--prefs", str(prefs), "--run", str(runs["m_alpha"])] + others, capsys)
    assert code == 2 and "results.jsonl" in err and "model" in err
    base = ["--prefs", str(prefs), "--json", "--bootstrap", "0", "--run", f"m_alpha={runs['m_alpha']}"] + others
    code, rep, _ = run_align(base, capsys)
    assert code == 0 and rows_by(rep, "appearance")["appearance"]["n_used"] == 160
    code, _, err = run_align(base + ["--metric", "motion=nosuch"], capsys)
    assert code == 2 and "nosuch" in err
    code, _, err = run_align(base + ["--metric", "style=appearance"], capsys)
    assert code == 2 and "style" in err


def test_weighted_auc_matches_sklearn_on_repeated_data():
    rng = np.random.default_rng(0)
    score = rng.integers(0, 6, 300).astype(float)  # many tied scores
    label = rng.random(300) < 0.4
    assert st.weighted_auc(score, label) == pytest.approx(roc_auc_score(label, score))
    w = rng.integers(0, 4, (3, 300))
    got = st.weighted_auc(score, label, w)
    for k in range(3):
        assert got[k] == pytest.approx(roc_auc_score(np.repeat(label, w[k]), np.repeat(score, w[k])))


def test_bradley_terry_batch_and_ridge():
    W = np.array([[0, 8, 9], [2, 0, 6], [1, 4, 0]], float)
    s = st.bradley_terry(W)
    assert s[0] > s[1] > s[2] and s.sum() == pytest.approx(0)
    # stationarity of the unpenalised likelihood: expected wins equal observed wins
    P = 1 / (1 + np.exp(-(s[:, None] - s[None, :])))
    assert ((W + W.T) * P).sum(axis=1) == pytest.approx(W.sum(axis=1), abs=1e-3)
    batch = st.bradley_terry(np.stack([W, W.T]))
    assert batch[0] == pytest.approx(s) and batch[1] == pytest.approx(-s, abs=1e-9)
    unbeaten = np.array([[0, 5], [0, 0]], float)  # no finite MLE: the ridge keeps it finite
    assert np.all(np.isfinite(st.bradley_terry(unbeaten))) and st.bradley_terry(unbeaten)[0] > 3


def test_consensus_alpha_sign_agreement():
    counts = np.array([[3, 0, 0], [2, 1, 0], [1, 1, 0], [1, 1, 1], [0, 1, 1], [1, 0, 1], [0, 0, 2]])
    assert st.consensus(counts).tolist() == [st.A_WINS, st.A_WINS, st.TIE, st.TIE, st.B_WINS, st.A_WINS, st.TIE]
    assert st.krippendorff_alpha_nominal(np.array([[3, 0, 0], [0, 2, 0], [0, 0, 4]])) == pytest.approx(1.0)
    assert np.isnan(st.krippendorff_alpha_nominal(np.array([[3, 0, 0], [2, 0, 0]])))
    res = st.sign_agreement(np.array([1.0, -1.0, 0.0, 2.0, -3.0]),
                            np.array([st.A_WINS, st.A_WINS, st.B_WINS, st.TIE, st.B_WINS]))
    assert (res["n_agree"], res["n_disagree"], res["n_metric_tie"], res["n_human_tie"]) == (2, 1, 1, 1)
    assert res["agreement"] == 0.5 and res["agreement_untied"] == pytest.approx(2 / 3)


def test_auc_ci_coverage_on_uninformative_scores():
    """The percentile bootstrap CI of an unrelated score covers 0.5 close to its nominal 95 %."""
    covered = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        delta, label = rng.normal(size=150), rng.random(150) < 0.5
        _, lo, hi = st.auc_bootstrap(delta, label, 400, rng)
        covered += lo < 0.5 < hi
    assert 0.88 <= covered / 200 <= 0.99
    ok = st.auc_bootstrap(np.arange(10.0), np.arange(10) >= 5, 100, np.random.default_rng(0))
    assert ok == (1.0, 1.0, 1.0)
    assert all(np.isnan(st.auc_bootstrap(np.arange(4.0), np.ones(4), 10, np.random.default_rng(0))))


def test_run_results_take_the_last_row_per_task_and_skip_a_torn_tail(study, capsys):
    """results.jsonl as `judge evaluate` leaves it after a re-score and a kill: an earlier
    row for a task is superseded by its later row, and a torn last line is not read."""
    prefs, runs = study
    res = runs["m_alpha"] / "results.jsonl"
    rows = [json.loads(x) for x in res.read_text().splitlines()]
    # the earlier, superseded rows say the opposite of the final ones
    stale = [{**r, "appearance": -r["appearance"]} for r in rows]
    res.write_text("".join(json.dumps(r) + "\n" for r in stale + rows) + '{"task_id": "torn')
    argv = ["--prefs", str(prefs), "--json", "--bootstrap", "0", "--metric", "appearance=appearance"]
    for d in runs.values():
        argv += ["--run", str(d)]
    code, rep, _ = run_align(argv, capsys)
    assert code == 0
    app = rows_by(rep, "appearance")["appearance"]
    assert app["auc"] == 1.0 and app["n_used"] == 160
    assert [r["n_rows"] for r in rep["runs"]][0] == len(TASKS)
    # a broken line before the last one is an error naming the file, not a silent skip
    res.write_text(json.dumps(rows[0]) + "\n{broken\n" + "".join(json.dumps(r) + "\n" for r in rows[1:]))
    code, _, err = run_align(argv, capsys)
    assert code == 2 and "results.jsonl" in err and "unreadable" in err
