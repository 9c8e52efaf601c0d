"""judge.validate on real task folders: real mp4 videos, real PNG checkpoints, no mocks."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from judge.tasks import Action, TaskSpec, save_spec
from judge.validate import Problem, add_parser, validate_paths, validate_task_dir
from judge.video import write_video

W, H, FPS, N = 96, 64, 10, 10


def frames(n=N, w=W, h=H):
    return [np.full((h, w, 3), (i * 20) % 256, np.uint8) for i in range(n)]


def png(path: Path, color=(255, 0, 0), size=(W, H), fmt="PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format=fmt)
    return path


def make_task(root: Path, task_id="t1", **overrides) -> Path:
    """A valid interactive task folder with video, reference page, assets and checkpoints."""
    folder = root / task_id
    write_video(folder / "video.mp4", frames(), FPS)
    (folder / "reference.html").write_text("<!DOCTYPE html><html><body><button>Go</button></body></html>")
    (folder / "assets").mkdir()
    (folder / "assets" / "logo.txt").write_text("x")
    png(folder / "checkpoints" / "step_0.png", (0, 0, 255))
    png(folder / "checkpoints" / "step_2.png", (0, 255, 0))
    png(folder / "checkpoints" / "initial.png", (255, 255, 255))
    data = dict(id=task_id, family="interactive", viewport="96x64", fps=FPS, duration_s=1.0,
                video="video.mp4", reference_page="reference.html", assets_dir="assets",
                actions=[dict(type="click", description="Click Go", visual_check=True,
                              checkpoint="checkpoints/step_0.png"),
                         dict(type="type", description="Type a name", text="ann"),
                         dict(type="press", description="Press Enter", key="Enter", visual_check=True,
                              checkpoint="checkpoints/step_2.png")])
    data.update(overrides)
    write_json(folder / "task.json", data)
    return folder


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2))


def edit(folder: Path, fn) -> None:
    data = json.loads((folder / "task.json").read_text())
    fn(data)
    write_json(folder / "task.json", data)


def errors(problems):
    return [p for p in problems if p.severity == "error"]


def warnings(problems):
    return [p for p in problems if p.severity == "warning"]


def only(problems, field):
    found = [p for p in problems if p.field == field]
    assert found, f"no problem on {field!r} in {[str(p) for p in problems]}"
    return found[0]


# --------------------------------------------------------------------------- valid

def test_valid_task_has_no_problems(tmp_path):
    folder = make_task(tmp_path)
    assert validate_task_dir(folder) == []


def test_task_written_by_save_spec_is_valid(tmp_path):
    folder = tmp_path / "anim"
    write_video(folder / "video.mp4", frames(), FPS)
    save_spec(TaskSpec(id="anim", family="animation", viewport="96x64", fps=FPS, duration_s=1.0), folder)
    assert validate_task_dir(folder) == []


def test_problem_str_is_path_field_message(tmp_path):
    p = Problem(tmp_path / "task.json", "actions[3].type", "unknown action type 'swipe'")
    assert str(p) == f"{tmp_path / 'task.json'}: actions[3].type: unknown action type 'swipe'"
    assert p.severity == "error"
    assert str(Problem(Path("x"), "", "missing")) == "x: missing"


# --------------------------------------------------------------------------- task.json

def test_missing_task_json(tmp_path):
    (tmp_path / "empty").mkdir()
    [p] = validate_task_dir(tmp_path / "empty")
    assert p.path == tmp_path / "empty" / "task.json" and "missing task.json" in p.message


def test_malformed_json_names_file_and_line(tmp_path):
    folder = make_task(tmp_path)
    (folder / "task.json").write_text('{"id": "t1", "family": ')
    [p] = validate_task_dir(folder)
    assert p.path == folder / "task.json"
    assert "not valid JSON" in p.message and "line 1" in p.message


def test_reports_every_schema_error_with_dotted_fields(tmp_path):
    folder = make_task(tmp_path)

    def break_it(d):
        d["fps"] = -5
        d["viewport"] = "1024by768"
        d["actions"][1]["type"] = "Swipe"
        d["actions"][2].pop("key")
        d["bogus"] = 1

    edit(folder, break_it)
    problems = validate_task_dir(folder)
    fields = {p.field for p in errors(problems)}
    assert {"fps", "viewport", "actions[1].type", "actions[2]", "bogus"} <= fields
    swipe = only(problems, "actions[1].type")
    assert swipe.path == folder / "task.json"
    assert "unknown action type 'swipe'" in swipe.message and "click" in swipe.message
    assert "1024by768" in only(problems, "viewport").message
    assert "needs 'key'" in only(problems, "actions[2]").message


def test_files_are_checked_even_when_schema_is_invalid(tmp_path):
    folder = make_task(tmp_path)
    edit(folder, lambda d: d.update(fps="fast"))
    (folder / "video.mp4").unlink()
    (folder / "checkpoints" / "step_2.png").unlink()
    fields = {p.field for p in validate_task_dir(folder)}
    assert {"fps", "video", "actions[2].checkpoint"} <= fields


def test_iwr_style_actions_in_task_json_are_accepted(tmp_path):
    folder = make_task(tmp_path, actions=[
        {"type": "Click", "parameters": {"description": "Open menu", "element_index": 3},
         "visual_evaluation_flag": True, "logical_assertion": "menu open",
         "checkpoint_screenshot": "checkpoints/step_0.png"},
        {"type": "Scroll", "parameters": {"description": "scroll", "direction": "down"}}])
    assert validate_task_dir(folder) == []


# --------------------------------------------------------------------------- video

def test_missing_video(tmp_path):
    folder = make_task(tmp_path)
    (folder / "video.mp4").unlink()
    [p] = validate_task_dir(folder)
    assert (p.path, p.field, p.severity) == (folder / "video.mp4", "video", "error")
    assert "not found" in p.message


def test_zero_byte_video(tmp_path):
    folder = make_task(tmp_path)
    (folder / "video.mp4").write_bytes(b"")
    [p] = validate_task_dir(folder)
    assert (p.path, p.field) == (folder / "video.mp4", "video") and "empty" in p.message


def test_truncated_video_cut_in_half(tmp_path):
    folder = make_task(tmp_path)
    data = (folder / "video.mp4").read_bytes()
    (folder / "video.mp4").write_bytes(data[: len(data) // 2])
    [p] = validate_task_dir(folder)
    assert (p.path, p.field) == (folder / "video.mp4", "video")
    assert "cannot open" in p.message


def test_truncated_faststart_video_is_caught(tmp_path):
    """moov atom first: the header survives truncation, so only the packets show it."""
    folder = make_task(tmp_path)
    path = folder / "video.mp4"
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        for _ in range(N):
            img = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
            for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    [p] = validate_task_dir(folder)
    assert (p.path, p.field) == (path, "video") and "truncated" in p.message


def test_not_a_video(tmp_path):
    folder = make_task(tmp_path)
    (folder / "video.mp4").write_text("this is not a video\n" * 50)
    [p] = validate_task_dir(folder)
    assert (p.path, p.field) == (folder / "video.mp4", "video") and "cannot open" in p.message


def test_video_size_differs_from_viewport_is_an_error(tmp_path):
    folder = make_task(tmp_path)
    write_video(folder / "video.mp4", frames(w=128, h=64), FPS)
    [p] = validate_task_dir(folder)
    assert (p.field, p.severity) == ("video", "error") and "128x64" in p.message and "96x64" in p.message


def test_fps_and_duration_far_from_spec_are_warnings(tmp_path):
    folder = make_task(tmp_path, fps=30, duration_s=5.0)
    problems = validate_task_dir(folder)
    assert errors(problems) == []
    assert {p.field for p in warnings(problems)} == {"fps", "duration_s"}
    assert "10 fps" in only(problems, "fps").message


def test_small_fps_and_duration_differences_are_fine(tmp_path):
    folder = make_task(tmp_path, fps=12, duration_s=1.4)
    assert validate_task_dir(folder) == []


# --------------------------------------------------------------------------- other files

def test_reference_page_missing_or_binary(tmp_path):
    folder = make_task(tmp_path)
    (folder / "reference.html").unlink()
    p = only(validate_task_dir(folder), "reference_page")
    assert p.path == folder / "reference.html" and "not found" in p.message
    png(folder / "reference.html")
    p = only(validate_task_dir(folder), "reference_page")
    assert "not a text file" in p.message
    (folder / "reference.html").write_text("just words, no markup")
    assert "not an HTML file" in only(validate_task_dir(folder), "reference_page").message


def test_assets_dir_missing(tmp_path):
    folder = make_task(tmp_path, assets_dir="static")
    [p] = validate_task_dir(folder)
    assert (p.path, p.field) == (folder / "static", "assets_dir")


def test_checkpoint_missing(tmp_path):
    folder = make_task(tmp_path)
    (folder / "checkpoints" / "step_2.png").unlink()
    [p] = validate_task_dir(folder)
    assert (p.path, p.field) == (folder / "checkpoints" / "step_2.png", "actions[2].checkpoint")
    assert "not found" in p.message


def test_checkpoint_wrong_size(tmp_path):
    folder = make_task(tmp_path)
    png(folder / "checkpoints" / "step_0.png", size=(80, 64))
    [p] = validate_task_dir(folder)
    assert (p.path, p.field, p.severity) == (folder / "checkpoints" / "step_0.png", "actions[0].checkpoint", "error")
    assert "80x64" in p.message and "96x64" in p.message


def test_checkpoint_not_a_png(tmp_path):
    folder = make_task(tmp_path)
    png(folder / "checkpoints" / "step_0.png", fmt="JPEG")
    (folder / "checkpoints" / "step_2.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    problems = validate_task_dir(folder)
    assert "not a PNG" in only(problems, "actions[0].checkpoint").message
    assert "not a readable PNG" in only(problems, "actions[2].checkpoint").message


def test_initial_checkpoint_wrong_size(tmp_path):
    folder = make_task(tmp_path)
    png(folder / "checkpoints" / "initial.png", size=(64, 64))
    [p] = validate_task_dir(folder)
    assert p.path == folder / "checkpoints" / "initial.png" and "64x64" in p.message


def test_visual_action_without_checkpoint_is_a_warning(tmp_path):
    folder = make_task(tmp_path)
    edit(folder, lambda d: d["actions"][2].pop("checkpoint"))
    [p] = validate_task_dir(folder)
    assert (p.field, p.severity) == ("actions[2].checkpoint", "warning")
    # an action without visual_check needs no checkpoint (action 1 has none and is fine)


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    folder = make_task(tmp_path)
    (folder / "video.mp4").write_bytes(b"")
    (folder / "reference.html").unlink()
    (folder / "checkpoints" / "step_0.png").unlink()
    png(folder / "checkpoints" / "step_2.png", size=(10, 10))
    edit(folder, lambda d: d["actions"][1].update(type="swipe"))
    fields = [p.field for p in validate_task_dir(folder)]
    assert set(fields) >= {"actions[1].type", "video", "reference_page", "actions[0].checkpoint",
                           "actions[2].checkpoint"}


# --------------------------------------------------------------------------- sets of tasks

def test_validate_paths_walks_folders_and_finds_duplicate_ids(tmp_path):
    make_task(tmp_path / "suite" / "a", "same")
    make_task(tmp_path / "suite" / "b" / "deep", "same")
    make_task(tmp_path / "suite" / "c", "other")
    problems = validate_paths([tmp_path / "suite"])
    [p] = problems
    assert p.field == "id" and "duplicate task id 'same'" in p.message
    assert p.path.name == "task.json"


def test_validate_paths_missing_or_empty_path(tmp_path):
    (tmp_path / "nothing").mkdir()
    problems = validate_paths([tmp_path / "nothing", tmp_path / "absent"])
    assert [p.path for p in problems] == [tmp_path / "nothing", tmp_path / "absent"]
    assert "no task.json" in problems[0].message and "does not exist" in problems[1].message


def test_validate_paths_accepts_a_task_json_file(tmp_path):
    folder = make_task(tmp_path)
    assert validate_paths([folder / "task.json"]) == []


# --------------------------------------------------------------------------- CLI

def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="judge tasks")
    add_parser(parser.add_subparsers(dest="cmd", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_ok(tmp_path, capsys):
    make_task(tmp_path / "suite")
    code, out, _ = run_cli(["validate", str(tmp_path / "suite")], capsys)
    assert code == 0 and out.strip() == "1 tasks, 0 errors, 0 warnings"


def test_cli_errors_exit_1_one_line_per_problem(tmp_path, capsys):
    folder = make_task(tmp_path / "suite")
    (folder / "video.mp4").write_bytes(b"")
    edit(folder, lambda d: d["actions"][0].update(type="Swipe"))
    code, out, _ = run_cli(["validate", str(tmp_path / "suite")], capsys)
    lines = out.strip().splitlines()
    assert code == 1
    assert lines[-1] == "1 tasks, 2 errors, 0 warnings"
    assert any(f"{folder / 'task.json'}: actions[0].type: unknown action type" in line for line in lines)
    assert any(f"{folder / 'video.mp4'}: video:" in line for line in lines)


def test_cli_strict_turns_warnings_into_errors(tmp_path, capsys):
    folder = make_task(tmp_path)
    edit(folder, lambda d: d["actions"][2].pop("checkpoint"))
    code, out, _ = run_cli(["validate", str(folder)], capsys)
    assert code == 0 and out.strip().endswith("1 tasks, 0 errors, 1 warnings")
    code, out, _ = run_cli(["validate", "--strict", str(folder)], capsys)
    assert code == 1 and out.strip().endswith("1 tasks, 1 errors, 0 warnings")


def test_cli_json(tmp_path, capsys):
    folder = make_task(tmp_path)
    png(folder / "checkpoints" / "step_0.png", size=(80, 64))
    code, out, _ = run_cli(["validate", "--json", str(folder)], capsys)
    report = json.loads(out)
    assert code == 1 and (report["tasks"], report["errors"], report["warnings"]) == (1, 1, 0)
    assert report["problems"][0]["field"] == "actions[0].checkpoint"
    assert report["problems"][0]["path"] == str(folder / "checkpoints" / "step_0.png")


def test_cli_missing_path_exit_2(tmp_path, capsys):
    make_task(tmp_path)
    code, out, err = run_cli(["validate", str(tmp_path), str(tmp_path / "nope")], capsys)
    assert code == 2 and f"{tmp_path / 'nope'}: path does not exist" in err


def test_cli_path_without_tasks_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, out, _ = run_cli(["validate", str(tmp_path / "empty")], capsys)
    assert code == 1 and "no task.json found" in out and "0 tasks, 1 errors" in out


def test_action_model_still_rejects_unknown_types():
    with pytest.raises(Exception):
        Action(type="swipe", description="x")
