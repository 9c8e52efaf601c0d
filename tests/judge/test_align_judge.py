"""Judge side of `judge align`: synthetic pairwise.jsonl verdict files (consistent,
position-biased so that swapping the order flips the verdict, random) against synthetic
human preferences in the generic format."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers.align_cli import run_align

MODELS = ["alpha", "beta", "gamma"]


@pytest.fixture()
def human(tmp_path):
    """Generic-format prefs: 150 units x 2 annotators; each unit's choice is a, b or tie (both agree)."""
    rng = np.random.default_rng(5)
    rows, truth = [], {}
    for i in range(150):
        x, y = rng.choice(MODELS, 2, replace=False)
        w = rng.choice(["a", "b", "tie"], p=[0.45, 0.45, 0.1])
        truth[(f"t{i}", x, y)] = w
        for ann in ("ann1", "ann2"):
            rows.append({"task_id": f"t{i}", "a": x, "b": y, "dimension": "overall", "winner": w, "annotator": ann})
    path = tmp_path / "prefs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, truth


def write_verdicts(path, truth, verdict_fn, judge="judge-x"):
    """verdict_fn(truth_winner, order, rng) -> verdict for field a/b of the prefs row (or 'tie'/None)."""
    rng = np.random.default_rng(9)
    with path.open("w") as f:
        for (task, x, y), w in truth.items():
            for order in ("ab", "ba"):
                f.write(json.dumps({"task_id": task, "a": x, "b": y, "dimension": "overall", "order": order,
                                    "verdict": verdict_fn(w, order, rng), "judge_model": judge, "raw": "..."}) + "\n")
    return path


def judge_row(rep, name="judge-x"):
    [row] = [a for a in rep["alignment"] if a["kind"] == "judge" and a["name"] == name]
    return row


def test_consistent_judge(human, tmp_path, capsys):
    prefs, truth = human
    f = write_verdicts(tmp_path / "pairwise.jsonl", truth, lambda w, order, rng: w)
    code, rep, _ = run_align(["--prefs", str(prefs), "--pairwise", str(f), "--json", "--bootstrap", "0"], capsys)
    assert code == 0 and rep["prefs"]["format"] == "generic"
    row = judge_row(rep)
    assert row["n_used"] == 150 and row["n_unmatched"] == 0 and row["n_verdicts"] == 300
    assert row["agreement"] == 1.0 and row["swap_consistency"] == 1.0 and row["swap_units"] == 150
    assert row["three_class"] == {"n": 150, "agreement": 1.0, "balanced_accuracy": 1.0, "kappa": 1.0}
    assert row["n_human_tie"] == sum(w == "tie" for w in truth.values())
    assert rep["human"]["overall"]["n_annotators"] == 2
    assert rep["human"]["overall"]["alpha_nominal"] == pytest.approx(1.0)


def test_position_biased_judge_is_swap_inconsistent(human, tmp_path, capsys):
    prefs, truth = human
    # always picks the model shown first: verdict a in order ab, b in order ba
    f = write_verdicts(tmp_path / "pairwise.jsonl", truth, lambda w, order, rng: order[0])
    code, rep, _ = run_align(["--prefs", str(prefs), "--pairwise", str(f), "--json", "--bootstrap", "0"], capsys)
    row = judge_row(rep)
    assert row["swap_consistency"] == 0.0 and row["first_position_rate"] == 1.0
    # its two orders cancel: every unit's judge consensus is a tie
    assert row["agreement"] == 0.0 and row["three_class"]["kappa"] == pytest.approx(0.0)
    assert row["three_class"]["balanced_accuracy"] == pytest.approx(1 / 3)


def test_random_judge_and_failures(human, tmp_path, capsys):
    prefs, truth = human
    f = write_verdicts(tmp_path / "pairwise.jsonl", truth,
                       lambda w, order, rng: None if rng.random() < 0.1 else str(rng.choice(["a", "b", "tie"])))
    good = write_verdicts(tmp_path / "good.jsonl", truth, lambda w, order, rng: w, judge="judge-good")
    code, rep, _ = run_align(["--prefs", str(prefs), "--pairwise", str(f), "--pairwise", str(good), "--json",
                            "--bootstrap", "0"], capsys)
    row = judge_row(rep)
    assert 15 <= row["n_failed"] <= 45 and row["n_verdicts"] == 300
    assert abs(row["three_class"]["kappa"]) < 0.2 and 0.2 < row["swap_consistency"] < 0.5
    assert 0.2 < row["agreement"] < 0.65
    assert judge_row(rep, "judge-good")["three_class"]["kappa"] == 1.0


def test_verdicts_outside_prefs_are_unmatched(human, tmp_path, capsys):
    prefs, truth = human
    extra = {("other-task", "alpha", "beta"): "a", **truth}
    f = write_verdicts(tmp_path / "pairwise.jsonl", extra, lambda w, order, rng: w)
    code, rep, _ = run_align(["--prefs", str(prefs), "--pairwise", str(f), "--json", "--bootstrap", "0"], capsys)
    row = judge_row(rep)
    assert row["n_unmatched"] == 1 and row["n_used"] == 150


@pytest.mark.parametrize("edit, field", [({"verdict": "left"}, "verdict"), ({"order": "xy"}, "order"),
                                         ({"judge_model": None}, "judge_model")])
def test_bad_verdict_file(human, tmp_path, capsys, edit, field):
    prefs, truth = human
    f = write_verdicts(tmp_path / "pairwise.jsonl", truth, lambda w, order, rng: w)
    lines = f.read_text().splitlines()
    lines[4] = json.dumps({**json.loads(lines[4]), **edit})
    f.write_text("\n".join(lines) + "\n")
    code, _, err = run_align(["--prefs", str(prefs), "--pairwise", str(f), "--json"], capsys)
    assert code == 2 and f"{f}: row 5: {field}:" in err
