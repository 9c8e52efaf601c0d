"""The classic (offline) embedder and the embedder registry."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from metrics.embedders import (
    ClassicEmbedder,
    cosine_distance,
    embedder_status,
    get_embedder,
)
from metrics.embedders.base import Embedder


def _page(shapes, size=(120, 160), bg=(255, 255, 255)):
    img = np.full((*size, 3), bg, np.uint8)
    for kind, colour, (x, y, r) in shapes:
        if kind == "square":
            cv2.rectangle(img, (x - r, y - r), (x + r, y + r), colour, -1)
        else:
            cv2.circle(img, (x, y), r, colour, -1, cv2.LINE_AA)
    return img


RED_SQ = ("square", (220, 30, 30), (50, 60, 20))
BLUE_DISC = ("disc", (30, 60, 220), (110, 60, 22))


@pytest.fixture(scope="module")
def emb():
    return ClassicEmbedder()


def _sim(emb, a, b):
    # one frame per call: a batch is one video and shares one background estimate
    return 1.0 - cosine_distance(emb.embed(a[None]), emb.embed(b[None]))[0, 0]


def test_shape_norm_determinism(emb):
    frames = np.stack([_page([RED_SQ]), _page([BLUE_DISC]), _page([])])
    e = emb.embed(frames)
    assert isinstance(emb, Embedder) and emb.name == "classic-v1"
    assert e.shape == (3, emb.dim) and e.dtype == np.float32
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(e, emb.embed(frames))
    assert emb.embed(frames[:0]).shape == (0, emb.dim)


def test_blank_page_is_not_similar_to_content(emb):
    blank, content = _page([]), _page([RED_SQ, BLUE_DISC])
    assert _sim(emb, blank, blank) == pytest.approx(1.0, abs=1e-5)
    assert _sim(emb, blank, content) < 0.25  # only the background block is shared
    # a dark-mode blank page shares nothing with the white one
    assert _sim(emb, blank, _page([], bg=(20, 20, 30))) < 0.1


def test_similarity_orders_colour_shape_and_layout(emb):
    ref = _page([RED_SQ, BLUE_DISC])
    same = ref.copy()
    moved = _page([("square", (220, 30, 30), (60, 66, 20)), BLUE_DISC])  # small shift
    recoloured = _page([("square", (30, 180, 60), (50, 60, 20)), ("disc", (240, 200, 0), (110, 60, 22))])
    other = _page([("disc", (120, 120, 120), (80, 40, 10))])
    s_same, s_moved, s_recol, s_other = (_sim(emb, ref, x) for x in (same, moved, recoloured, other))
    assert s_same == pytest.approx(1.0, abs=1e-5)
    assert s_same > s_moved > s_recol > s_other
    assert s_moved > 0.8


def test_registry(monkeypatch, tmp_path):
    monkeypatch.setenv("WEBJUDGE_DREAMSIM_DIR", str(tmp_path / "missing"))
    assert get_embedder("classic").name == "classic-v1"
    assert get_embedder("auto").name == "classic-v1"  # no DreamSim weights -> classic
    names = [n for n, _, _ in embedder_status()]
    assert names[0] == "classic-v1" and names[1].startswith("dreamsim:")
    assert embedder_status()[1][1] is False
    with pytest.raises(ValueError):
        get_embedder("nope")
