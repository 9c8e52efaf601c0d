"""Human side of `judge align` on the released Animation2Code study, checked against
independent computations written here (plain loops, a hand-written coincidence matrix,
Zermelo/MM iteration for Bradley–Terry)."""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from judge.align import add_parser
from tests.helpers.align_cli import run_align

DATA = Path(__file__).resolve().parents[3] / "shared/data/anim2code-human"
CSV = DATA / "valid_trials.csv"
DIMS = ("overall", "motion", "appearance")
pytestmark = pytest.mark.skipif(not CSV.is_file(), reason=f"{CSV} not present")


@pytest.fixture(scope="module")
def report():
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    buf = io.StringIO()
    args = parser.parse_args(["align", "--prefs", str(CSV), "--json", "--bootstrap", "200", "--seed", "1"])
    with contextlib.redirect_stdout(buf):
        assert args.func(args) == 0
    return json.loads(buf.getvalue())


@pytest.fixture(scope="module")
def rows():
    with CSV.open(newline="") as f:
        return list(csv.DictReader(f))


def hand_alpha(units: dict, drop_ties: bool) -> float:
    """Krippendorff's nominal α from the coincidence matrix, written out by hand."""
    o = defaultdict(float)
    for values in units.values():
        values = [v for v in values if not (drop_ties and v == "tie")]
        m = len(values)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[(values[i], values[j])] += 1.0 / (m - 1)
    n_c = defaultdict(float)
    for (c, _), v in o.items():
        n_c[c] += v
    n = sum(n_c.values())
    d_o = 1 - sum(o[(c, c)] for c in n_c) / n
    d_e = 1 - sum(x * (x - 1) for x in n_c.values()) / (n * (n - 1))
    return 1 - d_o / d_e


def oriented_units(rows, dim):
    """(example, first model, second model) → list of 'first' / 'second' / 'tie' (first = alphabetical)."""
    units = defaultdict(list)
    for r in rows:
        lo, hi = sorted((r["model_1"], r["model_2"]))
        w = r[f"winner_{dim}"]
        units[(r["example"], lo, hi)].append("tie" if w == "EQUAL" else ("first" if w == lo else "second"))
    return units


@pytest.mark.parametrize("dim", DIMS)
def test_alpha_matches_hand_coincidence_matrix(report, rows, dim):
    units = oriented_units(rows, dim)
    h = report["human"][dim]
    assert h["n_units"] == len(units) == 600
    assert h["n_ratings"] == len(rows) == 1950
    assert h["ratings_per_unit"] == {str(k): v for k, v in Counter(map(len, units.values())).items()}
    assert h["alpha_nominal"] == pytest.approx(hand_alpha(units, False), abs=1e-9)
    assert h["alpha_nominal_no_ties"] == pytest.approx(hand_alpha(units, True), abs=1e-9)


def test_alpha_orientation_normalised(rows):
    """Without orientation ('model_1 wins' as the category), α would differ: the report must use the oriented one."""
    naive = defaultdict(list)
    for r in rows:
        w = r["winner_overall"]
        naive[(r["example"], *sorted((r["model_1"], r["model_2"])))].append(
            "tie" if w == "EQUAL" else ("m1" if w == r["model_1"] else "m2"))
    assert hand_alpha(naive, False) != pytest.approx(hand_alpha(oriented_units(rows, "overall"), False), abs=1e-3)


@pytest.mark.parametrize("dim", DIMS)
def test_win_rates_and_ties_by_plain_loop(report, rows, dim):
    wins, losses, ties = Counter(), Counter(), Counter()
    for r in rows:
        w, m1, m2 = r[f"winner_{dim}"], r["model_1"], r["model_2"]
        if w == "EQUAL":
            ties[m1] += 1
            ties[m2] += 1
        else:
            wins[w] += 1
            losses[m2 if w == m1 else m1] += 1
    h = report["human"][dim]
    assert set(h["models"]) == {"gpt", "claude", "gemini", "llama", "qwen3vl"}
    for m, x in h["models"].items():
        assert (x["wins"], x["losses"], x["ties"]) == (wins[m], losses[m], ties[m])
        assert x["win_rate"] == pytest.approx((wins[m] + ties[m] / 2) / (wins[m] + losses[m] + ties[m]))
    assert h["tie_rate_ratings"] == pytest.approx(sum(r[f"winner_{dim}"] == "EQUAL" for r in rows) / len(rows))


def zermelo(rows, dim, iters=5000):
    """Bradley–Terry by the MM (Zermelo/Hunter) iteration, ties as half a win to each side."""
    w, n = defaultdict(float), defaultdict(float)
    models = sorted({r["model_1"] for r in rows} | {r["model_2"] for r in rows})
    for r in rows:
        m1, m2, win = r["model_1"], r["model_2"], r[f"winner_{dim}"]
        n[frozenset((m1, m2))] += 1
        if win == "EQUAL":
            w[m1] += 0.5
            w[m2] += 0.5
        else:
            w[win] += 1
    p = {m: 1.0 for m in models}
    for _ in range(iters):
        new = {i: w[i] / sum(n[frozenset((i, j))] / (p[i] + p[j]) for j in models if j != i) for i in models}
        g = math.exp(sum(math.log(v) for v in new.values()) / len(new))
        p = {i: v / g for i, v in new.items()}
    return {m: math.log(v) for m, v in p.items()}


@pytest.mark.parametrize("dim", DIMS)
def test_bradley_terry_matches_zermelo(report, rows, dim):
    expected = zermelo(rows, dim)
    h = report["human"][dim]
    for m, s in expected.items():
        assert h["models"][m]["bt"] == pytest.approx(s, abs=2e-3)
        lo, hi = h["models"][m]["bt_ci"]
        assert lo < h["models"][m]["bt"] < hi and hi - lo < 1.0
    assert h["bt_order"] == sorted(expected, key=expected.get, reverse=True)
    assert sum(x["bt"] for x in h["models"].values()) == pytest.approx(0, abs=1e-9)


def test_bootstrap_seeded(capsys):
    # Its speed is measured by benchmarks/bench_align.py, not asserted here (timings are noisy).
    code, out1, _ = run_align(["--prefs", str(CSV), "--json", "--bootstrap", "1000", "--seed", "7"], capsys)
    assert code == 0
    _, out2, _ = run_align(["--prefs", str(CSV), "--json", "--bootstrap", "1000", "--seed", "7"], capsys)
    _, out3, _ = run_align(["--prefs", str(CSV), "--json", "--bootstrap", "1000", "--seed", "8"], capsys)
    ci = lambda o: o["human"]["motion"]["models"]["gpt"]["bt_ci"]  # noqa: E731
    assert ci(out1) == ci(out2) and ci(out1) != ci(out3)


def test_table_and_html(tmp_path, capsys):
    html = tmp_path / "fig.html"
    code, out, err = run_align(["--prefs", str(CSV), "--bootstrap", "50", "--html", str(html)], capsys)
    assert code == 0
    assert "alpha" in out and "qwen3vl" in out and "(a2c)" in out
    text = html.read_text()
    assert text.count("<svg") == 3 and "<script" not in text and "http" not in text.replace(str(CSV), "")
