"""Bad input never crashes the judge.

Pages that are not HTML, judged through `judge.score.score_page` on a small animation
task: empty -> exec false "no code"; binary -> scored with a page error; 20 MB of text ->
refused within a bounded time. Through the CLI (`judge score TASK PAGE`): a missing page,
a malformed task.json, an unknown action type, a missing / zero-byte / truncated video ->
one line on stderr naming the file (and the field), exit code 2, and nothing already on
disk changes (task folder, page, artifacts folder, feature cache).
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from pathlib import Path

import pytest

from judge.cli import main
from judge.score import score_page
from tests.test_hostile import build_animation_task, score_config

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
