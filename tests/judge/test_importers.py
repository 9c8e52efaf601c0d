"""IWR-Bench and Animation2Code importers on real fixture folders in the datasets' layouts:
real mp4 videos (judge.video.write_video), real PNG checkpoints (Pillow), no mocks."""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from judge.importers import ImportFailed
from judge.importers.a2c import add_parser as add_a2c_parser
from judge.importers.a2c import assemble_codepen_page, find_samples, import_a2c
from judge.importers.iwr import add_parser as add_iwr_parser
from judge.importers.iwr import import_iwr
from judge.tasks import load_task
from judge.validate import validate_task_dir
from judge.video import read_frames
from tests.helpers.importers import FPS, H, N, W, sample, video  # noqa: F401

RED, GREEN, BLUE, YELLOW, GREY, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (90, 90, 90), (255,) * 3




def png(path: Path, color, size=(W, H)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format="PNG")
    return path


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def is_color(path: Path, color) -> bool:
    return bool((pixels(path) == np.array(color, np.uint8)).all())


# --------------------------------------------------------------------------- IWR-Bench fixture

def iwr_task_1() -> dict:
    """Checkpoints listed out of order: flagged actions are 0, 2, 3, so pairing by list
    position would give action 0 -> step_1 and action 2 -> step_2: both wrong."""
    return {
        "id": "t1",
        "classification": {"interaction_complexity": "medium", "visual_complexity": "low",
                           "domain": "shopping", "sub_domain": "groceries"},
        "recording_details": {"resolution": "96x64", "environment": "chrome-linux"},
        "source_website": "https://shop.example.com",
        "action_sequence": [
            {"type": "Click", "parameters": {"description": "Click the Menu button", "text": "", "key": "",
                                             "element_index": 5, "direction": None, "scroll_page": None},
             "visual_evaluation_flag": True, "logical_assertion": "The menu is open",
             "checkpoint_screenshot": "checkpoints/step_2.png"},
            {"type": "Type", "parameters": {"description": "Type into the search box", "text": "apples",
                                            "key": "", "element_index": 9},
             "visual_evaluation_flag": False, "logical_assertion": "The search box shows 'apples'",
             "checkpoint_screenshot": ""},
            {"type": "Press", "parameters": {"description": "Press Enter to search", "key": "Enter"},
             "visual_evaluation_flag": True, "logical_assertion": "",
             "checkpoint_screenshot": "step_1.png"},
            {"type": "Scroll", "parameters": {"description": "Scroll the results", "direction": None},
             "visual_evaluation_flag": True, "logical_assertion": "",
             "checkpoint_screenshot": "checkpoints/step_3.png"},
        ],
    }


def iwr_task_2() -> dict:
    return {
        "id": "t2",
        "classification": {"interaction_complexity": "low", "visual_complexity": "high",
                           "domain": "news", "sub_domain": "tech"},
        "recording_details": {"resolution": "96x64", "environment": "chrome-mac"},
        "source_website": "https://news.example.org",
        "action_sequence": [
            {"type": "Scroll", "parameters": {"description": "Scroll back up", "direction": "Up",
                                              "scroll_page": 0.5},
             "visual_evaluation_flag": False, "logical_assertion": "", "checkpoint_screenshot": ""},
            {"type": "Click", "parameters": {"description": "Open the first story", "element_index": 2},
             "visual_evaluation_flag": True, "logical_assertion": "The story page is shown",
             "checkpoint_screenshot": ""},
            {"type": "Press", "parameters": {"description": "Tab to the next link", "key": "Tab"},
             "visual_evaluation_flag": False, "logical_assertion": "", "checkpoint_screenshot": ""},
            {"type": "Scroll", "parameters": {"description": "Scroll down"},
             "visual_evaluation_flag": False, "logical_assertion": ""},
        ],
    }


def build_iwr(root: Path, lines: list | None = None) -> Path:
    """IWR-Bench layout: data.jsonl next to data/<id>/{video.mp4,assets/,checkpoints/,metadata.json}."""
    root.mkdir(parents=True, exist_ok=True)
    lines = lines if lines is not None else [iwr_task_1(), iwr_task_2()]
    (root / "data.jsonl").write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines))
    t1 = root / "data" / "t1"
    video(t1 / "video.mp4", seed=1)
    png(t1 / "assets" / "logo.png", GREY, size=(20, 10))
    (t1 / "assets" / "fonts").mkdir()
    (t1 / "assets" / "fonts" / "a.woff2").write_bytes(b"wOF2fake")
    png(t1 / "checkpoints" / "step_0.png", RED)      # initial state (named by no action)
    png(t1 / "checkpoints" / "step_1.png", GREEN)    # after action 2 (Press)
    png(t1 / "checkpoints" / "step_2.png", BLUE)     # after action 0 (Click)
    png(t1 / "checkpoints" / "step_3.png", YELLOW)   # after action 3 (Scroll)
    t2 = root / "data" / "t2"
    video(t2 / "video.mp4", n=15, seed=2)
    png(t2 / "assets" / "hero.png", GREY)
    png(t2 / "checkpoints" / "initial.png", WHITE)
    (t2 / "metadata.json").write_text(json.dumps({"recording_details": {"resolution": "96x64"}, "notes": "ok"}))
    return root / "data.jsonl"


def test_iwr_import_content(tmp_path):
    data = build_iwr(tmp_path / "iwr")
    out = tmp_path / "out"
    written = import_iwr(data, out)
    assert written == [out / "t1", out / "t2"]

    t1 = load_task(out / "t1")
    s = t1.spec
    assert (s.id, s.family, str(s.viewport), s.fps, s.duration_s) == ("t1", "interactive", "96x64", 10.0, 1.0)
    assert [a.type for a in s.actions] == ["click", "type", "press", "scroll"]
    assert s.actions[0].description == "Click the Menu button"
    assert s.actions[0].assertion == "The menu is open" and s.actions[0].visual_check
    assert s.actions[1].text == "apples" and not s.actions[1].visual_check
    assert s.actions[1].assertion == "The search box shows 'apples'"
    assert s.actions[2].key == "Enter" and s.actions[2].assertion is None
    assert s.actions[3].direction == "down"          # None in the data: IWR-Bench always scrolled down
    assert [a.checkpoint for a in s.actions] == ["checkpoints/step_0.png", None, "checkpoints/step_2.png",
                                                 "checkpoints/step_3.png"]
    # checkpoints keyed by action index, taken from the file each action names
    assert is_color(t1.checkpoint_path(0), BLUE)
    assert t1.checkpoint_path(1) is None
    assert is_color(t1.checkpoint_path(2), GREEN)
    assert is_color(t1.checkpoint_path(3), YELLOW)
    assert is_color(t1.initial_checkpoint_path, RED)
    assert sorted(p.name for p in (out / "t1" / "checkpoints").iterdir()) == \
        ["initial.png", "step_0.png", "step_2.png", "step_3.png"]

    md = s.metadata
    assert md["source"] == "IWR-Bench" and md["source_website"] == "https://shop.example.com"
    assert md["classification"]["sub_domain"] == "groceries"
    assert md["recording_details"]["environment"] == "chrome-linux"
    assert md["iwr_element_index"] == [5, 9, None, None]
    assert md["iwr_initial_checkpoint"] == "checkpoints/step_0.png"
    assert "import_warnings" not in md

    # video and assets copied (real copies, same content)
    assert not (out / "t1" / "video.mp4").is_symlink()
    np.testing.assert_array_equal(read_frames(out / "t1" / "video.mp4"), read_frames(data.parent / "data/t1/video.mp4"))
    assert s.assets_dir == "assets" and (out / "t1" / "assets" / "fonts" / "a.woff2").read_bytes() == b"wOF2fake"
    assert validate_task_dir(out / "t1") == []


def test_iwr_import_task_without_named_checkpoints(tmp_path, caplog):
    data = build_iwr(tmp_path / "iwr")
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="judge.importers"):
        import_iwr(data, out)
    t2 = load_task(out / "t2")
    s = t2.spec
    assert (s.actions[0].direction, s.actions[0].amount) == ("up", 0.5)
    assert s.actions[3].direction == "down"          # key absent entirely
    assert s.duration_s == 1.5 and s.actions[1].visual_check
    # flagged but no checkpoint_screenshot: no guess by position, a warning instead
    assert all(a.checkpoint is None for a in s.actions)
    assert not (out / "t2" / "checkpoints" / "step_1.png").exists()
    [warning] = s.metadata["import_warnings"]
    assert "action_sequence[1].checkpoint_screenshot" in warning
    assert any("t2" in r.getMessage() and "action_sequence[1]" in r.getMessage() for r in caplog.records)
    assert is_color(t2.initial_checkpoint_path, WHITE)
    assert s.metadata["iwr_metadata"]["notes"] == "ok"
    problems = validate_task_dir(out / "t2")
    assert [(p.field, p.severity) for p in problems] == [("actions[1].checkpoint", "warning")]


def test_iwr_link_assets(tmp_path):
    data = build_iwr(tmp_path / "iwr")
    out = tmp_path / "out"
    import_iwr(data, out, link_assets=True)
    assert (out / "t1" / "video.mp4").is_symlink() and (out / "t1" / "assets").is_symlink()
    assert (out / "t1" / "video.mp4").resolve() == (data.parent / "data/t1/video.mp4").resolve()
    assert not (out / "t1" / "checkpoints" / "step_0.png").is_symlink()   # renamed: always copied
    assert validate_task_dir(out / "t1") == []


def test_iwr_ids_filter_and_reimport_replaces(tmp_path):
    data = build_iwr(tmp_path / "iwr")
    out = tmp_path / "out"
    assert import_iwr(data, out, ids=["t2"]) == [out / "t2"]
    assert not (out / "t1").exists()
    (out / "t2" / "stale.txt").write_text("from an older import")
    assert import_iwr(data, out, ids=["t2"]) == [out / "t2"]
    assert not (out / "t2" / "stale.txt").exists()
    assert [p.name for p in out.iterdir()] == ["t2"]          # no staging folders left behind
    with pytest.raises(ImportFailed) as exc:
        import_iwr(data, out, ids=["t2", "t9"])
    assert "'t9'" in str(exc.value) and exc.value.written == [out / "t2"]


def test_iwr_checkpoint_by_integer_and_jpeg_converted(tmp_path):
    task = iwr_task_1()
    task["action_sequence"][0]["checkpoint_screenshot"] = "shots/after_click.jpg"
    task["action_sequence"][3]["checkpoint_screenshot"] = 3
    data = build_iwr(tmp_path / "iwr", [task])
    shots = data.parent / "data" / "t1" / "shots"
    shots.mkdir()
    Image.new("RGB", (W, H), BLUE).save(shots / "after_click.jpg", quality=100)
    out = tmp_path / "out"
    import_iwr(data, out)
    t1 = load_task(out / "t1")
    assert Image.open(t1.checkpoint_path(0)).format == "PNG"
    assert np.abs(pixels(t1.checkpoint_path(0)).astype(int) - BLUE).max() <= 3
    assert is_color(t1.checkpoint_path(3), YELLOW)
    assert validate_task_dir(out / "t1") == []


# --------------------------------------------------------------------------- IWR-Bench broken fixtures

def import_failure(data: Path, out: Path) -> ImportFailed:
    with pytest.raises(ImportFailed) as exc:
        import_iwr(data, out)
    return exc.value


def test_iwr_missing_video_keeps_other_tasks(tmp_path):
    data = build_iwr(tmp_path / "iwr")
    (data.parent / "data" / "t2" / "video.mp4").unlink()
    out = tmp_path / "out"
    err = import_failure(data, out)
    [p] = err.problems
    assert str(p).startswith(f"{data}:2: video: task 't2': missing video")
    assert err.written == [out / "t1"] and validate_task_dir(out / "t1") == []
    assert sorted(q.name for q in out.iterdir()) == ["t1"]


def test_iwr_zero_byte_and_truncated_video(tmp_path):
    data = build_iwr(tmp_path / "iwr")
    (data.parent / "data" / "t1" / "video.mp4").write_bytes(b"")
    v2 = data.parent / "data" / "t2" / "video.mp4"
    v2.write_bytes(v2.read_bytes()[: v2.stat().st_size // 2])
    err = import_failure(data, tmp_path / "out")
    p1, p2 = err.problems
    assert (p1.line, p1.field) == (1, "video") and "empty" in p1.message
    assert (p2.line, p2.field) == (2, "video") and "cannot open" in p2.message and str(v2) in p2.message


def test_iwr_unknown_action_type(tmp_path):
    task = iwr_task_1()
    task["action_sequence"][2]["type"] = "Swipe"
    data = build_iwr(tmp_path / "iwr", [task, iwr_task_2()])
    err = import_failure(data, tmp_path / "out")
    [p] = err.problems
    assert (p.path, p.line, p.field) == (data, 1, "action_sequence[2].type")
    assert "'Swipe'" in p.message and "action 2" in p.message
    assert f"{data}:1: action_sequence[2].type:" in str(err)
    assert err.written == [tmp_path / "out" / "t2"]


def test_iwr_action_missing_required_parameter(tmp_path):
    task = iwr_task_1()
    task["action_sequence"][2]["parameters"]["key"] = ""
    data = build_iwr(tmp_path / "iwr", [task])
    [p] = import_failure(data, tmp_path / "out").problems
    assert (p.line, p.field) == (1, "action_sequence[2]") and "needs 'key'" in p.message


def test_iwr_bad_viewport(tmp_path):
    task = iwr_task_2()
    task["recording_details"]["resolution"] = "1024by768"
    data = build_iwr(tmp_path / "iwr", [iwr_task_1(), task])
    [p] = import_failure(data, tmp_path / "out").problems
    assert (p.line, p.field) == (2, "recording_details.resolution") and "1024by768" in p.message


def test_iwr_malformed_json_line(tmp_path):
    data = build_iwr(tmp_path / "iwr", [iwr_task_1(), '{"id": "t3", "action_sequence": [', iwr_task_2()])
    err = import_failure(data, tmp_path / "out")
    [p] = err.problems
    assert str(p).startswith(f"{data}:2: bad JSON line")
    assert err.written == [tmp_path / "out" / "t1", tmp_path / "out" / "t2"]


def test_iwr_checkpoint_missing(tmp_path):
    data = build_iwr(tmp_path / "iwr")
    (data.parent / "data" / "t1" / "checkpoints" / "step_2.png").unlink()
    [p] = import_failure(data, tmp_path / "out").problems
    assert (p.line, p.field) == (1, "action_sequence[0].checkpoint_screenshot")
    assert "'checkpoints/step_2.png' not found" in p.message


def test_iwr_failed_reimport_keeps_previous_task(tmp_path):
    data = build_iwr(tmp_path / "iwr")
    out = tmp_path / "out"
    import_iwr(data, out)
    before = (out / "t1" / "task.json").read_text()
    (data.parent / "data" / "t1" / "checkpoints" / "step_3.png").write_bytes(b"not an image")
    [p] = import_failure(data, out).problems
    assert p.field == "action_sequence[3].checkpoint_screenshot" and "not a readable image" in p.message
    assert (out / "t1" / "task.json").read_text() == before and is_color(out / "t1/checkpoints/step_3.png", YELLOW)
    assert sorted(q.name for q in out.iterdir()) == ["t1", "t2"]     # no half-written staging folder


def test_iwr_checkpoint_wrong_size_is_caught_by_validation(tmp_path):
    data = build_iwr(tmp_path / "iwr")
    png(data.parent / "data" / "t1" / "checkpoints" / "step_3.png", YELLOW, size=(48, 32))
    out = tmp_path / "out"
    import_iwr(data, out)
    [p] = validate_task_dir(out / "t1")
    assert (p.path, p.field, p.severity) == (out / "t1/checkpoints/step_3.png", "actions[3].checkpoint", "error")
    assert "48x32" in p.message


# --------------------------------------------------------------------------- IWR CLI

def run_cli(add, argv: list[str], capsys) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="judge tasks")
    add(parser.add_subparsers(dest="cmd", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_iwr_cli_exit_codes(tmp_path, capsys):
    data = build_iwr(tmp_path / "iwr")
    out = tmp_path / "out"
    code, stdout, _ = run_cli(add_iwr_parser, ["import-iwr", str(data), "--out", str(out), "--ids", "t1"], capsys)
    assert code == 0 and "imported 1 tasks" in stdout and (out / "t1" / "task.json").is_file()
    code, _, _ = run_cli(add_iwr_parser, ["import-iwr", str(data), "--out", str(out), "--link-assets"], capsys)
    assert code == 0 and (out / "t2" / "video.mp4").is_symlink()
    (data.parent / "data" / "t2" / "video.mp4").unlink()
    code, stdout, stderr = run_cli(add_iwr_parser, ["import-iwr", str(data), "--out", str(tmp_path / "o2")], capsys)
    assert code == 1 and f"{data}:2: video:" in stderr and "imported 1 tasks" in stdout
    code, _, stderr = run_cli(add_iwr_parser, ["import-iwr", str(tmp_path / "nope.jsonl"), "--out", str(out)], capsys)
    assert code == 2 and "nope.jsonl: file not found" in stderr


# --------------------------------------------------------------------------- Animation2Code fixture

CODEPEN_FULL = """<!DOCTYPE html>
<html lang="en" >
<head>
  <meta charset="UTF-8">
  <title>CodePen - Bouncing ball</title>
  <link rel="stylesheet" href="./style.css">
</head>
<body>
<!-- partial:index.partial.html -->
<div class="ball"></div>
<!-- partial -->
  <script  src="./script.js"></script>
</body>
</html>
"""




def build_a2c(root: Path, broken=False) -> Path:
    (root / "test").mkdir(parents=True)
    (root / "_record_manifest.json").write_text(json.dumps({
        "pen-css": {"animationType": "css", "durationS": 0.8},
        "pen-bad": {"animationType": "svg", "durationS": 1.0}}))
    sample(root / "test" / "pen-css")
    sample(root / "test" / "pen-js", html=CODEPEN_FULL, css=".ball{width:10px}",
           js="const b = document.querySelector('.ball'); b.textContent = '</script>';", title="Bouncing ball",
           manifest={"animationType": "js", "durationS": 1.0})
    sample(root / "test" / "pen-plain", css=None, js="void 0")       # no manifest entry, no css
    (root / "notes").mkdir()
    (root / "notes" / "README.md").write_text("not a sample")
    (root / ".cache" / "junk").mkdir(parents=True)
    if broken:
        sample(root / "test" / "pen-novideo", n=0)
        sample(root / "test" / "pen-bad")
        sample(root / "test" / "pen-baddur", manifest={"animationType": "css", "durationS": "five"})
    return root


def test_a2c_import_content(tmp_path):
    root = build_a2c(tmp_path / "a2c")
    out = tmp_path / "out"
    assert find_samples(root) == [root / "test" / n for n in ("pen-css", "pen-js", "pen-plain")]
    written = import_a2c(root, out)
    assert written == [out / "pen-css", out / "pen-js", out / "pen-plain"]

    css_task = load_task(out / "pen-css").spec
    assert (css_task.family, str(css_task.viewport), css_task.fps) == ("animation", "96x64", 10.0)
    assert css_task.duration_s == 0.8                   # from the root manifest, not the 1.0 s video
    assert css_task.reference_page == "reference.html" and css_task.actions == []
    md = css_task.metadata
    assert (md["title"], md["url"], md["animationType"]) == ("Spinner", "https://codepen.io/someone/pen/pen-css", "css")
    assert md["license"] == "CC-BY-4.0" and "CodePen" in md["license_note"] and md["a2c_sample"] == "test/pen-css"

    js_task = load_task(out / "pen-js").spec
    assert (js_task.metadata["animationType"], js_task.duration_s) == ("js", 1.0)   # manifest in the sample folder

    plain = load_task(out / "pen-plain").spec
    assert plain.duration_s == 1.0 and plain.metadata["animationType"] is None      # from the video
    assert plain.metadata["duration_source"] == "video" and len(plain.metadata["import_warnings"]) == 2

    np.testing.assert_array_equal(read_frames(out / "pen-css" / "video.mp4"),
                                  read_frames(root / "test" / "pen-css" / "animation.mp4"))
    for t in written:
        assert validate_task_dir(t) == []


def test_a2c_reference_page_inlines_css_and_js(tmp_path):
    root = build_a2c(tmp_path / "a2c")
    out = tmp_path / "out"
    import_a2c(root, out)
    page = (out / "pen-css" / "reference.html").read_text()
    head, body = page.split("</head>")
    assert "<style>\n.spinner{animation:spin 1s linear infinite}\n</style>" in head
    assert "<title>Spinner</title>" in head and '<div class="spinner"></div>' in body

    page = (out / "pen-js" / "reference.html").read_text()
    assert "style.css" not in page and "script.js" not in page
    head, body = page.split("</head>")
    assert "<style>\n.ball{width:10px}\n</style>" in head
    ball, script = body.index('<div class="ball">'), body.index("<script>")
    assert ball < script < body.index("</body>")
    assert body[body.index("</script>\n"):].split() == ["</script>", "</body>", "</html>"]
    assert "'<\\/script>'" in body                     # a literal </script> in the JS cannot end the tag
    assert "<style>" not in (out / "pen-plain" / "reference.html").read_text()


def test_assemble_codepen_page_fragment_layout():
    page = assemble_codepen_page("<p>hi</p>", "p{color:red}", "console.log(1)", title="A & B")
    assert page.startswith("<!DOCTYPE html>")
    assert page.index("<style>") < page.index("</head>") < page.index("<p>hi</p>") < page.index("<script>")
    assert page.rstrip().endswith("</script>\n</body>\n</html>") and "<title>A &amp; B</title>" in page


def test_assemble_codepen_page_full_document_without_references():
    doc = "<html><head><title>x</title></head><body><p>hi</p></body></html>"
    page = assemble_codepen_page(doc, "p{}", "go()")
    assert page == "<html><head><title>x</title><style>\np{}\n</style>\n</head><body><p>hi</p>" \
                   "<script>\ngo()\n</script>\n</body></html>"


def test_a2c_broken_samples_are_reported_and_others_imported(tmp_path):
    root = build_a2c(tmp_path / "a2c", broken=True)
    out = tmp_path / "out"
    with pytest.raises(ImportFailed) as exc:
        import_a2c(root, out)
    err = exc.value
    assert err.written == [out / "pen-css", out / "pen-js", out / "pen-plain"]
    by_field = {p.field: p for p in err.problems}
    assert set(by_field) == {"animationType", "durationS", "animation.mp4"}
    assert by_field["animationType"].path == root / "_record_manifest.json"
    assert "'svg'" in by_field["animationType"].message
    assert by_field["durationS"].path == root / "test" / "pen-baddur" / "_record_manifest.json"
    assert "'five'" in by_field["durationS"].message
    assert by_field["animation.mp4"].path == root / "test" / "pen-novideo" / "animation.mp4"
    assert f"{root / 'test' / 'pen-novideo' / 'animation.mp4'}: animation.mp4: missing animation.mp4" in str(err)
    assert sorted(p.name for p in out.iterdir()) == ["pen-css", "pen-js", "pen-plain"]


def test_a2c_bad_metadata_and_corrupt_video(tmp_path):
    root = tmp_path / "a2c"
    s1 = sample(root / "s1")
    (s1 / "metadata.json").write_text("{not json")
    s2 = sample(root / "s2")
    (s2 / "animation.mp4").write_bytes(b"")
    s3 = sample(root / "s3")
    (s3 / "src" / "index.html").unlink()
    with pytest.raises(ImportFailed) as exc:
        import_a2c(root, tmp_path / "out")
    p1, p2, p3 = exc.value.problems
    assert p1.path == s1 / "metadata.json" and "not valid JSON" in p1.message
    assert (p2.path, p2.field) == (s2 / "animation.mp4", "animation.mp4") and "empty" in p2.message
    assert (p3.path, p3.field) == (s3 / "src" / "index.html", "src/index.html")


def test_a2c_single_sample_folder(tmp_path):
    s = sample(tmp_path / "one-pen", manifest={"animationType": "css", "durationS": 0.5})
    assert import_a2c(s, tmp_path / "out") == [tmp_path / "out" / "one-pen"]
    assert load_task(tmp_path / "out" / "one-pen").spec.duration_s == 0.5


def test_a2c_cli_exit_codes(tmp_path, capsys):
    root = build_a2c(tmp_path / "a2c")
    code, stdout, _ = run_cli(add_a2c_parser, ["import-a2c", str(root), "--out", str(tmp_path / "out")], capsys)
    assert code == 0 and "imported 3 samples" in stdout
    sample(root / "test" / "pen-novideo", n=0)
    code, _, stderr = run_cli(add_a2c_parser, ["import-a2c", str(root), "--out", str(tmp_path / "o2")], capsys)
    assert code == 1 and "pen-novideo" in stderr and "animation.mp4" in stderr
    code, _, stderr = run_cli(add_a2c_parser, ["import-a2c", str(tmp_path / "nope"), "--out", "x"], capsys)
    assert code == 2 and "not found" in stderr
    (tmp_path / "empty").mkdir()
    code, _, stderr = run_cli(add_a2c_parser, ["import-a2c", str(tmp_path / "empty"), "--out", "x"], capsys)
    assert code == 2 and "no Animation2Code sample" in stderr
