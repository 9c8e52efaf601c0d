"""Content-addressed completion cache (agents/cache.py) over recorded exchanges."""
from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest

from agents.cache import (
    ResponseCache,
    cache_key,
    cached_complete,
    default_cache_dir,
    prompt_sha256,
)
from agents.providers import (
    CostMeter,
    GenerationConfig,
    ImagePart,
    Message,
    VideoPart,
    get_model,
)
from tests.helpers.http_replay import PROVIDERS, Replay

MSGS = [Message.system("You write HTML."), Message.user("Make a page.", ImagePart(b"\x89PNG-one"))]


def model_for(provider, replay, monkeypatch, **kw):
    monkeypatch.setenv(PROVIDERS[provider]["env"], "sk-test")
    return get_model(PROVIDERS[provider]["spec"], http_client=replay.client(), **kw)


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_second_identical_call_makes_no_request_and_costs_nothing(provider, clean_env, tmp_path):
    replay = Replay(f"{provider}_success")  # one recorded exchange: a second request would be flagged
    cache, meter = ResponseCache(tmp_path / "c"), CostMeter()
    model = model_for(provider, replay, clean_env)
    first = asyncio.run(cached_complete(model, MSGS, GenerationConfig(), cache, meter))
    again = get_model(PROVIDERS[provider]["spec"], http_client=replay.client())  # a fresh instance
    second = asyncio.run(cached_complete(again, MSGS, GenerationConfig(), cache, meter))
    replay.check(1)
    assert not first.cached and first.cost_usd > 0
    assert second.cached and second.cost_usd == 0.0 and second.text == first.text
    assert (second.input_tokens, second.output_tokens) == (first.input_tokens, first.output_tokens)
    assert meter.calls == 1 and meter.cached_calls == 1
    assert meter.spent_usd == pytest.approx(first.cost_usd) and meter.saved_usd == pytest.approx(first.cost_usd)
    assert len(cache) == 1


@pytest.mark.parametrize("change", [
    {"temperature": 0.7}, {"seed": 1}, {"max_tokens": 1000}, {"top_p": 0.9}, {"native_video": False},
    {"extra_body": {"reasoning_effort": "low"}},
])
def test_a_changed_generation_parameter_misses(change, clean_env, tmp_path):
    replay = Replay("openai_success", "openai_success")
    cache = ResponseCache(tmp_path)
    model = model_for("openai", replay, clean_env)
    asyncio.run(cached_complete(model, MSGS, GenerationConfig(), cache))
    second = asyncio.run(cached_complete(model, MSGS, dataclasses.replace(GenerationConfig(), **change), cache))
    replay.check(2)
    assert not second.cached and len(cache) == 2


def test_changed_messages_model_or_scope_miss(clean_env, tmp_path):
    base = GenerationConfig()
    m = get_model("openai/gpt-4o")
    key = cache_key(m, MSGS, base)
    other_image = [MSGS[0], Message.user("Make a page.", ImagePart(b"\x89PNG-two"))]
    other_text = [MSGS[0], Message.user("Make a page!", ImagePart(b"\x89PNG-one"))]
    assert cache_key(m, other_image, base) != key
    assert cache_key(m, other_text, base) != key
    assert cache_key(get_model("openai/gpt-4o-mini"), MSGS, base) != key
    assert cache_key(get_model("google/gpt-4o"), MSGS, base) != key
    assert cache_key(m, MSGS, base, scope="server-b") != key
    v1 = VideoPart(b"mp4", (b"f1", b"f2"), (0.0, 0.5), 2.0)
    v2 = VideoPart(b"mp4", (b"f1", b"f3"), (0.0, 0.5), 2.0)
    assert cache_key(m, [Message.user(v1)], base) != cache_key(m, [Message.user(v2)], base)


def test_transport_settings_do_not_change_the_key(clean_env, tmp_path):
    base = GenerationConfig()
    plain = get_model("openai/gpt-4o")
    tuned = get_model("openai/gpt-4o", base_url="http://127.0.0.1:8000/v1", api_key="other", timeout_s=5,
                      max_attempts=9, max_concurrency=1, base_delay_s=0.1)
    assert cache_key(plain, MSGS, base) == cache_key(tuned, MSGS, base)
    # and a differently configured model really is served from the cache
    replay = Replay("openai_success")
    cache = ResponseCache(tmp_path)
    asyncio.run(cached_complete(model_for("openai", replay, clean_env), MSGS, base, cache))
    other = get_model("openai/gpt-4o", base_url="http://127.0.0.1:9/v1", max_attempts=1, timeout_s=1,
                      http_client=replay.client())
    hit = asyncio.run(cached_complete(other, MSGS, base, cache))
    replay.check(1)
    assert hit.cached


@pytest.mark.parametrize("fixture,provider", [("openai_refusal", "openai"), ("anthropic_refusal", "anthropic"),
                                              ("google_safety", "google")])
def test_refusals_and_filtered_outputs_are_not_cached(fixture, provider, clean_env, tmp_path):
    replay = Replay(fixture, fixture)
    cache = ResponseCache(tmp_path)
    model = model_for(provider, replay, clean_env)
    first = asyncio.run(cached_complete(model, MSGS, GenerationConfig(), cache))
    second = asyncio.run(cached_complete(model, MSGS, GenerationConfig(), cache))
    replay.check(2)
    assert first.filtered and not second.cached and len(cache) == 0


def test_entries_are_written_atomically_and_corrupt_ones_are_misses(clean_env, tmp_path):
    replay = Replay("openai_success", "openai_success")
    cache = ResponseCache(tmp_path)
    model = model_for("openai", replay, clean_env)
    asyncio.run(cached_complete(model, MSGS, GenerationConfig(), cache))
    key = cache.key(model, MSGS, GenerationConfig())
    path = cache.path_for(key)
    assert path.parent.name == key[:2] and not list(tmp_path.rglob("*.tmp"))
    entry = json.loads(path.read_text())
    assert entry["key"] == key and entry["completion"]["provider"] == "openai"
    path.write_text('{"format": 1, "key": "')  # a torn write from some other tool
    again = asyncio.run(cached_complete(model, MSGS, GenerationConfig(), cache))
    replay.check(2)
    assert not again.cached and json.loads(path.read_text())["key"] == key  # rewritten


def test_read_and_write_switches(clean_env, tmp_path):
    replay = Replay("openai_success", "openai_success", "openai_success")
    model = model_for("openai", replay, clean_env)
    asyncio.run(cached_complete(model, MSGS, GenerationConfig(), ResponseCache(tmp_path, write=False)))
    assert len(ResponseCache(tmp_path)) == 0  # write=False stored nothing
    asyncio.run(cached_complete(model, MSGS, GenerationConfig(), ResponseCache(tmp_path)))  # miss, stored
    refreshed = asyncio.run(cached_complete(model, MSGS, GenerationConfig(), ResponseCache(tmp_path, read=False)))
    replay.check(3)  # read=False asked the API again despite the stored entry
    assert not refreshed.cached and len(ResponseCache(tmp_path)) == 1


def test_default_directory_honours_env(clean_env, tmp_path):
    # $WEBJUDGE_CACHE_DIR is the root of every cache (judge.files.cache_dir): model responses under llm/
    clean_env.setenv("WEBJUDGE_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here" / "llm" and ResponseCache().directory == tmp_path / "here" / "llm"
    clean_env.delenv("WEBJUDGE_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "webjudge" / "llm"


def test_prompt_hash_covers_messages_only():
    assert prompt_sha256(MSGS) == prompt_sha256(list(MSGS))
    assert prompt_sha256(MSGS) != prompt_sha256(MSGS[1:])
    assert len(prompt_sha256(MSGS)) == 64
