"""`judge view` without a browser: the pair sample (stratified, seeded), shown orders, the
label file (one write per pair, resume, torn line) read by `judge align`'s loader, the
path check, and the loopback default of the listening socket."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from judge.errors import UsageError
from judge.prefs import load_prefs
from judge.view import bind
from judge.view.data import resolve
from judge.view.labels import LabelFile, Unit, sample, shown_order


def _units():
    out = []
    for t in ("t1", "t2", "t3"):
        for i, (a, b, d) in enumerate([("m1", "m2", 0.01), ("m1", "m3", 0.1), ("m2", "m3", 0.5), ("m1", "m4", None)]):
            out.append(Unit(t, "animation", a, b, 0, 1, d))
    return out


def test_the_sample_is_stratified_by_task_and_score_difference_and_seeded():
    units = _units()
    s = sample(units, 6, seed=1)
    assert Counter(u.task_id for u in s) == {"t1": 2, "t2": 2, "t3": 2}        # tasks take turns
    for t in ("t1", "t2", "t3"):                                                 # bins take turns within a task
        assert len({u.stratum for u in s if u.task_id == t}) == 2
    assert sample(units, 6, seed=1) == s and sample(units, 12, seed=2) != sample(units, 12, seed=1)
    assert sorted(map(repr, sample(units, 100, seed=0))) == sorted(map(repr, units))
    assert [u.stratum for u in units[:4]] == [0, 1, 2, 3]


def test_the_shown_order_is_random_per_annotator_and_stable():
    units = _units()
    orders = [shown_order(0, "ann", u) for u in units]
    assert set(orders) == {"ab", "ba"} and orders == [shown_order(0, "ann", u) for u in units]
    assert orders != [shown_order(0, "other", u) for u in units]


def test_label_rows_are_read_by_judge_align_and_resume_counts_whole_pairs(tmp_path):
    f = LabelFile(tmp_path / "labels.jsonl")
    row = {"task_id": "t1", "a": "m1", "b": "m2", "winner": "a", "annotator": "ann", "order": "ba", "time_s": 3.2,
           "labelled_at": "2026-01-01T00:00:00Z"}
    f.append([{**row, "dimension": d} for d in ("overall", "motion", "appearance")])
    f.append([{**row, "task_id": "t2", "dimension": "overall", "winner": "tie"}])
    with open(f.path, "ab") as fh:                      # a writer killed mid-line
        fh.write(b'{"task_id": "t3", "a": "m1"')
    assert f.done("ann") == {("t1", "m1", "m2"): {"overall", "motion", "appearance"}, ("t2", "m1", "m2"): {"overall"}}
    assert f.done("nobody") == {}
    good = tmp_path / "good.jsonl"
    good.write_bytes(f.path.read_bytes().rsplit(b"\n", 1)[0] + b"\n")
    prefs = load_prefs(good)
    assert prefs.format == "generic" and len(prefs.ratings) == 4 and prefs.ratings[-1].annotator == "ann"
    assert json.loads(good.read_text().splitlines()[0])["order"] == "ba"


def test_resolve_keeps_paths_inside_the_folder(tmp_path):
    (tmp_path / "run" / "a").mkdir(parents=True)
    (tmp_path / "run" / "a" / "x.png").write_bytes(b"x")
    (tmp_path / "secret").write_text("s")
    (tmp_path / "run" / "ln").symlink_to(tmp_path / "secret")
    root = tmp_path / "run"
    assert resolve(root, "a/x.png") == (root / "a" / "x.png").resolve()
    for bad in ("../secret", "a/../../secret", "/etc/passwd", "ln", "a", "", "a//x.png", "a\\..\\..\\secret",
                "C:/x", "a/x.png\x00"):
        assert resolve(root, bad) is None, bad


def test_the_socket_binds_loopback_unless_a_host_is_given():
    s = bind(None, 0)
    try:
        assert s.getsockname()[0] == "127.0.0.1" and s.getsockname()[1] > 0
        with pytest.raises(UsageError, match="--port"):
            bind(None, s.getsockname()[1])
    finally:
        s.close()
