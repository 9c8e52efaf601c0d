"""Bad input never crashes the judge.

Pages that are not HTML, judged through `judge.score.score_page` on a small animation
task: empty -> exec false "no code"; binary -> scored with a page error; 20 MB of text ->
refused within a bounded time. Through the CLI (`judge score TASK PAGE`): a missing page,
a malformed task.json, an unknown action type, a missing / zero-byte / truncated video ->
one line on stderr naming the file (and the field), exit code 2, and nothing already on
disk changes (task folder, page, artifacts folder, feature cache).

Through `judge evaluate`: the same broken tasks (plus an undecodable codec and a checkpoint
of the wrong size), unknown `--model`/`--judge-model` values, a missing API key the run
needs, a run directory that is not a writable folder or whose disk is nearly full -> exit
2 and one line before the run directory is taken or Chromium started, nothing written; a
disk that fills up mid-run -> exit 2 naming results.jsonl, the rows already written kept,
and a re-run finishes; replayed pages that are empty, binary or 20 MB of text -> scored
failures (exec false), the other tasks scored as usual.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from judge.cli import main
from judge.runs import read_results
from judge.score import score_page
from tests.helpers.hostile import build_animation_task, score_config

TEXT_BOUND_S = 30.0


@pytest.fixture(scope="module")
def task_dir(browser, loop, tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-input")
    build_animation_task(root / "task", browser, loop.run_until_complete, task_id="bad-input-anim")
    return root / "task"


@pytest.fixture(scope="module")
def task(task_dir):
    from judge.tasks import load_task

    return load_task(task_dir)


# ---- pages that are not HTML ------------------------------------------------------------
def test_empty_page_is_exec_false_no_code(browser, run, task, tmp_path):
    for html in (b"", "", None, b"  \n\t "):
        row = run(score_page(task, html, browser=browser, config=score_config(tmp_path / "cache")))
        assert row["exec"] is False and row["render"]["fatal"] == "no code", row
        assert row["appearance"] == 0.0


def test_binary_page_is_scored_with_a_page_error(browser, run, task, tmp_path):
    data = random.Random(7).randbytes(300_000) + b"\0\xff\xfe"
    row = run(score_page(task, data, browser=browser, config=score_config(tmp_path / "cache")))
    assert row["task_id"] == task.id and row["page_sha256"] == hashlib.sha256(data).hexdigest()
    render = row["render"]
    assert row["exec"] is False or any("not HTML text" in e for e in render["page_errors"]), render
    assert any("not HTML text" in e for e in render["page_errors"]), render


def test_twenty_megabytes_of_text_take_bounded_time(browser, run, task, tmp_path):
    text = ("All work and no play makes Jack a dull boy. " * 23 + "\n") * 20_000   # ~20 MB
    assert len(text) > 20_000_000
    t0 = time.perf_counter()
    row = run(score_page(task, text, browser=browser, config=score_config(tmp_path / "cache")))
    wall = time.perf_counter() - t0
    assert wall < TEXT_BOUND_S, wall
    assert row["exec"] is False and "MB limit" in (row["render"]["fatal"] or ""), row["render"]


# ---- the CLI -----------------------------------------------------------------------------
def snapshot(*roots: Path) -> dict[str, str]:
    out = {}
    for root in roots:
        if root.is_file():
            out[str(root)] = hashlib.sha256(root.read_bytes()).hexdigest()
        elif root.is_dir():
            for p in sorted(root.rglob("*")):
                if p.is_file():
                    out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys, task_dir):
    """Run `judge score` in-process with its own cache and artifacts folders; return
    (exit code, stderr lines, stdout) and check nothing on disk changed when it fails."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "features").mkdir()
    (cache / "features" / "keep.txt").write_text("already here")
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "keep.txt").write_text("already here")
    monkeypatch.setenv("WEBJUDGE_CACHE_DIR", str(cache))

    def go(task: Path, page: Path) -> tuple[int, list[str], str]:
        before = snapshot(task, page, cache, artifacts)
        capsys.readouterr()
        code = main(["score", str(task), str(page), "--embedder", "classic", "--tracker", "opencv",
                     "--artifacts", str(artifacts)])
        out = capsys.readouterr()
        if code != 0:
            assert snapshot(task, page, cache, artifacts) == before, "a failed `judge score` changed files"
        return code, [line for line in out.err.splitlines() if line.strip()], out.out

    return go


def copy_task(task_dir: Path, tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copytree(task_dir, dst)
    return dst


@pytest.fixture
def page(tmp_path) -> Path:
    p = tmp_path / "page.html"
    p.write_text("<p style='font-size:40px'>hello</p>")
    return p


def test_cli_missing_page(cli, task_dir, tmp_path):
    missing = tmp_path / "nope.html"
    code, err, _ = cli(task_dir, missing)
    assert code == 2 and len(err) == 1 and str(missing) in err[0] and "not found" in err[0], err


def test_cli_malformed_task_json(cli, task_dir, tmp_path, page):
    t = copy_task(task_dir, tmp_path, "malformed")
    (t / "task.json").write_text('{"id": "x", "family": "animation", "duration_s": 1,')
    code, err, _ = cli(t, page)
    assert code == 2 and len(err) == 1 and str(t / "task.json") in err[0] and "not valid JSON" in err[0], err


def test_cli_bad_field_in_task_json(cli, task_dir, tmp_path, page):
    t = copy_task(task_dir, tmp_path, "badfield")
    spec = json.loads((t / "task.json").read_text())
    spec["fps"] = -5
    (t / "task.json").write_text(json.dumps(spec))
    code, err, _ = cli(t, page)
    assert code == 2 and len(err) == 1 and f"{t / 'task.json'}: fps:" in err[0], err


def test_cli_unknown_action_type(cli, task_dir, tmp_path, page):
    t = copy_task(task_dir, tmp_path, "unknown-action")
    spec = json.loads((t / "task.json").read_text())
    spec.update(family="interactive", actions=[{"type": "teleport", "description": "Teleport to the moon"}])
    (t / "task.json").write_text(json.dumps(spec))
    code, err, _ = cli(t, page)
    assert code == 2 and len(err) == 1 and f"{t / 'task.json'}: actions[0].type:" in err[0], err


def broken_video(task_dir: Path, tmp_path: Path, kind: str) -> Path:
    t = copy_task(task_dir, tmp_path, f"video-{kind}")
    video = t / "video.mp4"
    if kind == "missing":
        video.unlink()
    elif kind == "zero-byte":
        video.write_bytes(b"")
    else:  # truncated: the first third of the file
        data = video.read_bytes()
        video.write_bytes(data[: len(data) // 3])
    return t


@pytest.mark.parametrize("kind", ["missing", "zero-byte", "truncated"])
def test_cli_bad_video(cli, task_dir, tmp_path, page, kind):
    t = broken_video(task_dir, tmp_path, kind)
    code, err, _ = cli(t, page)
    assert code == 2 and len(err) == 1 and str(t / "video.mp4") in err[0], err


@pytest.mark.parametrize("kind", ["missing", "zero-byte", "truncated"])
def test_cli_bad_video_names_the_task_field(cli, task_dir, tmp_path, page, kind):
    t = broken_video(task_dir, tmp_path, kind)
    code, err, _ = cli(t, page)
    assert code == 2 and len(err) == 1 and f"{t / 'task.json'}: video:" in err[0], err


# ---- judge evaluate ----------------------------------------------------------------------
SHIPPED_INTERACTIVE = Path(__file__).resolve().parents[2] / "tasks" / "interactive" / "faq-accordion"
KEY_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY")


def task_copy(task_dir: Path, root: Path, task_id: str) -> Path:
    """A copy of a task folder under `root/task_id`, with that id."""
    t = copy_task(task_dir, root, task_id)
    spec = json.loads((t / "task.json").read_text())
    (t / "task.json").write_text(json.dumps({**spec, "id": task_id}))
    return t


@pytest.fixture
def evaluate_cli(tmp_path, monkeypatch, capsys):
    """Run `judge evaluate` in-process (own cache, no API keys in the environment); return
    (exit code, stderr lines, stdout)."""
    monkeypatch.setenv("WEBJUDGE_CACHE_DIR", str(tmp_path / "cache"))
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)

    def go(*args) -> tuple[int, list[str], str]:
        capsys.readouterr()
        code = main(["evaluate", *map(str, args), "--embedder", "classic", "--tracker", "opencv", "--no-report"])
        out = capsys.readouterr()
        return code, [line for line in out.err.splitlines() if line.strip()], out.out

    return go


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command takes the run directory or starts Chromium."""
    from judge.browser.runtime import Browser
    from judge.runs import RunDir

    def boom(*a, **k):
        raise AssertionError("work started before the bad input was refused")

    monkeypatch.setattr(RunDir, "lock", boom)
    monkeypatch.setattr(Browser, "start", boom)


@pytest.fixture
def existing_run(tmp_path) -> Path:
    """A run directory with something in it (the checks below never get to read it)."""
    run = tmp_path / "runs" / "r"
    (run / "pages" / "t").mkdir(parents=True)
    (run / "pages" / "t" / "index.html").write_text("<p>kept</p>")
    (run / "results.jsonl").write_text('{"task_id": "t", "family": "animation", "judge_error": null}\n')
    (run / "run.json").write_text("{}\n")
    return run


def broken_task(task_dir: Path, tmp_path: Path, kind: str) -> tuple[Path, str, str]:
    """(task folder, field, file) for one kind of broken task."""
    if kind in ("missing", "zero-byte", "truncated"):
        t = broken_video(task_dir, tmp_path, kind)
        return t, "video", str(t / "video.mp4")
    if kind == "wrong-codec":  # an h264 stream whose sample entry names a codec nobody decodes
        t = copy_task(task_dir, tmp_path, "video-codec")
        data = (t / "video.mp4").read_bytes()
        i = data.rindex(b"avc1")
        (t / "video.mp4").write_bytes(data[:i] + b"zzzz" + data[i + 4:])
        return t, "video", str(t / "video.mp4")
    if kind == "malformed-json":
        t = copy_task(task_dir, tmp_path, "malformed")
        (t / "task.json").write_text('{"id": "x", "family": "animation", "duration_s": 1,')
        return t, "", str(t / "task.json")
    if kind == "unknown-action":
        t = copy_task(task_dir, tmp_path, "unknown-action")
        spec = json.loads((t / "task.json").read_text())
        spec.update(family="interactive", actions=[{"type": "teleport", "description": "Teleport to the moon"}])
        (t / "task.json").write_text(json.dumps(spec))
        return t, "actions[0].type", str(t / "task.json")
    assert kind == "checkpoint-size"
    from PIL import Image

    t = copy_task(SHIPPED_INTERACTIVE, tmp_path, "checkpoint-size")
    with Image.open(t / "checkpoints" / "step_1.png") as im:
        im.resize((500, 300)).save(t / "checkpoints" / "step_1.png")
    return t, "actions[1].checkpoint", str(t / "checkpoints" / "step_1.png")


TASK_FAULTS = ["missing", "zero-byte", "truncated", "wrong-codec", "malformed-json", "unknown-action",
               "checkpoint-size"]


@pytest.mark.parametrize("kind", TASK_FAULTS)
def test_evaluate_refuses_a_broken_task_before_any_work(evaluate_cli, no_work, task_dir, tmp_path, existing_run,
                                                         kind):
    t, field, file = broken_task(task_dir, tmp_path, kind)
    before = snapshot(t, existing_run)
    code, err, _ = evaluate_cli(t, "--model", "reference", "--out", existing_run)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"judge: error: {t / 'task.json'}: {field + ': ' if field else ''}") and file in err[0]
    assert snapshot(t, existing_run) == before


@pytest.mark.parametrize("kind", ["wrong-codec", "checkpoint-size"])
def test_cli_score_refuses_a_wrong_codec_or_checkpoint_size(cli, task_dir, tmp_path, page, kind):
    t, field, file = broken_task(task_dir, tmp_path, kind)
    code, err, _ = cli(t, page)
    assert code == 2 and len(err) == 1 and f"{t / 'task.json'}: {field}: {file}" in err[0], err


def test_cli_replay_refuses_a_broken_task_before_writing(capsys, tmp_path, page):
    """`judge replay` checks the task as `judge score` does: one line, exit 2, no --out made."""
    t = broken_video(SHIPPED_INTERACTIVE, tmp_path, "truncated")
    out = tmp_path / "replay-out"
    capsys.readouterr()
    code = main(["replay", str(t), "--page", str(page), "--out", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and f"{t / 'task.json'}: video: {t / 'video.mp4'}" in err[0], err
    assert not out.exists()


@pytest.mark.parametrize("flag,value,message", [
    ("--model", "nosuch/x", "--model: unknown provider 'nosuch'"),
    ("--model", "gibberish", "--model: model 'gibberish' is not of the form provider/model"),
    ("--model", "replay:{tmp}/nope", "--model: replay:{tmp}/nope: directory not found"),
    ("--judge-model", "nosuch/x", "--judge-model: unknown provider 'nosuch'"),
])
def test_evaluate_refuses_an_unknown_model(evaluate_cli, no_work, task_dir, tmp_path, existing_run, flag, value,
                                           message):
    value, message = value.format(tmp=tmp_path), message.format(tmp=tmp_path)
    before = snapshot(existing_run)
    extra = ["--model", "reference"] if flag != "--model" else []
    code, err, _ = evaluate_cli(task_dir, flag, value, *extra, "--out", existing_run)
    assert code == 2 and len(err) == 1 and err[0].startswith(f"judge: error: {message}"), err
    assert snapshot(existing_run) == before


@pytest.mark.parametrize("model_flag", ["--model", "--judge-model"])
def test_evaluate_refuses_a_missing_key_the_run_needs(evaluate_cli, no_work, tmp_path, model_flag):
    # --model: the page is neither saved nor cached; --judge-model: an interactive task to judge
    args = ["--model", "openai/gpt-4o"] if model_flag == "--model" else \
        ["--model", "reference", "--judge-model", "openai/gpt-4o"]
    out = tmp_path / "runs" / "new"
    code, err, _ = evaluate_cli(SHIPPED_INTERACTIVE, *args, "--out", out)
    assert code == 2 and len(err) == 1 and "no API key" in err[0] and "set OPENAI_API_KEY" in err[0], err
    assert "faq-accordion" in err[0] and ("judge the interactive" in err[0]) == (model_flag == "--judge-model")
    assert not out.exists()


def test_a_judge_model_without_key_is_not_needed_for_animation(evaluate_cli, task_dir, tmp_path):
    code, err, out = evaluate_cli(task_dir, "--model", "reference", "--judge-model", "openai/gpt-4o",
                                  "--out", tmp_path / "r")
    assert code == 0 and "judged 1" in out, err


def full_disk(monkeypatch, free: int) -> None:
    """The run directory's disk reports `free` bytes free."""
    usage = shutil.disk_usage
    monkeypatch.setattr("judge.runs.shutil.disk_usage", lambda p: usage(p)._replace(free=free))


@pytest.mark.parametrize("case", ["out-is-a-file", "out-under-a-file", "read-only-parent", "disk-nearly-full",
                                  "existing-run-disk-nearly-full"])
def test_evaluate_refuses_an_unusable_run_directory(evaluate_cli, no_work, task_dir, tmp_path, existing_run,
                                                    monkeypatch, case):
    if case == "out-is-a-file":
        out = tmp_path / "file"
        out.write_text("not a run")
        expect = f"{out}: not a directory"
    elif case == "out-under-a-file":
        (tmp_path / "file").write_text("not a run")
        out = tmp_path / "file" / "run"
        expect = f"{out}: cannot write the run directory (Not a directory)"
    elif case == "read-only-parent":
        parent = tmp_path / "ro"
        parent.mkdir(mode=0o555)
        reason = "Permission denied"
        try:
            (parent / "probe").mkdir()
            # root writes into any folder whatever its mode: take one the kernel refuses
            # to anybody instead (sysfs: creating entries is not permitted, even to root)
            (parent / "probe").rmdir()
            parent, reason = Path("/sys"), "Operation not permitted"
        except PermissionError:
            pass
        out = parent / "webjudge-run"
        expect = f"{out}: cannot write the run directory ({reason})"
    else:
        full_disk(monkeypatch, 5 << 20)
        out = existing_run if case.startswith("existing") else tmp_path / "runs" / "new"
        expect = f"{out}: only 5 MB free on its disk, at least 100 MB needed"
    before = snapshot(tmp_path)
    code, err, _ = evaluate_cli(task_dir, "--model", "reference", "--out", out)
    assert code == 2 and len(err) == 1 and err[0].startswith(f"judge: error: {expect}"), err
    assert snapshot(tmp_path) == before  # nothing written, no folder left behind
    assert out.exists() == (case in ("out-is-a-file", "existing-run-disk-nearly-full"))


def test_a_full_disk_mid_run_stops_with_the_rows_kept(evaluate_cli, task_dir, tmp_path, monkeypatch):
    import errno

    import judge.runs

    suite = tmp_path / "suite"
    for i in range(3):
        task_copy(task_dir, suite, f"t{i}")
    out = tmp_path / "runs" / "r"
    real, calls = judge.runs.append_row, []

    def append_then_full(path, row):
        calls.append(row["task_id"])
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, row)

    monkeypatch.setattr(judge.runs, "append_row", append_then_full)
    code, err, _ = evaluate_cli(suite, "--model", "reference", "--out", out)
    err = [line for line in err if not line.startswith("[")]  # progress lines
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"judge: error: {out / 'results.jsonl'}: cannot write (No space left on device)"), err
    rows, bad = read_results(out / "results.jsonl")
    assert [r["task_id"] for r in rows] == calls[:1] and bad == 0
    monkeypatch.setattr(judge.runs, "append_row", real)
    code, err, stdout = evaluate_cli(suite, "--model", "reference", "--out", out)
    assert code == 0 and "judged 2, already finished 1" in stdout, err
    rows, bad = read_results(out / "results.jsonl")
    assert sorted(r["task_id"] for r in rows) == ["t0", "t1", "t2"] and bad == 0


def test_replayed_pages_that_are_not_html_are_scored_as_failures(evaluate_cli, task_dir, tmp_path):
    suite, pages = tmp_path / "suite", tmp_path / "pages"
    content = {"ok": (task_dir / "reference.html").read_bytes(), "empty": b"",
               "binary": random.Random(7).randbytes(300_000) + b"\0\xff\xfe",
               "huge": (("All work and no play makes Jack a dull boy. " * 23 + "\n") * 20_000).encode()}
    for task_id, data in content.items():
        task_copy(task_dir, suite, task_id)
        (pages / task_id).mkdir(parents=True)
        (pages / task_id / "index.html").write_bytes(data)
    out = tmp_path / "runs" / "r"
    code, err, stdout = evaluate_cli(suite, "--model", f"replay:{pages}", "--out", out)
    assert code == 0, err  # every task has a score: failures of the pages are scored, not crashes
    rows = {r["task_id"]: r for r in read_results(out / "results.jsonl")[0]}
    assert sorted(rows) == sorted(content) and all(r["judge_error"] is None for r in rows.values())
    assert rows["ok"]["exec"] is True and rows["ok"]["error"] is None
    for task_id, kind, what in (("empty", "generation", "is empty"), ("binary", "generation", "not HTML text"),
                                ("huge", "page", "MB limit")):
        row = rows[task_id]
        assert row["exec"] is False and row["appearance"] == 0.0, row
        assert row["error_kind"] == kind and what in row["error"], row
