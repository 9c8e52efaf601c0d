"""VFS pieces: Levenshtein / OCR text similarity (IWR-Bench formula), Tesseract, embedding
similarity, per-checkpoint LFS/HFS/VFS and the aggregate (HFS only when every checkpoint
has a rubric; unreached checkpoints score 0)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from metrics.embedders import get_embedder
from metrics.visual import (
    CheckpointScore,
    aggregate,
    embedding_similarity,
    levenshtein,
    ocr,
    score_pair,
    tesseract_version,
    text_similarity,
    unreached,
)


def slow_levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_levenshtein_matches_the_textbook_dp():
    rng = np.random.default_rng(1)
    for _ in range(300):
        a = "".join(rng.choice(list("abcé "), rng.integers(0, 15)))
        b = "".join(rng.choice(list("abcé "), rng.integers(0, 15)))
        assert levenshtein(a, b) == slow_levenshtein(a, b), (a, b)
    assert levenshtein("kitten", "sitting") == 3


def test_text_similarity_formula():
    assert text_similarity("", "") == 1.0
    assert text_similarity("abc", "") == 0.0
    assert text_similarity("Hello  World", "hello world") == 1.0      # lower-cased, spaces collapsed
    assert text_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)


def page(text: str, colour=(255, 255, 255)) -> np.ndarray:
    img = np.full((300, 600, 3), colour, np.uint8)
    for i, line in enumerate(text.split("\n")):
        cv2.putText(img, line, (20, 60 + 50 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2, cv2.LINE_AA)
    return img


def png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))[1].tobytes()


def test_tesseract_reads_rendered_text():
    assert tesseract_version().startswith("tesseract ")
    text = ocr(png(page("Shopping list\nAdd item")))
    assert "shopping list" in text.lower() and "add" in text.lower()
    assert ocr(png(page(""))).strip() == ""


def test_score_pair_same_vs_different():
    emb = get_embedder("classic")
    a, b, c = page("Shopping list\nAdd item"), page("Shopping list\nAdd item"), page("Weather today\nSunny", (30, 30, 60))
    same = score_pair("initial", None, png(a), png(b), a, b, emb)
    other = score_pair("initial", None, png(a), png(c), a, c, emb)
    assert same.ocr == 1.0 and same.emb > 0.999 and same.vfs == pytest.approx(same.lfs) and same.hfs is None
    assert other.ocr < 0.5 and other.emb < same.emb and other.vfs < 0.7
    assert 0.0 <= embedding_similarity(emb, a, np.zeros_like(a)) <= 1.0


def test_aggregate_uses_hfs_only_when_every_checkpoint_has_a_rubric():
    s1 = CheckpointScore("initial", None, True, ocr=0.8, emb=0.6, rubric=90).finish()
    s2 = CheckpointScore("step_2", 2, True, ocr=1.0, emb=1.0, rubric=50).finish()
    assert s1.lfs == pytest.approx(0.7) and s1.hfs == pytest.approx(0.9) and s1.vfs == pytest.approx(0.8)
    r = aggregate([s1, s2])
    assert r.hfs_used and r.vfs == pytest.approx((0.8 + 0.75) / 2) and r.hfs == pytest.approx(0.7)
    s3 = CheckpointScore("step_4", 4, True, ocr=0.5, emb=0.5).finish()
    r = aggregate([CheckpointScore("a", None, True, ocr=0.8, emb=0.6, rubric=90).finish(), s3])
    assert not r.hfs_used and r.hfs is None and r.vfs == pytest.approx((0.7 + 0.5) / 2)


def test_unreached_checkpoints_score_zero_and_missing_references_are_listed():
    u = unreached("step_3", 3, with_rubric=True)
    assert (u.reached, u.ocr, u.emb, u.rubric, u.vfs) == (False, 0.0, 0.0, 0.0, 0.0)
    r = aggregate([CheckpointScore("initial", None, True, ocr=1, emb=1).finish(), unreached("step_3", 3, False)],
                  missing_reference=["step_5"])
    assert r.vfs == pytest.approx(0.5) and r.missing_reference == ["step_5"]
    assert aggregate([], ["initial"]).vfs is None
