"""The sandbox: a page cannot reach the network, loopback or the host's files, and
every attempt is logged; dialogs, popups and navigation are contained."""
from __future__ import annotations

import pytest

from tests.helpers.canary import Canary


@pytest.fixture(scope="module")
def canary():
    with Canary() as c:
        yield c


def attack_page(canary_url: str) -> str:
    return f"""<!doctype html><html><head>
<link rel="stylesheet" href="https://evil.example/steal.css">
<link rel="stylesheet" href="{canary_url}/link.css">
<style>body {{ background-image: url("{canary_url}/css-url.png"); }}</style>
</head><body><h1 id=h>attack</h1>
<img src="{canary_url}/img.png"><img src="https://evil.example/x.png"><img src="file:///etc/passwd">
<iframe src="file:///etc/passwd"></iframe><iframe src="{canary_url}/frame.html"></iframe>
<script>
window.results = {{}};
const tryit = async (name, f) => {{ try {{ results[name] = String(await f()).slice(0, 80); }} catch (e) {{ results[name] = 'blocked: ' + e.name; }} }};
Promise.all([
  tryit('fetch_outside', () => fetch('https://example.com/').then(r => r.text())),
  tryit('fetch_loopback', () => fetch('{canary_url}/fetch').then(r => r.text())),
  tryit('fetch_file', () => fetch('file:///etc/passwd').then(r => r.text())),
  tryit('xhr_loopback', () => new Promise((ok, bad) => {{ const x = new XMLHttpRequest(); x.open('GET', '{canary_url}/xhr');
      x.onload = () => ok(x.responseText); x.onerror = () => bad(new Error('xhr')); x.send(); }})),
  tryit('websocket', () => new Promise((ok, bad) => {{ const w = new WebSocket('ws://127.0.0.1:{canary_url.rsplit(":", 1)[1]}/ws');
      w.onopen = () => ok('open'); w.onerror = () => bad(new Error('ws')); w.onclose = () => bad(new Error('ws closed')); }})),
  tryit('beacon', () => navigator.sendBeacon('{canary_url}/beacon', 'x')),
  tryit('service_worker', () => navigator.serviceWorker ? navigator.serviceWorker.register('/sw.js') : 'unavailable'),
]).then(() => {{ window.done = true; }});
alert('hi'); confirm('sure?'); prompt('name?');
window.open('https://evil.example/popup');
</script></body></html>"""


def test_page_cannot_reach_network_loopback_or_files(browser, run, canary):
    async def go():
        async with browser.session(attack_page(canary.url)) as s:
            await s.load()
            for i in range(1, 40):
                await s.advance_to(i * 50)
                if await s.evaluate("() => window.done === true"):
                    break
            return await s.evaluate("() => window.results"), s.log

    results, log = run(go())
    assert canary.hits == [], f"the canary was reached: {canary.hits}"
    for name in ("fetch_outside", "fetch_loopback", "fetch_file", "xhr_loopback", "websocket"):
        assert results[name].startswith("blocked"), results
    # sendBeacon only queues (returns true); the canary check above shows nothing left.
    # Service workers are blocked: registration yields no registration object.
    assert "ServiceWorkerRegistration" not in results["service_worker"], results
    blocked = "\n".join(log.blocked)
    for needle in ("https://evil.example/steal.css", f"{canary.url}/link.css", f"{canary.url}/img.png",
                   "https://example.com/", f"{canary.url}/fetch", f"{canary.url}/xhr", "ws://127.0.0.1"):
        assert needle in blocked, f"{needle} not in the blocked log:\n{blocked}"
    # file:// never loads (Chromium refuses it from a web origin; it is recorded as a console error)
    assert any("file:///etc/passwd" in e or "Not allowed to load local resource" in e for e in log.console_errors + log.blocked)
    assert [d.split(":")[0] for d in log.dialogs] == ["alert", "confirm", "prompt"]
    assert len(log.popups) == 1


def test_navigation_away_is_recorded(browser, run):
    html = "<a id=a href='https://evil.example/away'>go</a><script>setTimeout(()=>location.href='/other.html', 100)</script>"

    async def go():
        async with browser.session(html) as s:
            await s.load()
            try:
                await s.advance_to(200)
                await s.evaluate("() => 1")
            except Exception:
                pass
        return s.log

    log = run(go())
    assert any("other.html" in n for n in log.navigations), log.navigations


def test_assets_served_from_virtual_origin_without_escape(browser, run, tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>")
    (tmp_path / "secret.txt").write_text("secret")
    html = """<img id=i src="assets/logo.svg"><script>
    window.r = {}; fetch('assets/../secret.txt').then(x => r.up = x.status);
    fetch('assets/%2e%2e/secret.txt').then(x => r.enc = x.status);</script>"""

    async def go():
        async with browser.session(html, folders={"assets/": assets}) as s:
            await s.load()
            await s.advance_to(100)
            ok = await s.evaluate("() => document.getElementById('i').naturalWidth")
            return ok, await s.evaluate("() => window.r"), s.log

    width, r, log = run(go())
    assert width == 10
    assert r == {"up": 404, "enc": 404}
    assert any(u.endswith("/assets/logo.svg") for u in log.served)


def test_uncaught_errors_and_console_errors_are_recorded(browser, run):
    html = "<script>console.error('boom-console'); setTimeout(()=>{throw new Error('boom-timer')}, 10); null.x;</script>"

    async def go():
        async with browser.session(html) as s:
            await s.load()
            await s.advance_to(50)
            await s.collect_errors()
            return s.log

    log = run(go())
    assert any("boom-console" in e for e in log.console_errors)
    assert any("null" in e for e in log.page_errors)
    assert any("boom-timer" in e for e in log.page_errors)


def test_hanging_script_is_a_page_error_and_browser_recovers(browser, run):
    from judge.browser.runtime import PageError

    html = "<script>setTimeout(()=>{ while(true){} }, 10)</script>"

    async def go():
        async with browser.session(html, timeout_s=3) as s:
            await s.load()
            with pytest.raises(PageError, match="did not respond"):
                await s.advance_to(100)
        async with browser.session("<p>ok</p>") as s:  # the next task still works
            await s.load()
            return await s.evaluate("() => document.body.textContent")

    assert run(go()) == "ok"
