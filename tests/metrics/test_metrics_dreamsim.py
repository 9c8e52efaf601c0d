"""DreamSim backend loaded through dreamsim's own loader from a cache dir we write.

The real weights are a release download; here we write *correctly shaped random*
weights for the single-branch ``open_clip_vitb32`` variant in the exact files
dreamsim's loader reads:

* ``open_clip_vitb32_pretrain.pth.tar``: ``{"state_dict": ...}`` of dreamsim's
  own ``vit_base(patch_size=32)`` with ``pos_drop`` replaced by a LayerNorm
  (what ``load_open_clip_as_dino`` rebuilds) plus the ``proj`` (768x512) matrix.
  No open_clip model / pretrained tag is needed: dreamsim re-implements the
  open_clip ViT as a DINO-style ViT, so nothing is downloaded.
* ``open_clip_vitb32_single_lora/``: a peft LoRA adapter (``adapter_config.json``
  + ``adapter_model.safetensors``) saved from dreamsim's ``PerceptualModel``.

The numbers are meaningless; the test checks the plumbing: availability,
missing-file reporting, loading with no network, shapes, unique-frame reuse,
identical frames -> distance ~0, different frames -> distance > 0.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("dreamsim")

from metrics.embedders import embedder_status, get_embedder  # noqa: E402
from metrics.embedders.base import BackendUnavailable, cosine_distance  # noqa: E402
from metrics.embedders.dreamsim import DreamSimEmbedder, availability  # noqa: E402


def _write_fake_cache(root):
    from dreamsim.config import dreamsim_args
    from dreamsim.feature_extraction.vision_transformer import vit_base
    from dreamsim.model import PerceptualModel
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    vit = vit_base(patch_size=32)
    vit.pos_drop = torch.nn.LayerNorm(vit.embed_dim)
    sd = {k: torch.randn_like(v) * 0.02 if v.ndim > 1 else v.clone() for k, v in vit.state_dict().items()}
    sd["proj"] = torch.randn(768, 512) * 0.03
    torch.save({"state_dict": sd}, root / "open_clip_vitb32_pretrain.pth.tar")

    cfg = dreamsim_args["model_config"]["open_clip_vitb32"]
    model = PerceptualModel(**cfg, device="cpu", load_dir=str(root), normalize_embeds=True)
    lora = LoraConfig(r=16, lora_alpha=0.5, lora_dropout=0.3, bias="none", target_modules=["qkv"])
    peft_model = get_peft_model(model, lora)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_" in name:
                p.normal_(0, 0.02)
    peft_model.save_pretrained(str(root / "open_clip_vitb32_single_lora"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("dreamsim_cache")
    _write_fake_cache(root)
    return root


def _frames():
    rng = np.random.default_rng(0)
    a = np.full((60, 80, 3), 255, np.uint8)
    a[10:40, 10:40] = (200, 30, 30)
    b = np.full((60, 80, 3), 255, np.uint8)
    b[20:50, 30:70] = (20, 40, 220)
    c = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    return np.stack([a, b, a, c, a])


def test_missing_files_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv("WEBJUDGE_DREAMSIM_DIR", raising=False)
    ok, reason = availability(None, "ensemble")
    assert not ok and "WEBJUDGE_DREAMSIM_DIR" in reason
    ok, reason = availability(tmp_path, "ensemble")
    assert not ok
    for name in ("dino_vitb16_pretrain.pth", "clip_vitb16_pretrain.pth.tar", "open_clip_vitb16_pretrain.pth.tar",
                 "ensemble_lora/", "checkpoints/dino_vitbase16_pretrain.pth"):
        assert name in reason
    with pytest.raises(BackendUnavailable, match="open_clip_vitb32_pretrain.pth.tar"):
        DreamSimEmbedder(cache_dir=tmp_path, dreamsim_type="open_clip_vitb32")


def test_lora_dir_without_weights_is_unavailable(cache, tmp_path):
    import shutil

    shutil.copy(cache / "open_clip_vitb32_pretrain.pth.tar", tmp_path)
    (tmp_path / "open_clip_vitb32_single_lora").mkdir()
    shutil.copy(cache / "open_clip_vitb32_single_lora" / "adapter_config.json", tmp_path / "open_clip_vitb32_single_lora")
    ok, reason = availability(tmp_path, "open_clip_vitb32")
    assert not ok and "adapter_model.safetensors" in reason


def test_loads_through_dreamsim_loader_and_embeds(cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ok, reason = availability(cache, "open_clip_vitb32")
    assert ok, reason
    emb = DreamSimEmbedder(cache_dir=cache, dreamsim_type="open_clip_vitb32")
    assert emb.name == "dreamsim:open_clip_vitb32"
    calls = []
    real = emb._embed_batch
    monkeypatch.setattr(emb, "_embed_batch", lambda x: calls.append(len(x)) or real(x))
    frames = _frames()
    e = emb.embed(frames)
    assert e.shape == (5, 512) and e.dtype == np.float32
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert sum(calls) == 3  # frames 0, 2 and 4 are identical: embedded once
    d = cosine_distance(e, e)
    assert d[0, 2] < 1e-5 and d[0, 4] < 1e-5
    assert d[0, 1] > 1e-3 and d[0, 3] > 1e-3 and d[1, 3] > 1e-3


def test_registry_picks_dreamsim_when_weights_exist(cache, monkeypatch):
    monkeypatch.setenv("WEBJUDGE_DREAMSIM_DIR", str(cache))
    monkeypatch.setenv("WEBJUDGE_DREAMSIM_TYPE", "open_clip_vitb32")
    assert get_embedder("auto").name == "dreamsim:open_clip_vitb32"
    status = {name: (ok, why) for name, ok, why in embedder_status()}
    assert status["classic-v1"][0] is True
    assert status["dreamsim:open_clip_vitb32"][0] is True
    monkeypatch.setenv("WEBJUDGE_DREAMSIM_DIR", str(cache / "nope"))
    assert get_embedder("auto").name == "classic-v1"
    with pytest.raises(BackendUnavailable):
        get_embedder("dreamsim")


def test_score_animation_with_dreamsim_backend(cache):
    """End to end: crop views, frame stride and the reference cache go through the DreamSim backend."""
    from metrics.animation import prepare_video, score_animation
    from metrics.trackers import OpenCVTracker

    emb = DreamSimEmbedder(cache_dir=cache, dreamsim_type="open_clip_vitb32")
    t_len = 30
    frames = np.full((t_len, 120, 160, 3), 255, np.uint8)
    for t in range(t_len):
        frames[t, 40:70, 10 + 3 * t : 40 + 3 * t] = (200, 30, 30)
    ref = prepare_video(frames, emb, OpenCVTracker(), stride=5)
    assert ref.appearance.embeddings.shape == (6, 512)
    assert ref.appearance.frame_indices.tolist() == [0, 5, 10, 15, 20, 25]
    same = score_animation(None, frames.copy(), embedder=emb, tracker=OpenCVTracker(), ref_cache=ref, stride=5)
    assert same["backends"]["embedder"] == "dreamsim:open_clip_vitb32"
    assert same["appearance"] == pytest.approx(1.0, abs=1e-5)
    noise = np.random.default_rng(0).integers(0, 255, frames.shape, dtype=np.uint8)
    other = score_animation(None, noise, embedder=emb, tracker=OpenCVTracker(), ref_cache=ref, stride=5)
    assert other["appearance"] < same["appearance"]
