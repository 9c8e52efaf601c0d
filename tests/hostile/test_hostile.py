"""The hostile-page corpus (`tests/hostile/*.html`), judged through the path
`judge evaluate` uses: `judge.score.score_page` on a small real animation task.

Every hostile page must end with a score row that records what the page did (a fatal
render error, page errors, blocked requests, dialogs, popups or navigations), within a
bounded wall time, with zero requests at the loopback canary; and after each one, a
normal page judged with the same `Browser` must score exactly as it did before any
hostile page ran. The expectations of each page are in its first line:

    <!-- hostile: {"kind": "...", "expect": {"fatal": "did not respond", ...}} -->

`expect` keys: `fatal` (a substring of `render.fatal`; `null` = no fatal error),
`exec` (bool), and `page_errors` / `console_errors` / `blocked` / `dialogs` / `popups` /
`navigations`: a substring (or list of substrings) each found in that list of the row's
`render`. Placeholders: `{{CANARY}}` (http://127.0.0.1:PORT), `{{CANARY_PORT}}`, and
`<!--PAD n-->` (replaced by n bytes of filler paragraphs, for the huge page).

Bounds: the corpus runs on a `Browser(timeout_s=HOSTILE_TIMEOUT_S,
page_budget_s=HOSTILE_BUDGET_S)`; a hostile task must finish (render + metrics)
within `BOUND_S`. Measured times are written to `$WEBJUDGE_HOSTILE_TIMINGS` (JSON) when set.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest

from judge.browser.runtime import Browser
from judge.score import score_page
from tests.helpers.canary import Canary
from tests.helpers.hostile import (  # noqa: F401
    DURATION_S,
    FPS,
    HOSTILE,
    HOSTILE_BUDGET_S,
    HOSTILE_TIMEOUT_S,
    REFERENCE,
    SCORE_KEYS,
    VIEWPORT,
    build_animation_task,
    page_text,
    record_timing,
    score_config,
    scores,
)

BOUND_S = 60.0              # wall time of one hostile task (render + metrics), on a loaded 2-core machine














# ---- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def canary():
    with Canary() as c:
        yield c


@pytest.fixture(scope="module")
def hbrowser(loop):
    """A browser of its own (hostile pages restart it) with the corpus' bounds."""
    b = loop.run_until_complete(Browser(timeout_s=HOSTILE_TIMEOUT_S, page_budget_s=HOSTILE_BUDGET_S).start())
    yield b
    loop.run_until_complete(b.close())


@pytest.fixture(scope="module")
def env(hbrowser, loop, tmp_path_factory):
    run = loop.run_until_complete
    root = tmp_path_factory.mktemp("hostile")
    task = build_animation_task(root / "task", hbrowser, run)
    config = score_config(root / "cache")
    baseline = run(score_page(task, REFERENCE, browser=hbrowser, config=config))
    assert baseline["exec"] is True and baseline["appearance"] > 0.9, baseline
    assert not baseline["render"]["fatal"] and not baseline["render"]["page_errors"]

    class Env:
        pass

    e = Env()
    e.task, e.config, e.baseline, e.browser, e.run, e.root = task, config, baseline, hbrowser, run, root
    return e




def expectations(path: Path, canary: Canary | None = None) -> dict:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    if canary is not None:
        first = first.replace("{{CANARY}}", canary.url).replace("{{CANARY_PORT}}", str(canary.port))
    m = re.fullmatch(r"<!-- hostile: (\{.*\}) -->\s*", first)
    assert m, f"{path.name}: first line must be <!-- hostile: {{json}} -->"
    return json.loads(m.group(1))


def check_row(row: dict, expect: dict, name: str) -> None:
    render = row["render"]
    if "fatal" in expect:
        if expect["fatal"] is None:
            assert not render.get("fatal"), f"{name}: unexpected fatal {render.get('fatal')!r}"
        else:
            assert render.get("fatal") and re.search(expect["fatal"], render["fatal"]), \
                f"{name}: fatal {render.get('fatal')!r} does not match {expect['fatal']!r}"
    if "exec" in expect:
        assert row["exec"] is expect["exec"], f"{name}: exec {row['exec']} ({row.get('exec_reason')})"
    if "static" in expect:
        assert row["static"] is expect["static"], f"{name}: static {row['static']}"
    for field, key in (("page_errors", "page_errors"), ("console_errors", "console_errors"),
                       ("blocked", "blocked_requests"), ("dialogs", "dialogs"), ("popups", "popups"),
                       ("navigations", "navigations")):
        if field not in expect:
            continue
        wanted = expect[field] if isinstance(expect[field], list) else [expect[field]]
        have = "\n".join(render.get(key) or [])
        for w in wanted:
            found = re.search(w, have) is not None
            assert found, f"{name}: {w!r} not in render.{key}:\n{have[:2000]}"
    # the row records something the page did wrong
    assert render.get("fatal") or any(render.get(k) for k in (
        "page_errors", "blocked_requests", "dialogs", "popups", "navigations", "console_errors")), \
        f"{name}: nothing recorded: {render}"


def judge_then_normal(env, canary, name: str, html: str) -> dict:
    """Judge a hostile page, then a normal page with the same browser; return the hostile row."""
    t0 = time.perf_counter()
    row = env.run(asyncio.wait_for(score_page(env.task, html, browser=env.browser, config=env.config), BOUND_S + 30))
    wall = time.perf_counter() - t0
    record_timing(name, wall)
    assert wall < BOUND_S, f"{name}: {wall:.1f} s > {BOUND_S} s"
    assert row["task_id"] == env.task.id and "render" in row
    normal = env.run(score_page(env.task, REFERENCE, browser=env.browser, config=env.config))
    assert scores(normal) == scores(env.baseline), f"after {name}: the normal page scored {scores(normal)}"
    assert not normal["render"]["fatal"] and not normal["render"]["page_errors"] \
        and not normal["render"]["blocked_requests"], normal["render"]
    assert canary.hits == [], f"{name}: the canary was reached: {canary.hits}"
    return row


CORPUS = sorted(p for p in HOSTILE.glob("*.html"))


def test_corpus_is_complete():
    assert len(CORPUS) >= 25, [p.name for p in CORPUS]
    readme = (HOSTILE / "README.md").read_text()
    for p in CORPUS:
        expectations(p)
        assert p.stem in readme, f"{p.name} is not in tests/hostile/README.md"


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_hostile_page(env, canary, path):
    expect = expectations(path, canary)
    row = judge_then_normal(env, canary, path.stem, page_text(path, canary))
    check_row(row, expect.get("expect", {}), path.stem)


# ---- across tasks: storage left by a previous task -------------------------------------------
STORAGE_WRITE = """<!doctype html><body><p>writer</p><script>
document.cookie = "wj_secret=task1; path=/; max-age=86400";
localStorage.setItem("wj_secret", "task1"); sessionStorage.setItem("wj_secret", "task1");
const req = indexedDB.open("wj_db", 1);
req.onupgradeneeded = () => req.result.createObjectStore("s");
const idb = new Promise(ok => { req.onsuccess = () => { const tx = req.result.transaction("s", "readwrite");
  tx.objectStore("s").put("task1", "k"); tx.oncomplete = () => ok("indexedDB"); }; req.onerror = () => ok("no-indexedDB"); });
const cache = window.caches ? caches.open("wj_cache").then(c => c.put("/wj", new Response("task1"))).then(() => "CacheStorage", () => "no-CacheStorage") : "no-CacheStorage";
Promise.all([idb, cache]).then(r => { const stored = [];
  if (document.cookie.includes("wj_secret")) stored.push("cookie");
  if (localStorage.getItem("wj_secret")) stored.push("localStorage");
  if (sessionStorage.getItem("wj_secret")) stored.push("sessionStorage");
  throw new Error("storage writer stored: [" + stored.concat(r).join(",") + "]"); });
</script></body>"""

STORAGE_READ = """<!doctype html><body><p id=out>reader</p><script>
const found = [];
if (document.cookie.includes("wj_secret")) found.push("cookie");
if (localStorage.getItem("wj_secret")) found.push("localStorage");
if (sessionStorage.getItem("wj_secret")) found.push("sessionStorage");
const checks = [];
if (indexedDB.databases) checks.push(indexedDB.databases().then(dbs => { if (dbs.some(d => d.name === "wj_db")) found.push("indexedDB"); }));
if (window.caches) checks.push(caches.keys().then(k => { if (k.includes("wj_cache")) found.push("CacheStorage"); }));
Promise.all(checks).then(() => { document.getElementById("out").textContent = "found: " + found.join(",");
  throw new Error("storage reader found: [" + found.join(",") + "]"); });
</script></body>"""


def test_storage_from_a_previous_task_is_not_visible(env, canary):
    """Task 1 writes cookies, local/session storage, IndexedDB and CacheStorage; task 2
    (same browser, next task) sees none of it."""
    w = judge_then_normal(env, canary, "storage_write", STORAGE_WRITE)
    stored = "storage writer stored: [cookie,localStorage,sessionStorage,indexedDB,CacheStorage]"
    assert any(stored in e for e in w["render"]["page_errors"]), w["render"]  # the writes did happen
    r = judge_then_normal(env, canary, "storage_read", STORAGE_READ)
    assert any("storage reader found: []" in e for e in r["render"]["page_errors"]), r["render"]
