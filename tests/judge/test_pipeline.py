"""`judge evaluate` end to end on a small animation suite (real Chromium, offline models):
ranking of the baselines, resume, failed generations, judge errors, workers, refusal of
a run directory made by another command. Tasks are 1 s clips at 320x240 made in a tmp dir."""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from agents.cache import ResponseCache
from judge.pipeline import EvalOptions, Progress, evaluate
from judge.runs import RunDir, RunError, read_results
from judge.score import JudgeError, ScoreConfig, score_page
from judge.tasks import load_tasks
from tests.helpers.animation_suite import PAGES, SIZE, make_suite  # noqa: F401


@pytest.fixture(scope="module")
def suite(tmp_path_factory, browser, loop):
    return make_suite(browser, loop.run_until_complete, tmp_path_factory.mktemp("suite"))


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    """One reference-feature cache for the module (reference features are computed once per task)."""
    return tmp_path_factory.mktemp("features")


@pytest.fixture
def opts(features):
    def make(model="reference", **kw):
        kw.setdefault("score", ScoreConfig(embedder="classic", tracker="opencv", cache_dir=features))
        return EvalOptions(model=model, command=["test"], **kw)
    return make


@pytest.fixture(scope="module")
def ref_run(suite, features, tmp_path_factory, browser, loop):
    """The suite evaluated once with `--model reference` (read-only for the tests: copy it to change it)."""
    run_dir = tmp_path_factory.mktemp("ref") / "reference"
    options = EvalOptions(model="reference", command=["test"],
                          score=ScoreConfig(embedder="classic", tracker="opencv", cache_dir=features))
    _evaluate(loop.run_until_complete, browser, suite, run_dir, options)
    return run_dir


def _evaluate(run, browser, suite, run_dir, options, **kw):
    kw.setdefault("progress", None)
    kw.setdefault("cache", ResponseCache(run_dir.parent / "llm-cache"))
    return run(evaluate(load_tasks([suite]), RunDir(run_dir), options, browser=browser, **kw))


def _rows(run_dir):
    rows, bad = read_results(Path(run_dir) / "results.jsonl")
    assert bad == 0
    return rows


def test_reference_ranks_above_first_frame_and_blank(suite, ref_run, tmp_path, browser, run, opts, capsys):
    from judge.report import add_parser, load_run

    shutil.copytree(ref_run, tmp_path / "reference")
    summaries = {}
    for model in ("reference", "first-frame", "blank"):
        res = _evaluate(run, browser, suite, tmp_path / model, opts(model))
        assert sorted(res.judged if model != "reference" else res.skipped) == sorted(PAGES)
        summaries[model] = load_run(tmp_path / model)["summary"]["families"]["animation"]
    ref, ff, blank = summaries["reference"], summaries["first-frame"], summaries["blank"]
    assert ref["scored"] == ff["scored"] == blank["scored"] == len(PAGES)
    assert ref["exec"] == 100.0 and ref["exec"] >= ff["exec"] > blank["exec"]  # first-frame renders: exec ties
    for metric in ("appearance", "temporal", "score"):
        assert ref[metric] > ff[metric] and ref[metric] > blank[metric], metric
    assert ref["static"] < ff["static"] and ref["static"] < blank["static"]  # lower is better
    assert ref["appearance"] > 0.95 and ref["temporal"] > 0.9

    import argparse
    parser = argparse.ArgumentParser(prog="judge")
    add_parser(parser.add_subparsers())
    md = tmp_path / "leaderboard.md"
    args = parser.parse_args(["report", *(str(tmp_path / m) for m in ("blank", "reference", "first-frame")),
                              "--markdown", str(md)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    board = [line.split()[1] for line in out.splitlines() if line[:1].isdigit()]
    assert board == ["reference", "first-frame", "blank"]
    assert [line.split("|")[2].strip() for line in md.read_text().splitlines()[2:]] == board
    for m in ("reference", "first-frame", "blank"):
        assert (tmp_path / m / "report.html").is_file() and f"report: {tmp_path / m / 'report.html'}" in out


def test_run_directory_contents(suite, ref_run):
    meta = json.loads((ref_run / "run.json").read_text())
    for key in ("name", "model", "judge_model", "command", "config", "versions", "backends", "task_list_sha256",
                "created", "scoring", "score_key", "identity", "history", "tasks"):
        assert key in meta, key
    assert meta["backends"]["embedder"] == "classic-v1" and meta["versions"]["chromium"]
    assert meta["tasks"] == sorted(PAGES) and len(meta["history"]) == 1
    rows = _rows(ref_run)
    assert len(rows) == len(PAGES)
    for row in rows:
        tid = row["task_id"]
        page = (ref_run / "pages" / tid / "index.html").read_bytes()
        assert page == (suite / tid / "reference.html").read_bytes()
        assert json.loads((ref_run / "pages" / tid / "generation.json").read_text())["page_sha256"] == row["page_sha256"]
        assert (ref_run / "artifacts" / tid / "filmstrip.png").is_file()
        for field in ("task_id", "family", "model", "page_sha256", "scorer_version", "exec", "appearance",
                      "temporal", "static", "backends", "error", "judge_error", "score_key", "session"):
            assert field in row, field
        assert row["model"] == "reference" and row["error"] is None and row["judge_error"] is None


def test_rerun_resumes_and_other_commands_are_refused(suite, ref_run, tmp_path, browser, run, opts, features):
    run_dir = tmp_path / "r"
    shutil.copytree(ref_run, run_dir)
    again = _evaluate(run, browser, suite, run_dir, opts())
    assert again.judged == [] and sorted(again.skipped) == sorted(PAGES)
    assert len(_rows(run_dir)) == len(PAGES)
    with pytest.raises(RunError, match='model: run has "reference", command has "blank"'):
        _evaluate(run, browser, suite, run_dir, opts("blank"))
    changed = ScoreConfig(embedder="classic", tracker="opencv", scale="own", cache_dir=features)
    with pytest.raises(RunError, match="scale: shared -> own.*--rescore"):
        _evaluate(run, browser, suite, run_dir, opts(score=changed))
    rescored = _evaluate(run, browser, suite, run_dir, opts(score=changed, rescore=True))
    assert sorted(rescored.judged) == sorted(PAGES)
    rows = _rows(run_dir)
    assert len(rows) == 2 * len(PAGES) and {r["scale"] for r in rows[len(PAGES):]} == {"own"}
    assert _evaluate(run, browser, suite, run_dir, opts(score=changed)).judged == []  # the new setup is the run's


def test_rows_carry_a_provenance_stamp_and_a_run_never_mixes_stamps(suite, ref_run, tmp_path, browser, run, opts):
    rows = _rows(ref_run)
    assert all(r["version"] == 1 and set(r["provenance"]) == {"scorer", "task", "prompt"} for r in rows)
    assert len({r["provenance"]["scorer"] for r in rows}) == 1 and len({r["provenance"]["task"] for r in rows}) == len(PAGES)
    assert all(r["provenance"]["prompt"] is None for r in rows)       # a baseline uses no prompt
    # the same tasks elsewhere (same files): the run resumes; one task's folder changed: refused
    moved, run_dir = tmp_path / "suite", tmp_path / "r"
    shutil.copytree(suite, moved)
    shutil.copytree(ref_run, run_dir)
    assert run(evaluate(load_tasks([moved]), RunDir(run_dir), opts(), browser=browser, progress=None)).judged == []
    changed = sorted(PAGES)[0]
    (moved / changed / "NOTES.txt").write_text("the task folder changed after the run scored it\n")
    with pytest.raises(RunError, match=f"another task folder: {changed}.*--rescore"):
        run(evaluate(load_tasks([moved]), RunDir(run_dir), opts(), browser=browser, progress=None))
    assert len(_rows(run_dir)) == len(PAGES)                            # nothing written
    again = run(evaluate(load_tasks([moved]), RunDir(run_dir), opts(rescore=True), browser=browser, progress=None))
    assert again.judged == [changed]
    new = _rows(run_dir)[-1]
    assert new["task_id"] == changed and new["provenance"]["task"] != {r["task_id"]: r for r in rows}[changed]["provenance"]["task"]
    assert run(evaluate(load_tasks([moved]), RunDir(run_dir), opts(), browser=browser, progress=None)).judged == []


def test_failed_generation_is_scored_zero_listed_and_not_regenerated(suite, tmp_path, browser, run, opts):
    pages = tmp_path / "pregenerated"
    for tid in ("orbit", "slide"):  # no page for "bars"
        (pages / tid).mkdir(parents=True)
        shutil.copy(suite / tid / "reference.html", pages / tid / "index.html")
    run_dir = tmp_path / "replay"
    _evaluate(run, browser, suite, run_dir, opts(f"replay:{pages}"))
    rows = {r["task_id"]: r for r in _rows(run_dir)}
    bars = rows["bars"]
    assert bars["error_kind"] == "generation" and "no pre-generated page" in bars["error"]
    assert bars["exec"] is False and bars["appearance"] == 0.0 and bars["temporal"] == 0.0
    assert bars["judge_error"] is None and bars["page_sha256"] is None
    assert rows["orbit"]["exec"] is True and rows["orbit"]["error"] is None
    from judge.report import format_summary, load_run

    summary = load_run(run_dir)["summary"]
    assert summary["scored"] == 3 and summary["families"]["animation"]["generation_failures"] == 1
    assert [g["task_id"] for g in summary["generation_failures"]] == ["bars"]
    assert "generation failures (scored 0): 1\n  bars: no pre-generated page" in format_summary(summary)
    # the headline counts the failure as a zero: mean over 3 tasks, not 2
    assert summary["families"]["animation"]["exec"] == pytest.approx(200 / 3, abs=0.01)
    # a re-run, even once the page exists, keeps the recorded failure (pages are never regenerated)
    (pages / "bars").mkdir()
    shutil.copy(suite / "bars" / "reference.html", pages / "bars" / "index.html")
    assert _evaluate(run, browser, suite, run_dir, opts(f"replay:{pages}")).judged == []


class FlakyScorer:
    """`score_page`, except that it raises `JudgeError` the first `fails[task_id]` times."""

    def __init__(self, fails: dict[str, int]):
        self.fails, self.calls = dict(fails), []

    async def __call__(self, task, html, **kw):
        self.calls.append(task.id)
        if self.fails.get(task.id, 0) > 0:
            self.fails[task.id] -= 1
            raise JudgeError("simulated: Chromium went away")
        return await score_page(task, html, **kw)


def test_judge_errors_retried_within_the_run_then_by_the_next_run(suite, tmp_path, browser, run, opts):
    from judge.report import load_run

    run_dir = tmp_path / "r"
    scorer = FlakyScorer({"orbit": 1, "slide": 5})  # orbit recovers on its retry, slide does not
    _evaluate(run, browser, suite, run_dir, opts(judge_retries=1), scorer=scorer)
    rows = {r["task_id"]: r for r in _rows(run_dir)}
    assert len(rows) == len(PAGES) and scorer.calls.count("orbit") == 2 and scorer.calls.count("slide") == 2
    assert rows["orbit"]["judge_error"] is None and rows["orbit"]["attempts"] == 2
    assert rows["orbit"]["appearance"] > 0.9
    bad = rows["slide"]
    assert bad["judge_error"] == "simulated: Chromium went away" and bad["attempts"] == 2
    assert bad["exec"] is None and bad["appearance"] is None and bad["temporal"] is None and bad["error"] is None
    summary = load_run(run_dir)["summary"]
    assert (summary["scored"], summary["judge_errors"]) == (len(PAGES) - 1, 1)
    assert summary["families"]["animation"]["n_appearance"] == len(PAGES) - 1
    assert summary["judge_error_list"] == [{"task_id": "slide", "judge_error": "simulated: Chromium went away"}]

    healthy = FlakyScorer({})
    res = _evaluate(run, browser, suite, run_dir, opts(), scorer=healthy)
    assert res.judged == ["slide"] and healthy.calls == ["slide"]
    assert len(_rows(run_dir)) == len(PAGES) + 1  # the judge-error row stays; the new one supersedes it
    fixed = load_run(run_dir)
    assert fixed["latest"]["slide"]["appearance"] > 0.9 and fixed["summary"]["judge_errors"] == 0


def test_scorer_crash_is_a_judge_error_with_traceback(suite, tmp_path, browser, run, opts):
    async def broken(task, html, **kw):
        if task.id == "bars":
            raise ValueError("bug in a metric")
        return await score_page(task, html, **kw)

    _evaluate(run, browser, suite, tmp_path / "r", opts(limit=1), scorer=broken)  # sorted: bars first
    row = {r["task_id"]: r for r in _rows(tmp_path / "r")}["bars"]
    assert row["judge_error"] == "ValueError: bug in a metric" and row["attempts"] == 1
    assert "bug in a metric" in (tmp_path / "r" / "artifacts" / "bars" / "judge_error.txt").read_text()


def test_two_workers_give_the_same_scores_as_one(suite, ref_run, tmp_path, browser, run, opts):
    _evaluate(run, browser, suite, tmp_path / "w2", opts(workers=2))
    keys = ("exec", "appearance", "temporal", "static", "page_sha256")
    one = {r["task_id"]: [r[k] for k in keys] for r in _rows(ref_run)}
    two = {r["task_id"]: [r[k] for k in keys] for r in _rows(tmp_path / "w2")}
    assert one == two and len(one) == len(PAGES)
    assert json.loads((tmp_path / "w2" / "run.json").read_text())["config"]["workers"] == 2
    assert all((tmp_path / "w2" / "artifacts" / t / "filmstrip.png").is_file() for t in PAGES)


def test_limit_and_progress_lines(suite, tmp_path, browser, run, opts):
    stream = io.StringIO()
    res = _evaluate(run, browser, suite, tmp_path / "r", opts(limit=2), progress=Progress(2, stream, tty=False))
    assert len(res.judged) == 2 and len(_rows(tmp_path / "r")) == 2
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("[1/2] ") and "ETA" in lines[1] and "appearance=" in lines[0]
    tty = io.StringIO()
    bar = Progress(4, tty, tty=True)
    for i in range(4):
        bar.update({"task_id": f"t{i}", "judge_error": "x" if i == 2 else None})
    text = tty.getvalue()
    # one line redrawn in place (rich): a carriage return per redraw, the final state, then a newline
    assert text.count("\r") >= 4 and "4/4" in text and "1 judge error(s)" in text
    assert text.replace("\x1b[?25h", "").endswith("\n") and text.count("\n") == 1


def test_unknown_model_fails_before_writing(suite, tmp_path, browser, run, opts):
    from agents.providers import UnknownModel

    with pytest.raises(UnknownModel):
        _evaluate(run, browser, suite, tmp_path / "r", opts("nosuch/model-x"))
    assert not (tmp_path / "r").exists()


def test_a_dead_metrics_worker_is_a_judge_error_and_the_pool_is_renewed(suite, tmp_path, browser, run, opts):
    import os
    import signal

    killed = []

    async def killer(task, html, *, context, **kw):
        pool = context.pool
        if not killed:  # kill one worker of the pool the first time round (as the OOM killer would)
            pid = next(iter(pool._processes))
            os.kill(pid, signal.SIGKILL)
            killed.append((pid, pool))
        contexts.append(context)
        return await score_page(task, html, context=context, **kw)

    contexts = []
    options = opts(workers=2, limit=2, judge_retries=1)
    res = _evaluate(run, browser, suite, tmp_path / "r", options, scorer=killer)
    rows = {r["task_id"]: r for r in _rows(tmp_path / "r")}
    assert sorted(res.judged) == ["bars", "orbit"] and all(r["judge_error"] is None for r in rows.values())
    assert max(r["attempts"] for r in rows.values()) == 2  # the task hit by the dead worker was retried
    assert killed and killed[0][1]._broken and contexts[-1].pool is not killed[0][1]  # renewed
    assert contexts[-1]._pools == []   # and every pool was shut down with the run
