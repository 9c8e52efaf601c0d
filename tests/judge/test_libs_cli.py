"""`judge score`, `judge replay` and `judge evaluate` take `--libraries`, and `judge score`'s
text output says what was blocked, served and failed (the command in-process, with its
own Chromium: listed in conftest's BROWSER_MODULES)."""
from __future__ import annotations

import json

import pytest

from judge.browser import mirror as M
from judge.cli import build_parser, main
from judge.libs import verify


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory):
    """A short animation task (a CSS slide, 1 s at 10 fps), recorded with `judge tasks record`."""
    assert not verify(), "the library cache is not synced (run `make setup` or `judge libs sync`)"
    root = tmp_path_factory.mktemp("libs-cli")
    page = root / "ref.html"
    page.write_text("<style>body{margin:0}#a{width:50px;height:50px;background:#06c;animation:m 1s linear both}"
                    "@keyframes m{to{transform:translateX(150px)}}</style><div id=a></div>")
    assert main(["tasks", "record", "--family", "animation", "--page", str(page), "--out", str(root / "task"),
                 "--duration", "1", "--fps", "10", "--size", "320x240"]) == 0
    return root / "task"


def test_library_flag_on_score_replay_evaluate():
    parser = build_parser()
    for argv in (["score", "T", "P.html"], ["replay", "T", "--page", "P.html", "--out", "O"],
                 ["evaluate", "T", "--model", "reference"]):
        assert parser.parse_args(argv).libraries == "mirror"
        assert parser.parse_args(argv + ["--libraries", "off"]).libraries == "off"
        with pytest.raises(SystemExit):
            parser.parse_args(argv + ["--libraries", "cdn"])


def test_judge_score_text_shows_blocked_requests_and_page_errors(task_dir, tmp_path, capsys):
    page = tmp_path / "page.html"
    page.write_text('<div id=a style="width:50px;height:50px;background:#06c"></div>'
                    '<script src="https://cdnjs.cloudflare.com/ajax/libs/gsap/3.12.4/gsap.min.js"></script>'
                    '<link rel=stylesheet href="https://cdn.jsdelivr.net/npm/animate.css@4.1.1/animate.min.css">'
                    '<script>gsap.to("#a", {x: 150, duration: 1, ease: "none"})</script>')
    capsys.readouterr()
    assert main(["score", str(task_dir), str(page), "--embedder", "classic", "--tracker", "opencv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "  libraries served (mirror): animate.css@4.1.1 exact"
    assert out[2] == ("  1 request blocked: cloudflare: gsap 3.12.4 not mirrored (mirrored: 3.12.5, 3.12.2; "
                      "--libraries nearest would serve 3.12.5)")
    assert out[3] == "  page error: gsap is not defined"
    assert main(["score", str(task_dir), str(page), "--embedder", "classic", "--tracker", "opencv",
                 "--libraries", "nearest", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["library_mode"] == "nearest" and row["library_lock"] == M.lock().sha256
    assert {s["package"]: s["match"] for s in row["libraries"]} == {"gsap@3.12.5": "substituted", "animate.css@4.1.1": "exact"}
    assert row["blocked_requests"] == [] and row["temporal"] > 0.5
