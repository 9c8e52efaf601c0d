"""Replay of recorded HTTP exchanges (tests/fixtures/http/*.json) through httpx.MockTransport:
`Replay` serves them in order and captures every request; `Sleeps` records retry sleeps."""
from __future__ import annotations

import base64
import json

import httpx

from tests.helpers.paths import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "http"


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


def images_sent(provider: str, body: dict) -> list[bytes]:
    """Decoded image bytes in a captured request body, in order."""
    out = []
    if provider == "openai":
        for m in body["messages"]:
            for p in m["content"] if isinstance(m["content"], list) else []:
                if p["type"] == "image_url":
                    out.append(base64.b64decode(p["image_url"]["url"].split(",", 1)[1]))
    elif provider == "anthropic":
        for m in body["messages"]:
            out += [base64.b64decode(b["source"]["data"]) for b in m["content"] if b["type"] == "image"]
    else:
        for c in body["contents"]:
            for p in c["parts"]:
                blob = p.get("inlineData") or p.get("inline_data")
                if blob and (blob.get("mimeType") or blob.get("mime_type")).startswith("image/"):
                    out.append(base64.urlsafe_b64decode(blob["data"]))
    return out


