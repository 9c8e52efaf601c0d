"""Replay of recorded HTTP exchanges (tests/fixtures/http/*.json) through httpx.MockTransport.

A fixture file holds `{"description", "exchanges": [{"request": {"method", "path"},
"response": {"status", "headers", "body"}}]}`; `Replay` serves them in order, captures
every request the SDK sends, and records any request that does not match (answered with
HTTP 418 so the SDK never retries it). Nothing leaves the process. Imported by the other
provider and generator tests; the tests below check the fixtures and the replayer itself.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "http"

# provider -> what the tests need to drive it
PROVIDERS = {
    "openai": {"spec": "openai/gpt-4o", "env": "OPENAI_API_KEY", "key_header": "authorization"},
    "anthropic": {"spec": "anthropic/claude-haiku-4-5-20251001", "env": "ANTHROPIC_API_KEY", "key_header": "authorization"},
    "google": {"spec": "google/gemini-2.5-flash", "env": "GOOGLE_API_KEY", "key_header": "x-goog-api-key"},
}
KEY_ENVS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "GOOGLE_API_KEY",
            "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_USE_VERTEXAI", "ANTHROPIC_AUTH_TOKEN",
            "ANTHROPIC_PROFILE", "WEBJUDGE_CACHE_DIR")


def load(name: str) -> list[dict]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["exchanges"]


class Replay:
    """Serve recorded exchanges in order; `requests` are the captured requests."""

    def __init__(self, *names: str):
        self.exchanges = [ex for n in names for ex in load(n)]
        self.requests: list[httpx.Request] = []
        self.problems: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        i = len(self.requests)
        self.requests.append(request)
        if i >= len(self.exchanges):
            self.problems.append(f"unexpected request #{i + 1}: {request.method} {request.url}")
            return httpx.Response(418, json={"error": {"message": "no recorded exchange left"}})
        want = self.exchanges[i]["request"]
        if request.method != want["method"] or not request.url.path.endswith(want["path"]):
            self.problems.append(f"request #{i + 1} was {request.method} {request.url.path}, "
                                 f"recorded {want['method']} ...{want['path']}")
            return httpx.Response(418, json={"error": {"message": "request does not match the recording"}})
        resp = self.exchanges[i]["response"]
        return httpx.Response(resp["status"], headers=resp["headers"], json=resp["body"])

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    def body(self, i: int = 0) -> dict:
        return json.loads(self.requests[i].content)

    def check(self, n_requests: int | None = None) -> None:
        assert not self.problems, self.problems
        if n_requests is not None:
            assert len(self.requests) == n_requests, [str(r.url) for r in self.requests]


class Sleeps:
    """An injectable `sleep` that records the waits instead of waiting."""

    def __init__(self):
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No provider keys or base URLs from the developer's shell; cache in tmp."""
    for var in KEY_ENVS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_every_fixture_is_a_well_formed_recording():
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) >= 18
    for f in files:
        data = json.loads(f.read_text(encoding="utf-8"))
        assert data["description"] and data["exchanges"], f.name
        for ex in data["exchanges"]:
            assert ex["request"]["method"] == "POST"
            assert 200 <= ex["response"]["status"] < 600
            assert "content-type" in ex["response"]["headers"]
            assert isinstance(ex["response"]["body"], dict)
    for provider in PROVIDERS:
        for case in ("success", "rate_limit_then_success", "auth_error", "malformed", "server_error_then_success"):
            assert (FIXTURES / f"{provider}_{case}.json").is_file(), (provider, case)


def test_replay_serves_in_order_and_flags_mismatches():
    replay = Replay("openai_server_error_then_success")

    async def go():
        async with replay.client() as c:
            r1 = await c.post("https://api.openai.com/v1/chat/completions", json={})
            r2 = await c.post("https://api.openai.com/v1/chat/completions", json={})
            r3 = await c.post("https://api.openai.com/v1/chat/completions", json={})
            return r1.status_code, r2.status_code, r3.status_code

    assert asyncio.run(go()) == (500, 200, 418)
    assert len(replay.problems) == 1 and "unexpected request #3" in replay.problems[0]
    with pytest.raises(AssertionError):
        replay.check()

    wrong = Replay("openai_success")

    async def go_wrong():
        async with wrong.client() as c:
            return (await c.post("https://api.openai.com/v1/embeddings", json={})).status_code

    assert asyncio.run(go_wrong()) == 418 and "recorded POST" in wrong.problems[0]
