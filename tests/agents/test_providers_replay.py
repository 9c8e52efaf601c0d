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

import pytest

from tests.helpers.http_replay import (  # noqa: F401
    FIXTURES,
    KEY_ENVS,
    PROVIDERS,
    Replay,
    Sleeps,
    load,
)


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
