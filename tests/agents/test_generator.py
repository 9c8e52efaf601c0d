"""Generation: prompts, frame sampling, contact sheets, extraction, offline baselines, generate()."""
from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
import re

import httpx
import numpy as np
import pytest
from PIL import Image

from agents.cache import ResponseCache
from agents.contact_sheet import contact_sheets, make_contact_sheet, scan_assets
from agents.generator import (
    GenerateOptions,
    build_messages,
    extract_html,
    generate,
    strip_iframes,
)
from agents.providers import (
    AuthError,
    BudgetExceeded,
    CostMeter,
    ImagePart,
    Price,
    TextPart,
    VideoPart,
    get_model,
)
from agents.providers.offline import BLANK_PAGE
from judge.tasks import TaskSpec, load_task, save_spec
from judge.video import write_video
from tests.helpers.http_replay import Replay

W, H = 96, 64


def frame(i: int, w: int = W, h: int = H) -> np.ndarray:
    """A frame whose pixels encode its index (distinct per frame, exact under lossless video)."""
    f = np.zeros((h, w, 3), np.uint8)
    f[..., 0], f[..., 1], f[..., 2] = i % 256, (i * 7) % 256, 255 - i % 256
    return f


def make_task(root, family="animation", seconds=3.0, fps=30, metadata=None, prompt=None, assets=None,
              w=W, h=H, reference=None):
    folder = root / f"{family}-task"
    n = int(round(seconds * fps))
    write_video(folder / "video.mp4", (frame(i, w, h) for i in range(n)), fps)
    spec = {"id": f"{family}-task", "family": family, "viewport": f"{w}x{h}", "fps": fps, "duration_s": seconds,
            "metadata": metadata or {}, "prompt": prompt}
    if family == "interactive":
        spec["actions"] = [{"type": "click", "description": "click the Subscribe button"}]
    if assets is not None:
        spec["assets_dir"] = "assets"
        for name, content in assets.items():
            p = folder / "assets" / name
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Image.Image):
                content.save(p)
            else:
                p.write_bytes(content)
    if reference is not None:
        spec["reference_page"] = "reference.html"
        (folder / "reference.html").write_text(reference, encoding="utf-8")
    save_spec(TaskSpec.model_validate({k: v for k, v in spec.items() if v is not None}), folder)
    return load_task(folder)


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def video_of(messages) -> VideoPart:
    return next(p for p in messages[1].parts if isinstance(p, VideoPart))


ASSETS = {"logo.png": Image.new("RGBA", (120, 40), (200, 30, 30, 255)),
          "hero.jpg": Image.new("RGB", (300, 200), (20, 120, 220)),
          "icons/cart.png": Image.new("RGBA", (24, 24), (0, 0, 0, 0)),
          "b.gif": Image.new("RGB", (10, 10), (0, 200, 0)),
          "c.webp": Image.new("RGB", (50, 80), (250, 200, 0)),
          "fonts/brand.woff2": b"wOF2\x00\x01fake", "data.json": b'{"items": []}', "logo.svg": b"<svg/>"}


# ---------------------------------------------------------------- prompts


@pytest.mark.parametrize("loop,expected", [(True, "loops continuously"), (False, "plays once"),
                                           (None, "judge from the recording whether")])
def test_animation_prompt_states_the_task_facts(tmp_path, loop, expected):
    task = make_task(tmp_path, metadata={} if loop is None else {"loop": loop})
    system, user = build_messages(task)
    assert system.role == "system" and user.role == "user"
    for phrase in ("self-contained", "<style>", "<script>", "no CDNs", "```html", "starts by itself"):
        assert phrase in system.text
    request = user.parts[0].text
    assert f"Viewport: {W}x{H} CSS pixels" in request and "Duration: 3 s" in request
    assert expected in request and "6 frames sampled at 2 frames per second" in request
    assert not any(isinstance(p, ImagePart) for p in user.parts)  # no contact sheet for animations


def test_interactive_prompt_lists_assets_and_adds_contact_sheet(tmp_path):
    task = make_task(tmp_path, family="interactive", seconds=4, fps=10, assets=ASSETS)
    system, user = build_messages(task)
    assert "index.html" in system.text and "assets/<file name>" in system.text
    assert "Behaviour" in system.text and "no CDNs" in system.text
    request = user.parts[0].text
    assert "assets/logo.png (image, 120x40 px)" in request and "assets/icons/cart.png (image, 24x24 px)" in request
    for other in ("assets/fonts/brand.woff2", "assets/data.json", "assets/logo.svg"):
        assert f"- {other}" in request
    assert "1 contact sheet below" in request and "4 frames" in request
    kinds = [type(p).__name__ for p in user.parts]
    assert kinds == ["TextPart", "ImagePart", "VideoPart"]  # text, contact sheet, then the video
    assert decode_png(user.parts[1].data).shape == (2 * (180 + 24), 4 * 240, 3)


@pytest.mark.parametrize("family", ["animation", "interactive"])
def test_prompts_ask_nothing_judge_specific(tmp_path, family):
    task = make_task(tmp_path, family=family)
    text = " ".join(p.text for m in build_messages(task) for p in m.parts if isinstance(p, TextPart)).lower()
    assert not re.search(r"\bclass(es|name)?\b|\bids?\b|data-|interact\d|selector", text)
    assert ("assets: none are provided" in text) == (family == "interactive")


def test_task_prompt_replaces_the_family_prompt_but_keeps_the_facts(tmp_path):
    task = make_task(tmp_path, prompt="Make it in pure SVG.")
    system, user = build_messages(task)
    assert system.text == "Make it in pure SVG." and f"{W}x{H}" in user.parts[0].text


# ---------------------------------------------------------------- frames


def test_animation_samples_2fps_of_a_3s_video(tmp_path):
    task = make_task(tmp_path, seconds=3.0, fps=30)
    video = video_of(build_messages(task))
    assert video.times_s == (0.0, 0.5, 1.0, 1.5, 2.0, 2.5) and video.fps == 2.0
    for t, png in zip(video.times_s, video.frames):
        assert np.array_equal(decode_png(png), frame(round(t * 30)))
    assert video.data == task.video_path.read_bytes() and video.mime_type == "video/mp4"


def test_interactive_samples_1fps_capped_at_64_uniformly(tmp_path):
    task = make_task(tmp_path, family="interactive", seconds=100.0, fps=2, w=64, h=64)
    video = video_of(build_messages(task))
    assert len(video.frames) == 64 and video.times_s[0] == 0.0 and video.times_s[-1] == 99.0
    steps = np.diff(video.times_s)
    assert set(steps) <= {1.0, 2.0} and abs(video.fps - 0.64) < 1e-9
    for t, png in zip(video.times_s, video.frames):
        assert np.array_equal(decode_png(png), frame(round(t * 2), 64, 64))
    short = make_task(tmp_path / "short", family="interactive", seconds=10.0, fps=2, w=64, h=64)
    assert len(video_of(build_messages(short)).frames) == 10  # under the cap: 1 fps, no thinning


def test_sampling_is_configurable(tmp_path):
    task = make_task(tmp_path, family="interactive", seconds=100.0, fps=2, w=64, h=64)
    assert len(video_of(build_messages(task, GenerateOptions(interactive_max_frames=None))).frames) == 100
    assert len(video_of(build_messages(task, GenerateOptions(interactive_fps=0.25))).frames) == 25
    anim = make_task(tmp_path / "a", seconds=3.0, fps=30)
    assert len(video_of(build_messages(anim, GenerateOptions(animation_fps=4))).frames) == 12
    small = video_of(build_messages(anim, GenerateOptions(max_image_side=48)))
    assert decode_png(small.frames[0]).shape == (32, 48, 3)


# ---------------------------------------------------------------- contact sheet


def test_contact_sheet_grid_labels_and_non_images(tmp_path):
    task = make_task(tmp_path, family="interactive", assets=ASSETS)
    sheets, images, others = contact_sheets(task.assets_path)
    assert [a.name for a in images] == ["b.gif", "c.webp", "hero.jpg", "icons/cart.png", "logo.png"]
    assert others == ["data.json", "fonts/brand.woff2", "logo.svg"]
    (sheet,) = sheets
    assert (sheet.columns, sheet.rows) == (4, 2) and sheet.size == (960, 408)
    pixels = decode_png(sheet.png)
    assert pixels.shape == (408, 960, 3)
    strips = []
    for i in range(8):
        left, top, right, bottom = sheet.label_box(i)
        strip = pixels[top + 2:bottom - 2, left + 2:right - 2]
        strips.append(strip)
        has_text = (strip.min(axis=2) < 100).any()
        assert has_text == (i < 5), i  # a name under every used cell, nothing under empty ones
    assert not np.array_equal(strips[0], strips[1])  # different names, different labels
    cy, cx = 180 // 2, 2 * 240 + 240 // 2  # centre of cell 2: hero.jpg
    assert np.abs(pixels[cy, cx].astype(int) - (20, 120, 220)).max() <= 3  # JPEG
    assert tuple(pixels[180 // 2, 120]) == (0, 200, 0)  # cell 0: b.gif, upscaled never, centred


def test_contact_sheets_split_and_shrink(tmp_path):
    imgs, _ = scan_assets(make_task(tmp_path, family="interactive", assets=ASSETS).assets_path)
    sheets, _, _ = contact_sheets(imgs[0].path.parent, per_sheet=2)
    assert [len(s.names) for s in sheets] == [2, 2, 1] and sheets[2].size == (240, 204)
    big = tmp_path / "big.png"
    Image.new("RGB", (2000, 500), (9, 9, 9)).save(big)
    sheet = make_contact_sheet([a for a in scan_assets(tmp_path)[0] if a.name == "big.png"])
    pixels = decode_png(sheet.png)
    assert (pixels[:180, :240] == 9).all(axis=2).sum() <= (240 - 16) * (240 - 16) / 4  # shrunk into the cell
    assert contact_sheets(None) == ([], [], [])


# ---------------------------------------------------------------- extraction

PAGE = "<!DOCTYPE html>\n<html><body><p>hi</p></body></html>"


@pytest.mark.parametrize("answer,expected", [
    (f"Sure!\n```css\nbody{{}}\n```\n```html\n{PAGE}\n```\nmore", PAGE),          # html block wins
    (f"```HTML\n{PAGE}\n```", PAGE),                                              # case-insensitive
    (f"```\n{PAGE}\n```\n```html\n<p>x</p>\n```", "<p>x</p>"),                    # first *html* block
    (f"Here:\n```\n{PAGE}\n```", PAGE),                                           # else first fenced block
    ("```css\nbody{color:red}\n```", "body{color:red}"),
    (PAGE, PAGE),                                                                 # else raw text
    (f"```html\n{PAGE}\n<div>cut off by max_tok", f"{PAGE}\n<div>cut off by max_tok"),  # unclosed fence
])
def test_extraction_rules(answer, expected):
    assert extract_html(answer) == expected


def test_iframes_are_stripped():
    html = ('<body><iframe src="https://x.test">fallback</iframe><p>keep</p>'
            '<IFRAME src="a"></IFRAME><iframe src="unclosed"></body>')
    assert strip_iframes(html) == "<body><p>keep</p></body>"
    assert "iframe" not in extract_html(f"```html\n{html}\n```").lower()


@pytest.mark.parametrize("answer", ["", "   \n", "```html\n```", "```html\n<iframe src='x'></iframe>\n```"])
def test_empty_extraction_is_a_generation_failure(tmp_path, clean_env, answer):
    task = make_task(tmp_path)
    gen = asyncio.run(generate(task, answering(answer), None, None, None))
    assert gen.html is None and gen.error_kind == "model" and "empty extraction" in gen.error


# ---------------------------------------------------------------- offline baselines


def test_reference_baseline_returns_the_page_unchanged(tmp_path):
    ref = '<html><body><img src="assets/logo.png"><script src="assets/app.js"></script></body></html>'
    task = make_task(tmp_path, family="interactive", reference=ref, assets={"logo.png": ASSETS["logo.png"]})
    gen = asyncio.run(generate(task, "reference"))
    assert gen.html == ref and gen.error is None and gen.cost_usd == 0.0 and gen.model == "reference"
    no_ref = asyncio.run(generate(make_task(tmp_path / "n"), "reference"))
    assert no_ref.html is None and no_ref.error_kind == "model" and "no reference page" in no_ref.error


def test_blank_baseline(tmp_path):
    gen = asyncio.run(generate(make_task(tmp_path), "blank"))
    assert gen.html == BLANK_PAGE and "background:#ffffff" in gen.html
    assert re.search(r"<body>\s*</body>", gen.html)


def test_first_frame_baseline_shows_the_first_frame_at_viewport_size(tmp_path):
    task = make_task(tmp_path, seconds=1.0, fps=10)
    gen = asyncio.run(generate(task, "first-frame"))
    img = re.search(r'<img[^>]*width="(\d+)" height="(\d+)" src="data:image/png;base64,([^"]+)"', gen.html)
    assert img and (int(img.group(1)), int(img.group(2))) == (W, H)
    assert f"width:{W}px;height:{H}px" in gen.html
    assert np.array_equal(decode_png(base64.b64decode(img.group(3))), frame(0))


def test_replay_baseline_hit_and_miss(tmp_path):
    pages = tmp_path / "pages"
    (pages / "animation-task").mkdir(parents=True)
    (pages / "animation-task" / "index.html").write_text("<p>pre-generated</p>", encoding="utf-8")
    task = make_task(tmp_path)
    hit = asyncio.run(generate(task, f"replay:{pages}"))
    assert hit.html == "<p>pre-generated</p>" and hit.model == f"replay:{pages}"
    other = make_task(tmp_path / "other", family="interactive")
    miss = asyncio.run(generate(other, f"replay:{pages}"))
    assert miss.html is None and miss.error_kind == "model" and "interactive-task" in miss.error


# ---------------------------------------------------------------- generate() with real adapters


def answering(text: str, requests: list | None = None):
    """An OpenAI model whose every answer is `text` (recorded body shape, new content)."""
    body = copy.deepcopy(Replay("openai_success").exchanges[0]["response"]["body"])
    body["choices"][0]["message"]["content"] = text

    def handler(request):
        if requests is not None:
            requests.append(json.loads(request.content))
        return httpx.Response(200, json=body)

    return get_model("openai/gpt-4o", api_key="sk-test",
                     http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


def test_generate_animation_with_openai_then_from_cache(tmp_path, clean_env):
    clean_env.setenv("OPENAI_API_KEY", "sk-test")
    replay = Replay("openai_success")
    task = make_task(tmp_path)
    cache, meter = ResponseCache(tmp_path / "cache"), CostMeter(max_cost=5.0)
    model = get_model("openai/gpt-4o", http_client=replay.client())
    gen = asyncio.run(generate(task, model, None, cache, meter))
    assert gen.ok and gen.html.startswith("<!DOCTYPE html>") and gen.html.endswith("</html>")
    assert gen.n_frames == 6 and gen.input_tokens == 9120 and gen.cost_usd > 0 and not gen.cached
    assert re.fullmatch(r"[0-9a-f]{64}", gen.prompt_sha256) and gen.stop_reason == "stop"
    body = replay.body()
    images = [p for p in body["messages"][1]["content"] if p["type"] == "image_url"]
    assert len(images) == 6 and body["temperature"] == 0 and body["model"] == "gpt-4o"
    again = asyncio.run(generate(task, get_model("openai/gpt-4o", http_client=replay.client()), None, cache, meter))
    replay.check(1)
    assert again.cached and again.cost_usd == 0.0 and again.html == gen.html
    assert again.prompt_sha256 == gen.prompt_sha256 and meter.saved_usd == pytest.approx(gen.cost_usd)


def test_generate_interactive_with_gemini_sends_video_and_contact_sheet(tmp_path, clean_env):
    clean_env.setenv("GOOGLE_API_KEY", "g-key")
    replay = Replay("google_success")
    task = make_task(tmp_path, family="interactive", seconds=4, fps=10, assets=ASSETS)
    gen = asyncio.run(generate(task, "google/gemini-2.5-flash", http_client=replay.client()))
    replay.check(1)
    assert gen.ok and gen.output_tokens == 498 + 1111
    parts = replay.body()["contents"][0]["parts"]
    mimes = [(p.get("inlineData") or {}).get("mime_type") or (p.get("inlineData") or {}).get("mimeType")
             for p in parts]
    assert mimes == [None, "image/png", "video/mp4"]
    assert parts[2]["videoMetadata"]["fps"] == 1.0
    assert base64.urlsafe_b64decode(parts[2]["inlineData"]["data"]) == task.video_path.read_bytes()
    assert "assets/logo.png" in parts[0]["text"]


def test_generate_strips_iframes_from_the_answer(tmp_path):
    gen = asyncio.run(generate(make_task(tmp_path),
                               answering('```html\n<p>a</p><iframe src="https://e.test"></iframe>\n```')))
    assert gen.html == "<p>a</p>"


@pytest.mark.parametrize("fixture,kind,words", [
    ("openai_refusal", "model", "declined"),
    ("openai_malformed", "provider", "MalformedResponse"),
])
def test_generate_failure_kinds(tmp_path, clean_env, fixture, kind, words):
    clean_env.setenv("OPENAI_API_KEY", "k")
    gen = asyncio.run(generate(make_task(tmp_path), "openai/gpt-4o", http_client=Replay(fixture).client()))
    assert gen.html is None and gen.error_kind == kind and words in gen.error


def test_generate_reports_exhausted_retries_as_provider_failure(tmp_path, clean_env):
    clean_env.setenv("ANTHROPIC_API_KEY", "k")
    replay = Replay("anthropic_server_error_then_success")
    replay.exchanges = replay.exchanges[:1] * 2
    sleeps = []

    async def sleep(s):
        sleeps.append(s)

    gen = asyncio.run(generate(make_task(tmp_path), "anthropic/claude-haiku-4-5-20251001",
                               http_client=replay.client(), max_attempts=2, sleep=sleep))
    replay.check(2)
    assert gen.error_kind == "provider" and "after 2 attempt(s)" in gen.error and len(sleeps) == 1


def test_generate_raises_run_level_errors(tmp_path, clean_env):
    task = make_task(tmp_path)
    with pytest.raises(AuthError, match="OPENAI_API_KEY"):
        asyncio.run(generate(task, "openai/gpt-4o", http_client=Replay("openai_success").client()))
    requests = []
    model = answering(f"```html\n{PAGE}\n```", requests)
    model.price = Price(1000.0, 1000.0)
    meter = CostMeter(max_cost=1.0)
    assert asyncio.run(generate(task, model, None, None, meter)).ok
    with pytest.raises(BudgetExceeded):
        asyncio.run(generate(make_task(tmp_path / "b"), model, None, None, meter))
    assert len(requests) == 1


def test_unreadable_video_is_an_input_failure(tmp_path):
    task = make_task(tmp_path)
    task.video_path.write_bytes(b"not a video")
    gen = asyncio.run(generate(task, answering(PAGE)))
    assert gen.html is None and gen.error_kind == "input"
