"""The judge-model paths (grounding rungs 4-5, assertion verdicts, visual rubric) against
mocked provider responses (httpx.MockTransport: nothing leaves the process), including
malformed replies, timeouts and outages: retried, then JudgeError, never a page failure."""
from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from agents.judge_graph import JudgeRun, judge_page
from agents.providers import get_model
from judge.score import JudgeError, ScoreConfig
from tests.helpers.http_replay import Sleeps
from tests.helpers.judge_pages import VP
from tests.helpers.tasks import record_test_task

CONFIG = ScoreConfig(embedder="classic")
NO_CACHE = {"judge_cache": None}   # these tests count requests: no answer may come from a cache

REFERENCE = """<!doctype html><html><body style="font:16px sans-serif;margin:20px">
<h1>Cart</h1><p>1 item: Tea</p><button id="c">Continue</button><p id="msg"></p>
<script>document.getElementById('c').onclick=()=>{document.getElementById('msg').textContent='Order placed. Thank you!'};
document.getElementById('msg').onclick=(e)=>{e.target.style.color='green'};</script></body></html>"""
ACTIONS = [
    {"type": "click", "description": "Go on to the checkout", "target": {"role": "button", "name": "Continue", "selector": "#c"},
     "assertion": 'The page shows "Order placed"', "visual_check": True},
    {"type": "click", "description": "Click the confirmation message", "target": {"text": "Order placed. Thank you!"},
     "assertion": "The confirmation message turns green"},
]
# a different button text and id: no hint, description word or template matches it
CANDIDATE = REFERENCE.replace('<button id="c">Continue</button>', '<button id="p9" style="padding:14px 30px">Proceed</button>') \
    .replace("getElementById('c')", "getElementById('p9')")


@pytest.fixture(scope="module")
def cart(browser, loop, tmp_path_factory):
    return record_test_task(loop.run_until_complete, browser, tmp_path_factory.mktemp("cart"), REFERENCE, ACTIONS,
                            task_id="cart", viewport=VP)


def reply(text: str) -> httpx.Response:
    return httpx.Response(200, json={
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})


class FakeJudge:
    """Answers like a judge model, by what the request asks; records requests."""

    def __init__(self, verdict="YES", score="Score: 80/100", vision_only=False, bad=None, delay=0.0, status=200):
        self.verdict, self.score, self.vision_only = verdict, score, vision_only
        self.bad = dict(bad or {})        # kind -> how many malformed replies to give first
        self.delay, self.status = delay, status
        self.requests: list[dict] = []

    def kinds(self):
        return [k for k, _ in self.requests]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        parts = body["messages"][-1]["content"]
        text = "\n".join(p["text"] for p in parts if p["type"] == "text")
        images = sum(p["type"] == "image_url" for p in parts)
        kind = "ground" if "Which element" in text else "rubric" if "Score visual fidelity" in text else "verdict"
        self.requests.append((kind, {"text": text, "images": images}))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {"message": "server down", "type": "server_error"}})
        if self.bad.get(kind, 0) > 0:
            self.bad[kind] -= 1
            return reply("Hmm, hard to say.")
        if kind == "rubric":
            return reply(f"Layout fine, text differs a little. {self.score}")
        if kind == "verdict":
            return reply(f"Verdict: {self.verdict}\nThe message is green.")
        if self.vision_only and not images:
            return reply('{"element": null}')
        line = next(ln for ln in text.splitlines() if "Proceed" in ln)
        return reply(json.dumps({"element": int(re.match(r"\[(\d+)\]", line).group(1))}))


def model_for(fake: FakeJudge, **kw):
    client = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    return get_model("openai/gpt-4o", http_client=client, api_key="sk-test", sleep=Sleeps(), **kw)


def run_judge(run, browser, task, fake, config=CONFIG, cached=False, **kw):
    kw = kw if cached else {**NO_CACHE, **kw}
    return run(judge_page(task, CANDIDATE, browser=browser, config=config, model=model_for(fake), **kw))


def test_offline_ladder_cannot_ground_the_renamed_button(run, browser, cart):
    r = run(judge_page(cart, CANDIDATE, browser=browser, config=CONFIG))
    assert r["steps"][0]["rung"] is None and not r["steps"][0]["passed"]
    assert "visual: no match" in " ".join(r["steps"][0]["error"].split("; "))


def test_llm_rung_grounds_with_the_element_list(run, browser, cart):
    fake = FakeJudge()
    r = run_judge(run, browser, cart, fake)
    s0 = r["steps"][0]
    assert s0["rung"] == "llm" and s0["passed"] and s0["verdict_source"] == "rule:quoted-text"
    ground = [req for k, req in fake.requests if k == "ground"]
    assert len(ground) == 1 and ground[0]["images"] == 0 and "Accessibility tree" in ground[0]["text"]
    assert r["grounding"]["model_calls"] == 1 and r["grounding"]["without_model"] == 0.5
    assert r["backends"]["grounding"] == "ladder+openai/gpt-4o"


def test_vlm_rung_on_set_of_marks_when_the_text_model_finds_nothing(run, browser, cart):
    fake = FakeJudge(vision_only=True)
    r = run_judge(run, browser, cart, fake)
    assert r["steps"][0]["rung"] == "vlm" and r["steps"][0]["passed"]
    ground = [req for k, req in fake.requests if k == "ground"]
    assert [g["images"] for g in ground] == [0, 1]
    assert r["grounding"]["model_calls"] == 2


@pytest.mark.parametrize("verdict,passed", [("YES", True), ("NO", False)])
def test_assertion_without_quotes_goes_to_the_judge_model(run, browser, cart, verdict, passed):
    fake = FakeJudge(verdict=verdict)
    r = run_judge(run, browser, cart, fake)
    s1 = r["steps"][1]
    assert s1["verdict_source"] == "llm:openai/gpt-4o" and s1["passed"] is passed
    req = next(req for k, req in fake.requests if k == "verdict")
    # before, after, and the reference checkpoint of that step, labelled as such
    assert req["images"] == 3 and "turns green" in req["text"]
    assert "REFERENCE (the original site after this action" in req["text"]
    assert r["ifs"] == (1.0 if passed else 0.5)


def test_rubric_enters_vfs_as_hfs(run, browser, cart):
    fake = FakeJudge(score="Score: 80/100")
    r = run_judge(run, browser, cart, fake)
    vc = r["vfs_components"]
    assert vc["hfs_used"] and vc["hfs"] == pytest.approx(0.8)
    assert [c["rubric"] for c in vc["checkpoints"]] == [80.0, 80.0]
    assert r["vfs"] == pytest.approx(0.5 * vc["lfs"] + 0.5 * 0.8)
    assert r["final"] == pytest.approx(0.7 * r["ifs"] + 0.3 * r["vfs"])
    assert fake.kinds().count("rubric") == 2


def test_malformed_replies_are_re_asked(run, browser, cart):
    fake = FakeJudge(bad={"verdict": 2, "ground": 1, "rubric": 1})
    r = run_judge(run, browser, cart, fake)
    assert r["ifs"] == 1.0 and r["vfs_components"]["hfs_used"]
    assert r["judge_usage"]["calls"] == fake.kinds().count("ground") + fake.kinds().count("verdict") + fake.kinds().count("rubric")


def test_persistently_malformed_replies_raise_judge_error(run, browser, cart):
    fake = FakeJudge(bad={"verdict": 3})
    with pytest.raises(JudgeError, match="malformed reply"):
        run_judge(run, browser, cart, fake)
    assert fake.kinds().count("verdict") == 3


def test_timeouts_raise_judge_error_not_a_page_failure(run, browser, cart):
    fake = FakeJudge(delay=2.0)
    config = ScoreConfig(embedder="classic", llm_timeout_s=0.3, llm_attempts=2)
    with pytest.raises(JudgeError, match="no reply within 0.3 s"):
        run_judge(run, browser, cart, fake, config=config)
    assert len(fake.requests) == 2


def test_api_down_raises_judge_error_then_resumes_without_rejudging(run, browser, cart, tmp_path):
    down = FakeJudge(status=503)
    with pytest.raises(JudgeError, match="judge model openai/gpt-4o failed"):
        run(JudgeRun(cart, CANDIDATE, browser=browser, config=CONFIG, model=model_for(down, max_attempts=3), **NO_CACHE,
                     checkpoint_dir=tmp_path).run())
    assert len(down.requests) == 3                  # the provider's own bounded retries
    up = FakeJudge()
    jr = JudgeRun(cart, CANDIDATE, browser=browser, config=CONFIG, model=model_for(up), checkpoint_dir=tmp_path, **NO_CACHE)
    r = run(jr.run())
    assert r["ifs"] == 1.0 and jr.node_calls["load"] == 0 and jr.node_calls["ground"] == 2


def test_judge_model_calls_count_against_the_runs_budget(run, browser, cart):
    from agents.providers import CostMeter

    fake, meter = FakeJudge(), CostMeter(max_cost=0.0)     # a run whose --max-cost is used up
    with pytest.raises(JudgeError, match="budget of \\$0.0000 used up"):
        run_judge(run, browser, cart, fake, meter=meter)
    assert fake.requests == []                              # refused before any request
    spent = CostMeter()
    run_judge(run, browser, cart, FakeJudge(), meter=spent)
    assert spent.calls > 0                                  # every uncached judge call is metered


def test_cache_makes_a_rerun_free(run, browser, cart, tmp_path, monkeypatch):
    monkeypatch.setenv("WEBJUDGE_CACHE_DIR", str(tmp_path / "llm"))
    config = ScoreConfig(embedder="classic")
    first, second = FakeJudge(), FakeJudge()
    a = run_judge(run, browser, cart, first, config=config, cached=True)
    b = run_judge(run, browser, cart, second, config=config, cached=True)
    assert first.requests and not second.requests
    assert a["ifs"] == b["ifs"] and a["vfs"] == b["vfs"] and b["judge_usage"]["cached"] == b["judge_usage"]["calls"]


# ---- the model decides close calls, shown the deterministic candidates and their evidence ----
TWIN = """<!doctype html><html><body style="font:16px sans-serif;margin:20px">
<h1>Your card</h1><div class="card"><p>Summer photo</p>
<button class="icon-btn" aria-label="" onclick="document.getElementById('s').textContent='Saved to favourites'">♥</button>
<button class="icon-btn" aria-label="" onclick="document.getElementById('s').textContent='Photo deleted'">♥</button>
</div><p id="s">No changes</p></body></html>"""
TWIN_ACTIONS = [{"type": "click", "description": "Click the heart icon on the card",
                 "target": {"selector": ".icon-btn:nth-of-type(1)"}, "assertion": 'The page shows "Saved to favourites"'}]


@pytest.fixture(scope="module")
def twin(browser, loop, tmp_path_factory):
    from judge.tasks import descriptions_only as without_hints

    return without_hints(record_test_task(loop.run_until_complete, browser, tmp_path_factory.mktemp("twin"), TWIN,
                                          TWIN_ACTIONS, task_id="twin", viewport=VP))


class Chooser:
    """A recorded-style grounding reply: picks the listed element whose line satisfies
    `choose(lines)` (a right or a wrong answer), or replies with no JSON (malformed)."""

    def __init__(self, answer: str):
        self.answer, self.prompts = answer, []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        text = "\n".join(p["text"] for p in json.loads(request.content)["messages"][-1]["content"] if p["type"] == "text")
        if "Which element" not in text:      # the assertion verdict or the visual rubric
            return reply("Verdict: YES. Score: 80/100")
        self.prompts.append(text)
        if self.answer == "malformed":
            return reply("I think it is probably the first one, or maybe the second.")
        hearts = [ln for ln in text.splitlines() if re.match(r"\[\d+\] button '♥'", ln)]
        line = hearts[0] if self.answer == "right" else hearts[1]
        return reply(json.dumps({"element": int(re.match(r"\[(\d+)\]", line).group(1))}))


def test_offline_the_close_call_goes_to_the_first_twin(run, browser, twin):
    r = run(judge_page(twin, TWIN, browser=browser, config=CONFIG))
    assert r["steps"][0]["rung"] == "description" and r["grounding"]["model_calls"] == 0


@pytest.mark.parametrize("answer,passed", [("right", True), ("wrong", False)])
def test_a_close_call_is_the_models_with_the_same_candidates_and_evidence(run, browser, twin, answer, passed):
    fake = Chooser(answer)
    r = run(judge_page(twin, TWIN, browser=browser, config=CONFIG, **NO_CACHE, model=model_for(fake)))
    step = r["steps"][0]
    assert step["rung"] == "llm" and r["grounding"]["model_calls"] == 1, step
    assert step["passed"] is passed, step       # a wrong pick is caught by the assertion, not trusted
    prompt = fake.prompts[0]
    listed = [ln for ln in prompt.splitlines() if "<- description" in ln]
    assert len(listed) == 2 and all("button '♥'" in ln and '"keywords"' in ln for ln in listed), prompt
    assert prompt.index(listed[0]) < prompt.index("Accessibility tree")   # candidates first, evidence attached


def test_a_malformed_grounding_reply_is_a_judge_error(run, browser, twin):
    with pytest.raises(JudgeError, match="malformed"):
        run(judge_page(twin, TWIN, browser=browser, config=CONFIG, **NO_CACHE, model=model_for(Chooser("malformed"))))
