"""`agents.pairwise` without a browser or a provider: verdict parsing, the screen→field
mapping, the message layout, frame sampling; and `judge.pairwise`'s output-file helpers."""
from __future__ import annotations

import json

import numpy as np
import pytest

from agents.pairwise import (
    GROUPS,
    RUBRICS,
    build_messages,
    encode_png,
    fit_png,
    frame_indices,
    parse_verdict,
    to_field,
)
from agents.providers.base import ImagePart, TextPart
from judge.pairwise import prepare_output, read_rows, unit_key


@pytest.mark.parametrize("text,answer", [
    ("Candidate 1 is closer.\n\nVerdict: 1", "1"),
    ("...\nverdict: 2", "2"),
    ("...\nVERDICT: TIE.", "tie"),
    ("...\n**Verdict:** Candidate 2", "2"),
    ("...\n**Verdict**: candidate 1", "1"),
    ("...\nFinal verdict: Tie", "tie"),
    ("...\nVerdict: `2`", "2"),
    ("...\nVerdict: 1 (better timing)", "1"),
    ("Verdict: 2\nOn reflection the first is better.\nVerdict: 1", "1"),  # the last Verdict line wins
    ("Verdict: 1\n\n  ", "1"),
])
def test_parse_verdict_accepts(text, answer):
    assert parse_verdict(text) == (answer, None)


@pytest.mark.parametrize("text,why", [
    ("Candidate 1 is closer.", "no 'Verdict:' line"),
    ("", "no 'Verdict:' line"),
    (None, "no 'Verdict:' line"),
    ("My verdict is 1", "no 'Verdict:' line"),
    ("Verdict: 1 or 2", "unparseable"),
    ("Verdict: <1|2|tie>", "unparseable"),
    ("Verdict: the first one", "unparseable"),
    ("Verdict: 12", "unparseable"),
    ("Verdict: 3", "unparseable"),
    ("Verdict: 1\nVerdict: unsure", "unparseable"),  # the last line decides; never fall back to an earlier one
    ("Verdict: Candidate 2 is better than candidate 1", "unparseable"),
])
def test_parse_verdict_never_guesses(text, why):
    answer, err = parse_verdict(text)
    assert answer is None and why in err


def test_screen_answer_maps_to_the_winning_field():
    assert [to_field(x, "ab") for x in ("1", "2", "tie", None)] == ["a", "b", "tie", None]
    assert [to_field(x, "ba") for x in ("1", "2", "tie", None)] == ["b", "a", "tie", None]
    with pytest.raises(ValueError):
        to_field("1", "ba ")


def test_messages_label_every_image_and_state_the_rubric():
    ref, c1, c2 = [b"r0", b"r1"], [b"x0", b"x1"], [b"y0", b"y1"]
    for dim in RUBRICS:
        system, user = build_messages(dim, ["t=0.00 s", "t=1.00 s"], ref, c1, c2)
        assert system.role == "system" and "Verdict: tie" in system.text and "random" in system.text
        images = [p.data for p in user.parts if isinstance(p, ImagePart)]
        assert images == ref + c1 + c2
        texts = [p.text for p in user.parts if isinstance(p, TextPart)]
        assert texts[0].startswith(f"Criterion: {dim}.") and RUBRICS[dim] in texts[0]
        for group in GROUPS:
            assert f"{group}, t=1.00 s" in texts
        # each image is preceded by its own label
        for i, p in enumerate(user.parts):
            if isinstance(p, ImagePart):
                assert isinstance(user.parts[i - 1], TextPart) and "t=" in user.parts[i - 1].text
        assert "Verdict: 1" in texts[-1]
    system, user = build_messages("motion", ["after step 1: Click"], [b"r"], [b"x"], [b"y"], kind="checkpoints")
    assert "screenshots taken after the same user actions" in user.parts[0].text
    with pytest.raises(ValueError, match="no rubric"):
        build_messages("speed", ["t"], [b"r"], [b"x"], [b"y"])
    with pytest.raises(ValueError):
        build_messages("overall", ["t", "u"], [b"r"], [b"x"], [b"y"])


def test_frame_indices_are_evenly_spaced_and_include_both_ends():
    assert frame_indices(10, 8) == [0, 1, 3, 4, 5, 6, 8, 9]
    assert frame_indices(150, 8) == [0, 21, 43, 64, 85, 106, 128, 149]
    assert frame_indices(3, 8) == [0, 1, 2]
    assert frame_indices(30, 1) == [0]


def test_images_are_downscaled_to_max_side():
    import io

    from PIL import Image

    frame = np.zeros((300, 400, 3), np.uint8)
    frame[:, :200] = (255, 0, 0)
    small = Image.open(io.BytesIO(encode_png(frame, 100)))
    assert small.size == (100, 75) and small.getpixel((10, 10)) == (255, 0, 0)
    assert Image.open(io.BytesIO(encode_png(frame))).size == (400, 300)
    assert Image.open(io.BytesIO(fit_png(encode_png(frame), 200))).size == (200, 150)


def row(task="t", a="m1", b="m2", dim="overall", order="ab", verdict="a", judge="openai/gpt-4o"):
    return {"task_id": task, "a": a, "b": b, "dimension": dim, "order": order, "verdict": verdict,
            "judge_model": judge, "raw": "Verdict: 1"}


def test_unit_key_orients_pairs_alphabetically():
    assert unit_key(row(a="m2", b="m1", order="ab")) == ("t", "m1", "m2", "overall", "ba", "openai/gpt-4o")
    assert unit_key(row()) == ("t", "m1", "m2", "overall", "ab", "openai/gpt-4o")


def test_prepare_output_drops_failed_rows_being_redone_and_a_torn_last_line(tmp_path):
    out = tmp_path / "pairwise.jsonl"
    rows = [row(), row(order="ba", verdict=None), row(task="other", verdict=None), row(order="ba", judge="x/y")]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"task_id": "t", "a"')
    planned = {unit_key(r) for r in rows[:2]}
    done = prepare_output(out, planned)
    assert done == {unit_key(rows[0]), unit_key(rows[3])}  # another judge's verdict is kept too
    kept, torn = read_rows(out)
    assert kept == [rows[0], rows[2], rows[3]] and not torn  # other units' failures are not ours to drop
    assert out.read_text().endswith("\n")


def test_read_rows_rejects_a_corrupt_middle_line(tmp_path):
    from judge.pairwise import PairwiseInputError

    out = tmp_path / "p.jsonl"
    out.write_text(json.dumps(row()) + "\nnot json\n" + json.dumps(row()) + "\n")
    with pytest.raises(PairwiseInputError, match="row 2: invalid JSON"):
        read_rows(out)
    out.write_text(json.dumps({"task_id": "t"}) + "\n")
    with pytest.raises(PairwiseInputError, match="row 1: not a pairwise row"):
        read_rows(out)


def test_load_run_pages_names_models_like_judge_align(tmp_path):
    from judge.pairwise import PairwiseInputError, load_run_pages

    def run_dir(name, rows, pages, meta=None, torn=""):
        run = tmp_path / name
        for t in pages:
            (run / "pages" / t).mkdir(parents=True)
            (run / "pages" / t / "index.html").write_text("<p>")
        (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + torn)
        if meta:
            (run / "run.json").write_text(json.dumps(meta))
        return run

    r1 = run_dir("r1", [{"task_id": "t1", "model": "old"}, {"task_id": "t1", "model": "m1"}], ["t1", "t2"],
                 {"model": "fallback"}, torn='{"task_id": "t2", "mo')
    pages = load_run_pages([str(r1)])
    # last row per task wins; a task without a row takes run.json's model; the torn last line is ignored
    assert pages == {("m1", "t1"): r1 / "pages/t1/index.html", ("fallback", "t2"): r1 / "pages/t2/index.html"}
    r2 = run_dir("r2", [], ["t1"])
    assert set(load_run_pages([f"named={r2}"])) == {("named", "t1")}
    with pytest.raises(PairwiseInputError, match="give --run NAME="):
        load_run_pages([str(r2)])
    with pytest.raises(PairwiseInputError, match="also in"):
        load_run_pages([str(r1), f"m1={r2}"])
    with pytest.raises(PairwiseInputError, match="run pages not found"):
        load_run_pages([str(tmp_path / "nowhere")])
