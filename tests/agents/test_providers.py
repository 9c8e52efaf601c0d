"""Provider adapters against recorded HTTP exchanges (no network: httpx.MockTransport)."""
from __future__ import annotations

import asyncio
import base64
import io
import json

import httpx
import pytest
from PIL import Image

from agents.providers import (
    AuthError,
    GenerationConfig,
    ImagePart,
    MalformedResponse,
    Message,
    ProviderError,
    RateLimitError,
    UnknownModel,
    VideoPart,
    get_model,
    parse_model_spec,
)
from agents.providers.base import parse_retry_after
from agents.providers.cost import PRICES
from tests.helpers.http_replay import (
    PROVIDERS,
    Replay,
    Sleeps,
    images_sent,  # noqa: F401
)


def png(colour=(255, 0, 0), size=(8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


IMG_A, IMG_B = png((255, 0, 0)), png((0, 0, 255))
VIDEO = VideoPart(data=b"\x00\x00\x00\x18ftypmp42fake-mp4-bytes", frames=(png((1, 1, 1)), png((2, 2, 2)), png((3, 3, 3))),
                  times_s=(0.0, 0.5, 1.0), fps=2.0)


def messages(video: VideoPart | None = None) -> list[Message]:
    parts = ["Reproduce this.", ImagePart(IMG_A), ImagePart(IMG_B)] + ([video] if video else [])
    return [Message.system("You write HTML."), Message.user(*parts)]


def make(provider: str, replay: Replay, monkeypatch, **kw):
    monkeypatch.setenv(PROVIDERS[provider]["env"], "sk-test-key-123")
    sleeps = Sleeps()
    model = get_model(PROVIDERS[provider]["spec"], http_client=replay.client(), sleep=sleeps, **kw)
    return model, sleeps




def model_sent(provider: str, replay: Replay) -> str:
    if provider == "google":
        return replay.requests[0].url.path.rsplit("/", 1)[1].split(":")[0]
    return replay.body()["model"]


def temperature_sent(provider: str, body: dict):
    if provider == "anthropic":  # API version 2026-10-21 rejects sampling parameters
        assert "temperature" not in body and "top_p" not in body
        return 0
    return body["generationConfig"]["temperature"] if provider == "google" else body["temperature"]


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_success_parses_text_usage_cost_and_sends_the_right_body(provider, clean_env):
    replay = Replay(f"{provider}_success")
    model, sleeps = make(provider, replay, clean_env)
    c = asyncio.run(model.complete(messages(), GenerationConfig(temperature=0.0, seed=7, max_tokens=4000)))
    replay.check(1)
    assert sleeps.calls == []
    assert "```html" in c.text and "@keyframes slide" in c.text
    assert c.provider == provider and c.stop_reason == "stop" and not c.cached
    expected_tokens = {"openai": (9120, 412), "anthropic": (11873, 523), "google": (2412, 498 + 1111)}[provider]
    assert (c.input_tokens, c.output_tokens) == expected_tokens
    price = PRICES[{"openai": "openai/gpt-4o", "anthropic": "anthropic/claude-haiku-4-5",
                    "google": "google/gemini-2.5-flash"}[provider]]
    assert c.cost_usd == pytest.approx((expected_tokens[0] * price.input_per_m
                                        + expected_tokens[1] * price.output_per_m) / 1e6)
    body = replay.body()
    assert model_sent(provider, replay) == PROVIDERS[provider]["spec"].split("/", 1)[1]
    assert temperature_sent(provider, body) == 0
    assert images_sent(provider, body) == [IMG_A, IMG_B]
    key_header = replay.requests[0].headers[PROVIDERS[provider]["key_header"]]
    assert "sk-test-key-123" in key_header
    text = json.dumps(body)
    assert "You write HTML." in text and "Reproduce this." in text
    if provider == "openai":
        assert body["seed"] == 7 and body["max_completion_tokens"] == 4000
        assert body["messages"][0] == {"role": "system", "content": "You write HTML."}
    elif provider == "anthropic":
        assert body["system"] == "You write HTML." and body["max_tokens"] == 4000 and "seed" not in body
    else:
        assert body["generationConfig"]["seed"] == 7 and body["generationConfig"]["maxOutputTokens"] == 4000
        assert body["systemInstruction"]["parts"][0]["text"] == "You write HTML."


@pytest.mark.parametrize("provider,wait", [("openai", 2.0), ("anthropic", 3.0), ("google", 7.0)])
def test_rate_limit_is_retried_after_the_servers_delay(provider, wait, clean_env):
    replay = Replay(f"{provider}_rate_limit_then_success")
    model, sleeps = make(provider, replay, clean_env)
    c = asyncio.run(model.complete(messages()))
    replay.check(2)
    assert sleeps.calls == [wait]  # Retry-After header (Google: RetryInfo.retryDelay in the body)
    assert replay.requests[0].content == replay.requests[1].content
    assert "@keyframes" in c.text


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_rate_limit_exhausts_max_attempts(provider, clean_env):
    replay = Replay(f"{provider}_rate_limit_then_success")
    model, sleeps = make(provider, replay, clean_env, max_attempts=1)
    with pytest.raises(RateLimitError) as err:
        asyncio.run(model.complete(messages()))
    replay.check(1)
    assert sleeps.calls == [] and err.value.attempts == 1 and err.value.status == 429


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_401_is_an_auth_error_naming_the_env_var_and_not_retried(provider, clean_env):
    replay = Replay(f"{provider}_auth_error")
    model, sleeps = make(provider, replay, clean_env)
    with pytest.raises(AuthError) as err:
        asyncio.run(model.complete(messages()))
    replay.check(1)
    assert sleeps.calls == []
    assert PROVIDERS[provider]["env"] in str(err.value) and "401" in str(err.value)


def test_google_invalid_key_400_is_an_auth_error(clean_env):
    replay = Replay("google_api_key_invalid")
    model, _ = make("google", replay, clean_env)
    with pytest.raises(AuthError, match="GOOGLE_API_KEY or GEMINI_API_KEY"):
        asyncio.run(model.complete(messages()))
    replay.check(1)


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_missing_key_fails_before_any_request(provider, clean_env):
    replay = Replay(f"{provider}_success")
    model = get_model(PROVIDERS[provider]["spec"], http_client=replay.client())  # no env var set
    with pytest.raises(AuthError) as err:
        asyncio.run(model.complete(messages()))
    assert PROVIDERS[provider]["env"] in str(err.value) and replay.requests == []


def test_gemini_key_may_come_from_gemini_api_key(clean_env):
    clean_env.setenv("GEMINI_API_KEY", "gm-key-9")
    replay = Replay("google_success")
    asyncio.run(get_model("google/gemini-2.5-flash", http_client=replay.client()).complete(messages()))
    assert replay.requests[0].headers["x-goog-api-key"] == "gm-key-9"


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_200_without_content_is_malformed(provider, clean_env):
    replay = Replay(f"{provider}_malformed")
    model, sleeps = make(provider, replay, clean_env)
    with pytest.raises(MalformedResponse):
        asyncio.run(model.complete(messages()))
    replay.check(1)
    assert sleeps.calls == []


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_5xx_is_retried_with_jittered_exponential_backoff(provider, clean_env):
    replay = Replay(f"{provider}_server_error_then_success")
    model, sleeps = make(provider, replay, clean_env, base_delay_s=2.0)
    c = asyncio.run(model.complete(messages()))
    replay.check(2)
    assert len(sleeps.calls) == 1 and 1.0 <= sleeps.calls[0] <= 2.0  # 2 s * jitter in [0.5, 1]
    assert c.text and c.stop_reason == "stop"


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_5xx_gives_up_after_max_attempts(provider, clean_env):
    replay = Replay(f"{provider}_server_error_then_success", f"{provider}_server_error_then_success")
    replay.exchanges = [replay.exchanges[0], replay.exchanges[2]]  # two failures in a row
    model, sleeps = make(provider, replay, clean_env, max_attempts=2)
    with pytest.raises(ProviderError) as err:
        asyncio.run(model.complete(messages()))
    replay.check(2)
    assert err.value.retryable and err.value.attempts == 2 and err.value.status >= 500
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize("provider,fixture", [("openai", "openai_refusal"), ("anthropic", "anthropic_refusal"),
                                              ("google", "google_safety")])
def test_refusals_and_content_filters_are_flagged(provider, fixture, clean_env):
    replay = Replay(fixture)
    model, _ = make(provider, replay, clean_env)
    c = asyncio.run(model.complete(messages()))
    assert c.filtered and c.stop_reason in ("refusal", "content_filter")


def test_gemini_gets_the_video_natively_others_get_frames(clean_env):
    replay = Replay("google_success")
    model, _ = make("google", replay, clean_env)
    asyncio.run(model.complete(messages(VIDEO)))
    parts = replay.body()["contents"][0]["parts"]
    videos = [p for p in parts if (p.get("inlineData") or {}).get("mime_type", (p.get("inlineData") or {})
                                                                   .get("mimeType")) == "video/mp4"]
    assert len(videos) == 1 and base64.urlsafe_b64decode(videos[0]["inlineData"]["data"]) == VIDEO.data
    assert videos[0]["videoMetadata"]["fps"] == 2.0
    assert images_sent("google", replay.body()) == [IMG_A, IMG_B]  # no frames on top of the video

    frames_replay = Replay("google_success")
    model, _ = make("google", frames_replay, clean_env)
    asyncio.run(model.complete(messages(VIDEO), GenerationConfig(native_video=False)))
    assert images_sent("google", frames_replay.body()) == [IMG_A, IMG_B, *VIDEO.frames]

    for provider in ("openai", "anthropic"):
        r = Replay(f"{provider}_success")
        model, _ = make(provider, r, clean_env)
        asyncio.run(model.complete(messages(VIDEO)))
        assert images_sent(provider, r.body()) == [IMG_A, IMG_B, *VIDEO.frames]
        assert "t=0.50s" in json.dumps(r.body())


def test_anthropic_subsamples_frames_to_its_100_image_limit(clean_env):
    frames = tuple(png((i, 0, 0)) for i in range(150))
    video = VideoPart(b"mp4", frames, tuple(i / 2 for i in range(150)), 2.0)
    replay = Replay("anthropic_success")
    model, _ = make("anthropic", replay, clean_env)
    asyncio.run(model.complete(messages(video)))
    sent = images_sent("anthropic", replay.body())
    assert len(sent) == 100 and sent[:2] == [IMG_A, IMG_B]
    assert sent[2] == frames[0] and sent[-1] == frames[-1]


def test_openai_compatible_base_url_needs_no_key_and_uses_max_tokens(clean_env):
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json=Replay("openai_success").exchanges[0]["response"]["body"])

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    model = get_model("openai/Qwen/Qwen2.5-VL-7B-Instruct", base_url="http://127.0.0.1:8000/v1", http_client=client)
    c = asyncio.run(model.complete(messages(), GenerationConfig(max_tokens=900)))
    assert str(seen[0].url) == "http://127.0.0.1:8000/v1/chat/completions"
    body = json.loads(seen[0].content)
    assert body["model"] == "Qwen/Qwen2.5-VL-7B-Instruct" and body["max_tokens"] == 900
    assert c.cost_usd is None and c.input_tokens == 9120  # unknown model: tokens only

    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9000/v1")
    seen.clear()
    asyncio.run(get_model("openai/local", http_client=client).complete(messages()))
    assert str(seen[0].url).startswith("http://127.0.0.1:9000/v1/")


def test_concurrency_is_limited_per_provider(clean_env):
    clean_env.setenv("OPENAI_API_KEY", "k")
    body = Replay("openai_success").exchanges[0]["response"]["body"]
    state = {"now": 0, "peak": 0}

    async def handler(request):
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.01)
        state["now"] -= 1
        return httpx.Response(200, json=body)

    async def go():
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        a = get_model("openai/gpt-4o", http_client=client, max_concurrency=2)
        b = get_model("openai/gpt-4o-mini", http_client=client, max_concurrency=2)  # same provider: same pool
        await asyncio.gather(*[m.complete(messages()) for m in (a, b) * 4])

    asyncio.run(go())
    assert state["peak"] == 2


def test_registry_parses_strings_and_rejects_unknown_providers():
    assert parse_model_spec("openai/gpt-4o") == ("openai", "gpt-4o")
    assert parse_model_spec("openai/Qwen/Qwen2.5-VL") == ("openai", "Qwen/Qwen2.5-VL")
    assert parse_model_spec("replay:/tmp/x") == ("offline", "replay:/tmp/x")
    assert parse_model_spec("first-frame") == ("offline", "first-frame")
    with pytest.raises(UnknownModel, match="unknown provider 'mistral'.*openai, anthropic, google"):
        get_model("mistral/large")
    with pytest.raises(UnknownModel, match="provider/model"):
        get_model("gpt-4o")
    with pytest.raises(UnknownModel):
        get_model("offline/nothing")
    assert get_model("offline/blank").name == "blank"
    m = get_model("anthropic/claude-3-5-haiku-20241022")
    assert m.price == PRICES["anthropic/claude-3-5-haiku"]  # dated snapshot of a known model
    assert get_model("anthropic/claude-sonnet-4-7").price is None  # unknown: not the sonnet-4 price


def test_parse_retry_after_forms():
    assert parse_retry_after({"retry-after": "4"}) == 4.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert parse_retry_after({"retry-after": "soon"}) is None and parse_retry_after({}) is None


def test_anthropic_accepts_an_httpx2_client_too(clean_env):
    import httpx2

    body = Replay("anthropic_success").exchanges[0]["response"]["body"]
    seen = []

    def handler(request):
        seen.append(request)
        return httpx2.Response(200, json=body)

    clean_env.setenv("ANTHROPIC_API_KEY", "k2")
    model = get_model("anthropic/claude-haiku-4-5-20251001",
                      http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)))
    c = asyncio.run(model.complete(messages()))
    assert c.output_tokens == 523 and seen[0].headers["authorization"] == "Bearer k2"


def test_aclose_closes_only_clients_we_created(clean_env):
    clean_env.setenv("OPENAI_API_KEY", "k")
    clean_env.setenv("GOOGLE_API_KEY", "k")

    async def go():
        owned = get_model("google/gemini-2.5-flash")
        owned.sdk()
        await owned.aclose()
        mine = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
        borrowed = get_model("openai/gpt-4o", http_client=mine)
        borrowed.sdk()
        await borrowed.aclose()
        return owned._sdk, mine.is_closed

    assert asyncio.run(go()) == (None, False)


def test_openai_reasoning_models_get_no_sampling_parameters(clean_env):
    clean_env.setenv("OPENAI_API_KEY", "k")
    for name, sent in [("gpt-5-mini", False), ("o3", False), ("gpt-4.1", True)]:
        replay = Replay("openai_success")
        model = get_model(f"openai/{name}", http_client=replay.client())
        asyncio.run(model.complete(messages(), GenerationConfig(temperature=0.0, top_p=0.5, seed=3)))
        body = replay.body()
        assert ("temperature" in body, "top_p" in body) == (sent, sent), name
        assert body["seed"] == 3
