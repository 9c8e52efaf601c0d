"""`judge noise`: a page judged K times without the response cache; flips per verdict source.

A small interactive task is recorded here (real Chromium) and evaluated by the real
pipeline with the `reference` baseline. The offline judge (rules only) must give 0 flips.
A remote judge model cannot be called on this machine: the OpenAI adapter is driven
through httpx.MockTransport by a fake judge whose yes/no answers alternate, so the flips
of the `llm:` source are counted through the real judge, and every repeat reaches the
"API" (nothing is answered from the cache)."""
from __future__ import annotations

import json

import httpx
import pytest

from judge.noise import flip_table, measure
from judge.tasks import Viewport
from tests.helpers.tasks import record_test_task

PAGE = """<!doctype html><html><body style="font:16px sans-serif;margin:20px">
<h1>Lamp</h1><button id="go" style="padding:12px 24px;background:#ccc;border:0">Switch on</button>
<button id="paint" style="padding:12px 24px;background:#ccc;border:0">Paint</button>
<p id="msg"></p><script>document.getElementById('go').onclick=()=>{document.getElementById('msg').textContent='The lamp is on'};
const p=document.getElementById('paint');p.onclick=()=>{p.style.background='#2c2'};</script></body></html>"""
ACTIONS = [
    {"type": "click", "description": "Click 'Switch on'", "target": {"role": "button", "name": "Switch on", "selector": "#go"},
     "assertion": 'The page shows "The lamp is on"'},
    {"type": "click", "description": "Click 'Paint'", "target": {"role": "button", "name": "Paint", "selector": "#paint"},
     "assertion": "The button turns green"},
]


@pytest.fixture(scope="module")
def lamp_run(browser, loop, tmp_path_factory):
    from agents.cache import ResponseCache
    from judge.pipeline import EvalOptions, evaluate
    from judge.runs import RunDir
    from judge.score import ScoreConfig

    root = tmp_path_factory.mktemp("noise")
    task = record_test_task(loop.run_until_complete, browser, root, PAGE, ACTIONS, task_id="lamp",
                            viewport=Viewport(width=320, height=240))
    opts = EvalOptions(model="reference", command=["test"], score=ScoreConfig(embedder="classic", tracker="opencv",
                                                                              cache_dir=root / "features"))
    loop.run_until_complete(evaluate([task], RunDir(root / "run"), opts, browser=browser, progress=None,
                                     cache=ResponseCache(root / "llm")))
    return root / "run"


def test_flip_table_counts_steps_whose_verdict_changes_per_source():
    same = {"index": 0, "passed": True, "verdict_source": "rule:quoted-text"}
    rep = flip_table({"t": [[same, {"index": 1, "passed": True, "verdict_source": "llm:x"}],
                            [same, {"index": 1, "passed": False, "verdict_source": "llm:x"}],
                            [same, {"index": 1, "passed": True, "verdict_source": "rule:typed"}]]})
    assert rep["sources"]["rule:quoted-text"] == {"steps": 1, "flipped": 0, "flip_rate": 0.0}
    assert rep["sources"]["mixed"] == {"steps": 1, "flipped": 1, "flip_rate": 1.0}
    assert rep["overall"]["flipped"] == 1 and rep["flips"][0]["passed"] == [True, False, True]


def test_the_offline_judge_gives_zero_flips(lamp_run, browser, run):
    rep = run(measure(lamp_run, 2, browser=browser))
    assert rep["overall"] == {"steps": 2, "flipped": 0, "flip_rate": 0.0}
    assert all(s.startswith("rule:") for s in rep["sources"]) and rep["judge_model"] is None
    assert rep["tasks"] == [{"task_id": "lamp", "final": [1.0, 1.0], "changed": False}]


class AlternatingJudge:
    """Answers the judge's yes/no questions YES, NO, YES, ... (a noisy model); anything
    else (grounding, the visual rubric) with the same plausible reply."""

    def __init__(self):
        self.verdicts = 0
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        text = "\n".join(p.get("text", "") for m in json.loads(request.content)["messages"]
                         for p in (m["content"] if isinstance(m["content"], list) else [{"text": m["content"]}]))
        if "Score visual fidelity" in text:
            answer = "Close match. Score: 90/100"
        elif "Which element" in text:
            answer = "Element: 1"
        else:
            answer = f"Verdict: {'YES' if self.verdicts % 2 == 0 else 'NO'}\nBecause."
            self.verdicts += 1
        return httpx.Response(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})


def test_a_noisy_judge_model_flips_and_is_asked_every_time(lamp_run, browser, run, monkeypatch, tmp_path):
    from agents.providers import get_model
    from tests.helpers.http_replay import Sleeps

    monkeypatch.setenv("WEBJUDGE_CACHE_DIR", str(tmp_path / "cache"))
    fake = AlternatingJudge()
    model = get_model("openai/gpt-4o", http_client=httpx.AsyncClient(transport=httpx.MockTransport(fake)),
                      api_key="sk-test", sleep=Sleeps())
    rep = run(measure(lamp_run, 2, judge_model="openai/gpt-4o", browser=browser, model=model))
    llm = rep["sources"].get("llm:openai/gpt-4o")
    assert llm is not None and llm["flipped"] == 1 and llm["flip_rate"] == 1.0, rep["sources"]
    assert rep["sources"]["rule:quoted-text"]["flipped"] == 0
    assert fake.verdicts == 2                               # one per repeat: nothing came from a cache
    assert not (tmp_path / "cache" / "llm").exists() or not any((tmp_path / "cache" / "llm").rglob("*.json"))
