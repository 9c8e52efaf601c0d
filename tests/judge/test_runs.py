"""The run store (`judge.runs`): atomic appends, torn lines, last-row-wins, compaction,
the run lock and the resume checks. No browser."""
from __future__ import annotations

import errno
import json
import multiprocessing
import os

import pytest

from judge.runs import (
    RunDir,
    RunError,
    append_row,
    check_resumable,
    compact,
    latest,
    read_results,
    repair,
    slug,
    summarize,
    task_score,
)


def _row(task, **kw):
    return {"task_id": task, "family": "animation", "exec": True, "appearance": 0.5, "temporal": 0.5,
            "static": False, "judge_error": None, "error": None, **kw}


def test_append_then_read_back(tmp_path):
    path = tmp_path / "results.jsonl"
    for i in range(3):
        append_row(path, _row(f"t{i}", appearance=i / 10))
    rows, bad = read_results(path)
    assert [r["task_id"] for r in rows] == ["t0", "t1", "t2"] and bad == 0
    assert path.read_bytes().endswith(b"\n") and path.read_bytes().count(b"\n") == 3


def test_torn_last_line_is_ignored_then_repaired(tmp_path):
    path = tmp_path / "results.jsonl"
    append_row(path, _row("a"))
    append_row(path, _row("b"))
    good = path.read_bytes()
    with open(path, "ab") as f:  # a writer killed in the middle of a line
        f.write(json.dumps(_row("c"))[:25].encode())
    rows, bad = read_results(path)
    assert [r["task_id"] for r in rows] == ["a", "b"] and bad == 0
    assert repair(path) == 25
    assert path.read_bytes() == good
    assert repair(path) == 0
    append_row(path, _row("c"))
    assert [r["task_id"] for r in read_results(path)[0]] == ["a", "b", "c"]


def test_repair_of_a_file_that_is_one_torn_line(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_bytes(b'{"task_id": "a", "fam')
    assert read_results(path) == ([], 0)
    assert repair(path) == 21 and path.read_bytes() == b""


def test_garbage_line_in_the_middle_is_counted_not_fatal(tmp_path):
    path = tmp_path / "results.jsonl"
    append_row(path, _row("a"))
    with open(path, "ab") as f:
        f.write(b"not json\n")
    append_row(path, _row("b"))
    rows, bad = read_results(path)
    assert [r["task_id"] for r in rows] == ["a", "b"] and bad == 1


def test_latest_row_per_task_wins():
    rows = [_row("a", judge_error="boom", appearance=None), _row("b"), _row("a", appearance=0.9)]
    last = latest(rows)
    assert list(last) == ["b", "a"]
    assert last["a"]["appearance"] == 0.9 and last["a"]["judge_error"] is None


def test_compact_keeps_the_last_row_per_task_atomically(tmp_path):
    path = tmp_path / "results.jsonl"
    for row in [_row("a", judge_error="x"), _row("b"), _row("a", appearance=0.7), _row("b", appearance=0.1)]:
        append_row(path, row)
    inode = path.stat().st_ino
    assert compact(path) == (4, 2)
    rows, _ = read_results(path)
    assert {r["task_id"]: r["appearance"] for r in rows} == {"a": 0.7, "b": 0.1}
    assert path.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["results.jsonl"]


def _append_many(path, who, n):
    for i in range(n):
        append_row(path, _row(f"{who}-{i}", payload="x" * (i * 37 % 5000)))


def test_concurrent_appends_from_processes_never_interleave(tmp_path):
    path = tmp_path / "results.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(path, w, 150)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    rows, bad = read_results(path)
    assert bad == 0 and len(rows) == 600 and len({r["task_id"] for r in rows}) == 600


def _hold_lock(path, ready, release):
    with RunDir(path).lock():
        ready.set()
        release.wait(30)


def test_run_lock_refuses_a_second_process_and_is_released(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(tmp_path / "run", ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(RunError, match=f"pid {holder.pid}"):
            with RunDir(tmp_path / "run").lock():
                pass
    finally:
        release.set()
        holder.join(30)
    with RunDir(tmp_path / "run").lock():  # free again once the holder is gone
        pass


def test_killed_lock_holder_releases_the_lock(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(tmp_path / "run", ready, release))
    holder.start()
    assert ready.wait(30)
    os.kill(holder.pid, 9)
    holder.join(30)
    with RunDir(tmp_path / "run").lock():
        pass


def test_check_resumable():
    ident = {"model": "reference", "generation": {"temperature": 0.0}, "inputs": {"animation_fps": 2.0}}
    scoring = {"scorer_version": "1", "embedder": "classic-v1", "scale": "shared"}
    old = {"identity": ident, "scoring": scoring, "score_key": "k1"}
    assert check_resumable(old, ident, scoring, "k1", rescore=False) == []
    other = check_resumable(old, {**ident, "model": "blank"}, scoring, "k1", rescore=True)
    assert other and 'model: run has "reference", command has "blank"' in other[0]
    changed = check_resumable(old, ident, {**scoring, "scale": "own"}, "k2", rescore=False)
    assert len(changed) == 1 and "scale: shared -> own" in changed[0] and "--rescore" in changed[0]
    assert check_resumable(old, ident, {**scoring, "scale": "own"}, "k2", rescore=True) == []


def test_run_dir_pages_and_generation_records(tmp_path):
    run = RunDir(tmp_path / "r")
    sha = run.save_page("t1", "<p>hi</p>")
    assert run.load_page("t1") == b"<p>hi</p>" and len(sha) == 64
    assert run.load_page("nope") is None and run.load_generation("nope") is None
    run.save_generation("t1", {"error": None, "cost_usd": 0.0})
    assert run.load_generation("t1") == {"error": None, "cost_usd": 0.0}


def test_slug():
    assert slug("openai/gpt-4o") == "openai-gpt-4o"
    assert slug("replay:/data/pages/") == "replay-pages"
    assert slug("reference") == "reference"


def test_summarize_counts_failures_apart():
    rows = {
        "a": _row("a", appearance=1.0, temporal=1.0),
        "b": _row("b", exec=False, appearance=0.0, temporal=0.0, static=True, error="no page", error_kind="generation"),
        "c": _row("c", appearance=0.6, temporal=None),                    # motionless reference: temporal undefined
        "d": _row("d", exec=None, appearance=None, temporal=None, static=None, judge_error="chromium died"),
        "i": {"task_id": "i", "family": "interactive", "ifs": 0.5, "ifs_steps": 0.25, "vfs": 0.75, "final": 0.6,
              "judge_error": None, "error": None},
    }
    s = summarize(rows, ["a", "b", "c", "d", "i", "missing"])
    assert (s["tasks"], s["scored"], s["judge_errors"], s["missing"]) == (6, 4, 1, 1)
    anim = s["families"]["animation"]
    assert anim["tasks"] == 4 and anim["scored"] == 3 and anim["generation_failures"] == 1
    assert anim["exec"] == pytest.approx(100 * 2 / 3, abs=0.01)
    assert anim["appearance"] == pytest.approx((1.0 + 0.0 + 0.6) / 3, abs=1e-4)
    assert anim["temporal"] == pytest.approx(0.5) and anim["n_temporal"] == 2
    assert anim["static"] == pytest.approx(100 / 3, abs=0.01)
    inter = s["families"]["interactive"]
    assert inter["final"] == 0.6 and inter["ifs"] == 0.5 and inter["exec"] is None
    assert [g["task_id"] for g in s["generation_failures"]] == ["b"]
    assert [j["task_id"] for j in s["judge_error_list"]] == ["d"] and s["missing_list"] == ["missing"]
    assert task_score(rows["c"]) == 0.6 and task_score(rows["d"]) is None and task_score(rows["i"]) == 0.6
    assert s["overall"]["score"] == pytest.approx((1.0 + 0.0 + 0.6 + 0.6) / 4, abs=1e-4)


def test_a_full_disk_mid_append_leaves_no_partial_line(tmp_path, monkeypatch):
    run = RunDir(tmp_path)
    run.append(_row("a"))
    good = run.results_path.read_bytes()
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def part_then_full(fd, data):  # the disk takes half of the line, then is full
        monkeypatch.setattr(os, "write", full)
        return real_write(fd, bytes(data[:len(data) // 2]))

    monkeypatch.setattr(os, "write", part_then_full)
    with pytest.raises(RunError, match=rf"^{run.results_path}: cannot write \(No space left on device\)"):
        run.append(_row("b"))
    monkeypatch.undo()
    assert run.results_path.read_bytes() == good  # cut back: no half line for the next row to join
    run.append(_row("c"))
    assert [r["task_id"] for r in run.rows()] == ["a", "c"] and read_results(run.results_path)[1] == 0
