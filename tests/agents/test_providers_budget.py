"""`--max-cost` semantics: CostMeter + cached_complete with a fake priced model over MockTransport."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from agents.cache import ResponseCache, cached_complete
from agents.providers import (
    BudgetExceeded,
    CostMeter,
    GenerationConfig,
    Message,
    Price,
    get_model,
)
from agents.providers.cost import PRICES, cost_of, price_for, register_price

# every answer: 1000 input tokens, 500 output tokens
BODY = {"id": "chatcmpl-fake", "object": "chat.completion", "created": 1753201834, "model": "fake-priced",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "```html\n<p>hi</p>\n```",
                                             "refusal": None}, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}


def fake_model(requests, price=Price(1000.0, 2000.0)):
    """openai/fake-priced: $1 per call of input + $1 of output = $2 per call."""
    def handler(request):
        requests.append(json.loads(request.content))
        return httpx.Response(200, json=BODY)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return get_model("openai/fake-priced", api_key="sk-fake", http_client=client, price=price)


def ask(model, meter, text, cache=None):
    return asyncio.run(cached_complete(model, [Message.user(text)], GenerationConfig(), cache, meter))


def test_budget_stops_new_calls_once_used_up(clean_env):
    requests = []
    model, meter = fake_model(requests), CostMeter(max_cost=3.0)
    assert ask(model, meter, "a").cost_usd == pytest.approx(2.0)
    assert meter.spent_usd == pytest.approx(2.0) and meter.remaining_usd == pytest.approx(1.0)
    ask(model, meter, "b")  # allowed: $2 spent < $3; this call crosses the limit
    assert meter.spent_usd == pytest.approx(4.0)
    with pytest.raises(BudgetExceeded, match=r"\$3\.0000"):
        ask(model, meter, "c")
    assert len(requests) == 2  # the refused call never reached the API
    assert meter.calls == 2 and meter.remaining_usd == 0.0


def test_cache_hits_are_free_and_allowed_after_the_budget_is_spent(clean_env, tmp_path):
    requests = []
    model, meter, cache = fake_model(requests), CostMeter(max_cost=2.0), ResponseCache(tmp_path)
    ask(model, meter, "a", cache)
    hit = ask(model, meter, "a", cache)
    assert hit.cached and hit.cost_usd == 0.0
    assert meter.saved_usd == pytest.approx(2.0) and meter.spent_usd == pytest.approx(2.0)
    with pytest.raises(BudgetExceeded):
        ask(model, meter, "new prompt", cache)
    assert len(requests) == 1


def test_zero_budget_means_cache_only(clean_env, tmp_path):
    requests = []
    with pytest.raises(BudgetExceeded):
        ask(fake_model(requests), CostMeter(max_cost=0.0), "a", ResponseCache(tmp_path))
    assert requests == []


def test_no_budget_never_raises(clean_env):
    requests = []
    model, meter = fake_model(requests), CostMeter()
    for i in range(4):
        ask(model, meter, str(i))
    assert meter.spent_usd == pytest.approx(8.0) and len(requests) == 4
    assert meter.summary()["calls"] == 4


def test_unpriced_models_record_tokens_and_are_not_limited(clean_env, caplog):
    requests = []
    model, meter = fake_model(requests, price=None), CostMeter(max_cost=0.5)
    assert model.price is None
    for text in "abc":
        c = ask(model, meter, text)
        assert c.cost_usd is None and c.input_tokens == 1000
    assert meter.unpriced_calls == 3 and meter.spent_usd == 0.0 and meter.input_tokens == 3000
    assert "no price known for openai/fake-priced" in caplog.text


def test_registered_and_file_prices_are_used(clean_env, tmp_path, monkeypatch):
    monkeypatch.setattr("agents.providers.cost.PRICES", dict(PRICES))
    register_price("openai/fake-priced", 1000.0, 2000.0)
    requests = []
    model = get_model("openai/fake-priced", api_key="k",
                      http_client=httpx.AsyncClient(transport=httpx.MockTransport(
                          lambda r: requests.append(r) or httpx.Response(200, json=BODY))))
    assert ask(model, CostMeter(), "a").cost_usd == pytest.approx(2.0)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"anthropic/claude-opus-4-7": [5, 25]}))
    clean_env.setenv("WEBJUDGE_PRICES", str(prices))
    assert price_for("anthropic", "claude-opus-4-7") == Price(5.0, 25.0)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    clean_env.setenv("WEBJUDGE_PRICES", str(bad))
    with pytest.raises(ValueError, match="WEBJUDGE_PRICES"):
        price_for("openai", "gpt-4o")


def test_cost_arithmetic():
    assert cost_of(Price(2.5, 10.0), 1_000_000, 100_000) == pytest.approx(3.5)
    assert cost_of(None, 10, 10) is None and cost_of(Price(1, 1), None, 3) is None
    with pytest.raises(ValueError):
        CostMeter(max_cost=-1)


def test_concurrent_workers_overshoot_by_at_most_one_call_each(clean_env):
    requests = []
    model, meter = fake_model(requests), CostMeter(max_cost=1.0)

    async def worker(i):
        try:
            await cached_complete(model, [Message.user(f"w{i}")], GenerationConfig(), None, meter)
            return True
        except BudgetExceeded:
            return False

    async def go():
        first = await asyncio.gather(*[worker(i) for i in range(3)])  # all start before any cost is known
        later = await asyncio.gather(*[worker(i) for i in range(3, 6)])
        return first, later

    first, later = asyncio.run(go())
    assert first == [True, True, True] and later == [False, False, False]
    assert meter.spent_usd == pytest.approx(6.0) and len(requests) == 3
