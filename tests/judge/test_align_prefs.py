"""Preference-file loading: formats, orientation, and one-line errors (exit 2)."""
from __future__ import annotations

import argparse
import json

import pytest

from judge.align import add_parser
from judge.prefs import PrefsError, load_prefs
from metrics.alignment import A_WINS, B_WINS, TIE

A2C = "model_1,model_2,example,winner_overall,winner_motion,winner_appearance\n"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a2c_orientation(tmp_path):
    p = write(tmp_path, "p.csv", A2C + "zeta,alpha,t1,zeta,EQUAL,alpha\nalpha,zeta,t1,zeta,equal,alpha\n")
    prefs = load_prefs(p)
    assert prefs.format == "a2c" and prefs.n_rows == 2 and prefs.dimensions == ["overall", "motion", "appearance"]
    got = [(r.a, r.b, r.dimension, r.outcome, r.row) for r in prefs.ratings]
    assert got == [("alpha", "zeta", "overall", B_WINS, 2), ("alpha", "zeta", "motion", TIE, 2),
                   ("alpha", "zeta", "appearance", A_WINS, 2), ("alpha", "zeta", "overall", B_WINS, 3),
                   ("alpha", "zeta", "motion", TIE, 3), ("alpha", "zeta", "appearance", A_WINS, 3)]


def test_generic_csv_and_jsonl_agree(tmp_path):
    rows = [{"task_id": "t1", "a": "m2", "b": "m1", "dimension": "style", "winner": "a", "annotator": "x"},
            {"task_id": "t1", "a": "m1", "b": "m2", "dimension": "style", "winner": "TIE"}]
    j = write(tmp_path, "p.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    c = write(tmp_path, "p.csv", "task_id,a,b,dimension,winner,annotator\nt1,m2,m1,style,a,x\nt1,m1,m2,style,TIE,\n")
    for p in (j, c):
        prefs = load_prefs(p, "generic")
        assert [(r.a, r.b, r.outcome, r.annotator) for r in prefs.ratings] == [("m1", "m2", B_WINS, "x"),
                                                                               ("m1", "m2", TIE, None)]


def test_a2c_as_jsonl(tmp_path):
    p = write(tmp_path, "p.jsonl", json.dumps({"model_1": "b", "model_2": "a", "example": "e",
                                               "winner_motion": "b"}) + "\n")
    prefs = load_prefs(p)
    assert prefs.format == "a2c" and [(r.dimension, r.outcome) for r in prefs.ratings] == [("motion", B_WINS)]


@pytest.mark.parametrize("name, text, fmt, expected", [
    ("p.csv", A2C + "a,b,t1,c,a,a\n", "auto", "row 2: winner_overall: unknown winner 'c'"),
    ("p.csv", A2C + "a,b,t1,a,a,a\na,a,t2,a,a,a\n", "auto", "row 3: model_2:"),
    ("p.csv", A2C + "a,b,,a,a,a\n", "auto", "row 2: example: missing"),
    ("p.csv", A2C.strip() + ",rater\na,b,t1,a,a,a,r1\n", "auto", "columns: unknown column(s) ['rater']"),
    ("p.csv", "task_id,a,b,dimension,winner,annotater\nt,x,y,d,a,z\n", "auto", "unknown column(s) ['annotater']"),
    ("p.csv", "task,a,b\nt,x,y\n", "auto", "columns: columns ['task', 'a', 'b'] match neither"),
    ("p.csv", "task_id,a,b,dimension,winner\nt,x,y,d,left\n", "auto", "row 2: winner: unknown winner 'left'"),
    ("p.csv", A2C + "a,b,t1,a,a,a\n", "generic", "missing column(s) ['task_id'"),
    ("p.jsonl", '{"task_id": "t"\n', "auto", "row 1: invalid JSON"),
    ("p.csv", A2C, "auto", "no preference rows"),
])
def test_bad_input_one_line(tmp_path, name, text, fmt, expected):
    p = write(tmp_path, name, text)
    with pytest.raises(PrefsError) as e:
        load_prefs(p, fmt)
    msg = str(e.value)
    assert msg.startswith(f"{p}: ") and expected in msg and "\n" not in msg


def test_cli_exit_2(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    for argv in (["--prefs", str(tmp_path / "nope.csv")],
                 ["--prefs", str(write(tmp_path, "p.csv", A2C + "a,b,t1,a,a,a\n")), "--run", str(tmp_path / "norun")],
                 ["--prefs", str(tmp_path / "p.csv"), "--pairwise", str(tmp_path / "none.jsonl")]):
        args = parser.parse_args(["align", *argv])
        assert args.func(args) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("judge align: error: ") and str(tmp_path) in err
