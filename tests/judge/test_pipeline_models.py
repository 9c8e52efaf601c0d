"""`evaluate` with an API model served by `httpx.MockTransport` (no network): the budget
stops generation, provider failures are judge errors retried by the next run, a bad key
aborts the run, cached answers make a re-run free, a missing key is refused before anything
is written — only when a page must be asked for."""
from __future__ import annotations

import json

import httpx
import pytest

from agents.cache import ResponseCache
from agents.providers import AuthError, Price
from judge.pipeline import EvalOptions, evaluate
from judge.runs import RunDir, read_results
from judge.score import ScoreConfig
from judge.tasks import load_tasks
from tests.helpers.animation_suite import PAGES, make_suite

PAGE = ("```html\n<!doctype html><style>body{margin:0}.b{position:absolute;top:90px;left:20px;width:50px;"
        "height:50px;background:#d33;animation:m 1s linear both}@keyframes m{to{left:240px}}</style>"
        "<div class=b></div>\n```")


def _body(text=PAGE):
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 1753201834, "model": "fake",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}


class Server:
    """A fake OpenAI endpoint: `status(i)` decides the HTTP status of the i-th request."""

    def __init__(self, status=lambda i: 200):
        self.status, self.requests = status, []

    def handler(self, request):
        self.requests.append(json.loads(request.content))
        code = self.status(len(self.requests) - 1)
        if code != 200:
            return httpx.Response(code, json={"error": {"message": f"fake {code}", "type": "server_error"}})
        return httpx.Response(200, json=_body())

    def kwargs(self):
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        return {"api_key": "sk-fake", "http_client": client, "price": Price(1000.0, 2000.0), "max_attempts": 1}


@pytest.fixture(scope="module")
def suite(tmp_path_factory, browser, loop):
    pages = {k: PAGES[k] for k in ("bars", "orbit", "slide")}
    return make_suite(browser, loop.run_until_complete, tmp_path_factory.mktemp("suite"), pages)


@pytest.fixture
def go(suite, tmp_path, browser, run, monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)

    def evaluate_with(server, run_dir="r", key=True, cache_read=True, **kw):
        model_kwargs = server.kwargs() if key else {k: v for k, v in server.kwargs().items() if k != "api_key"}
        opts = EvalOptions(model="openai/fake", model_kwargs=model_kwargs, command=["test"], gen_workers=1,
                           score=ScoreConfig(embedder="classic", tracker="opencv", cache_dir=tmp_path / "features"),
                           **kw)
        return run(evaluate(load_tasks([suite]), RunDir(tmp_path / run_dir), opts, browser=browser, progress=None,
                            cache=ResponseCache(tmp_path / "llm", read=cache_read)))
    return evaluate_with


def test_budget_stops_generation_and_the_rest_runs_later(go, tmp_path):
    server = Server()
    res = go(server, max_cost=3.0)  # $2 per call: the second call crosses the budget, the third is refused
    assert len(server.requests) == 2 and len(res.judged) == 2 and res.not_run == ["slide"]
    assert res.cost["spent_usd"] == pytest.approx(4.0) and any("budget" in n for n in res.notes)
    rows, _ = read_results(tmp_path / "r" / "results.jsonl")
    assert sorted(r["task_id"] for r in rows) == ["bars", "orbit"]
    assert all(r["exec"] and r["generation"]["cost_usd"] == pytest.approx(2.0) for r in rows)
    again = go(server, max_cost=3.0)  # a new session has a new budget; saved pages are not regenerated
    assert again.judged == ["slide"] and len(server.requests) == 3


def test_provider_failure_is_a_judge_error_retried_next_run(go, tmp_path):
    down = Server(status=lambda i: 500 if i == 0 else 200)  # the first request fails (max_attempts=1)
    res = go(down)
    rows = {r["task_id"]: r for r in read_results(tmp_path / "r" / "results.jsonl")[0]}
    failed = [r for r in rows.values() if r["judge_error"]]
    assert len(failed) == 1 and failed[0]["judge_error"].startswith("generation failed (provider)")
    assert failed[0]["exec"] is None and failed[0]["page_sha256"] is None
    assert not (tmp_path / "r" / "pages" / failed[0]["task_id"] / "index.html").exists()
    again = go(down)
    assert again.judged == [failed[0]["task_id"]] and len(down.requests) == 4
    last = {r["task_id"]: r for r in read_results(tmp_path / "r" / "results.jsonl")[0]}
    assert all(r["judge_error"] is None and r["exec"] for r in last.values()) and len(res.judged) == 3


def test_cached_answers_make_a_fresh_run_free(go, tmp_path):
    server = Server()
    go(server, run_dir="a")
    res = go(server, run_dir="b")  # another run directory, same model and prompts: served from the cache
    assert len(server.requests) == 3 and res.cost["spent_usd"] == 0.0 and res.cost["cached_calls"] == 3
    rows, _ = read_results(tmp_path / "b" / "results.jsonl")
    assert all(r["generation"]["cached"] for r in rows)


def test_bad_key_aborts_the_run(go, tmp_path):
    with pytest.raises(AuthError):
        go(Server(status=lambda i: 401))
    assert read_results(tmp_path / "r" / "results.jsonl")[0] == []
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["history"][-1]["judged"] == 0


def test_a_missing_key_is_refused_only_when_a_page_must_be_asked_for(go, tmp_path):
    server = Server()
    go(server, run_dir="a")  # pages saved in a/, answers in the response cache
    assert go(server, run_dir="a", key=False, cache_read=False).judged == []  # every page saved: no key needed
    fresh = go(server, run_dir="b", key=False)  # a new run directory, every answer cached: no key needed
    assert len(fresh.judged) == 3 and len(server.requests) == 3
    (tmp_path / "a" / "pages" / "orbit" / "index.html").unlink()
    before = {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    with pytest.raises(AuthError, match=r"set OPENAI_API_KEY.*needed to generate .*\(orbit\)$"):
        go(server, run_dir="a", key=False, cache_read=False)
    assert {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()} == before
    with pytest.raises(AuthError, match="OPENAI_API_KEY"):
        go(server, run_dir="c", key=False, cache_read=False)
    assert not (tmp_path / "c").exists() and len(server.requests) == 3
