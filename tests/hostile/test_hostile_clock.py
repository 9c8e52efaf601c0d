"""The virtual clock under load: the timer queue (a heap since the hostile-page work) runs
callbacks in exactly the documented order -- by due time, ties by scheduling order,
intervals rescheduled before their callback runs -- checked against a reference model on
a random program of timeouts, intervals, clears and timers created inside callbacks;
and thousands of intervals stay cheap."""
from __future__ import annotations

import json
import random
import time

MAX_CALLBACKS = 200000


def program(seed: int, n: int = 60) -> list[dict]:
    rnd = random.Random(seed)
    prog = []
    for i in range(n):
        spec = {"label": f"t{i}", "delay": rnd.choice([0, 0, 1, 5, 10, 10, 33, 50, 100, 250]),
                "interval": rnd.random() < 0.3, "then": []}
        for _ in range(rnd.choice([0, 0, 1, 2])):
            if rnd.random() < 0.5:
                spec["then"].append({"add": {"label": f"t{i}.{len(spec['then'])}", "delay": rnd.choice([0, 1, 7, 10, 40]),
                                             "interval": False, "then": []}})
            else:
                spec["then"].append({"clear": f"t{rnd.randrange(n)}"})
        prog.append(spec)
    return prog


PAGE = """<script>
window.fired = [];
const ids = {};
function schedule(spec) {
  const fn = () => {
    fired.push(spec.label + "@" + performance.now());
    for (const step of spec.then) {
      if (step.add) schedule(step.add);
      else if (ids[step.clear] !== undefined) clearTimeout(ids[step.clear]);
    }
    if (spec.interval && fired.filter((f) => f.startsWith(spec.label + "@")).length >= 3) clearInterval(ids[spec.label]);
  };
  ids[spec.label] = spec.interval ? setInterval(fn, spec.delay) : setTimeout(fn, spec.delay);
}
for (const spec of PROGRAM) schedule(spec);
</script>"""


def model(prog: list[dict], steps: list[float]) -> list[str]:
    """The documented semantics, written plainly (a linear scan, as clock.js did before)."""
    now, seq, next_id = 0.0, 0, 1
    timers: dict[int, dict] = {}
    ids: dict[str, int] = {}
    fired: list[str] = []

    def schedule(spec):
        nonlocal seq, next_id
        delay = float(spec["delay"])
        if spec["interval"] and delay < 1:
            delay = 1.0
        tid = next_id
        next_id += 1
        timers[tid] = {"due": now + delay, "seq": seq, "interval": delay if spec["interval"] else None, "spec": spec}
        seq += 1
        ids[spec["label"]] = tid

    def fire(spec):
        fired.append(f"{spec['label']}@{now:g}")
        for step in spec["then"]:
            if "add" in step:
                schedule(step["add"])
            elif step["clear"] in ids:
                timers.pop(ids[step["clear"]], None)
        if spec["interval"] and sum(1 for f in fired if f.startswith(spec["label"] + "@")) >= 3:
            timers.pop(ids[spec["label"]], None)

    for spec in prog:
        schedule(spec)
    for target in steps:
        while True:
            due = [(t["due"], t["seq"], tid) for tid, t in timers.items() if t["due"] <= target]
            if not due:
                break
            _, _, tid = min(due)
            t = timers[tid]
            now = max(now, t["due"])
            if t["interval"] is not None:
                t["due"] += t["interval"]
                t["seq"] = seq
                seq += 1
            else:
                del timers[tid]
            fire(t["spec"])
        now = target
    return fired


def test_timer_order_matches_the_reference_model(browser, run):
    steps = [i * 1000 / 30 for i in range(1, 16)]
    for seed in (1, 2, 3):
        prog = program(seed)
        html = PAGE.replace("PROGRAM", json.dumps(prog))

        async def go():
            async with browser.session(html) as s:
                await s.load()
                for t in steps:
                    await s.advance_to(t)
                return await s.run_js("window.fired")

        got = [f.split("@")[0] + "@" + format(float(f.split("@")[1]), "g") for f in run(go())]
        assert got == model(prog, steps), f"seed {seed}"


def test_thousands_of_intervals_stay_cheap(browser, run):
    html = """<script>window.n = 0; for (let i = 0; i < 5000; i++) setInterval(() => { n++; }, 1);</script>"""

    async def go():
        async with browser.session(html) as s:
            await s.load()
            t0 = time.perf_counter()
            await s.advance_to(30)  # 5000 intervals x 30 ticks = 150000 callbacks
            took = time.perf_counter() - t0
            await s.collect_errors()
            return await s.run_js("window.n"), took, s.log.page_errors

    n, took, errors = run(go())
    assert n == 150000 and not errors
    assert took < 5.0, f"150000 timer callbacks took {took:.1f} s"


TAMPER = """<div id=b style="position:absolute;left:0;width:10px;height:10px;animation:s 1s linear infinite"></div>
<style>@keyframes s { to { transform: translateX(240px); } }</style><script>
"use strict";
window.fired = "";   // a string: the page's own arrays break once it tampers with them
setTimeout(() => { fired += "before@" + performance.now() + " "; }, 500);   // scheduled before the tampering
setInterval(() => { fired += "tick@" + performance.now() + " "; }, 250);
const T = (n) => function () { throw new Error("tampered " + n); };
setTimeout(() => {
  const AP = Array.prototype;
  for (const k of ["push", "slice", "splice", "map", "forEach", "filter", "indexOf", "concat"]) AP[k] = T(k);
  for (const k of ["get", "set", "has", "delete", "forEach"]) { Map.prototype[k] = T(k); WeakMap.prototype[k] = T(k); }
  Object.defineProperty(AP, "0", { set: T("index setter"), configurable: true });
  AP[Symbol.iterator] = T("iterator");
  window.Map = T("Map"); Math.max = () => NaN; Math.floor = () => NaN; Number = T("Number");
  Object.defineProperty(Promise.prototype, "constructor", { get: T("species") }); Promise.prototype.then = T("then");
  Function.prototype.call = T("call"); Function.prototype.apply = T("apply"); Reflect.apply = T("Reflect.apply");
  Object.defineProperty = T("defineProperty"); Object.freeze = T("freeze");
  Document.prototype.getAnimations = T("getAnimations"); Animation.prototype.pause = T("pause");
  console.error = T("console.error");
  try { window.__webjudge.advanceTo = () => 0; } catch (e) { window.fired += "frozen "; }
  window.fired += "tampered ";
}, 100);
</script>"""


def test_a_page_cannot_break_advance_to(browser, run):
    """After the page rewrote the built-ins clock.js uses, virtual time, timers, CSS
    animations, frames, screenshots and error collection still work exactly."""

    async def go():
        async with browser.session(TAMPER) as s:
            await s.load()
            out = []
            for t in (0, 100, 200, 250, 500, 750):
                got = await s.advance_to(t)
                x = await s.run_js("new DOMMatrix(getComputedStyle(document.getElementById('b')).transform).m41")
                out.append((got, round(x, 3)))
            await s.screenshot()
            await s.collect_errors()
            fired = await s.run_js("window.fired")
            return out, fired, s.log

    out, fired, log = run(go())
    assert [o[0] for o in out] == [0, 100, 200, 250, 500, 750]
    assert [o[1] for o in out] == [0, 24, 48, 60, 120, 180]   # translateX(240px) over 1 s, linear
    assert fired.split() == ["frozen", "tampered", "tick@250", "before@500", "tick@500", "tick@750"]
    assert not any("tampered" in e for e in log.page_errors), log.page_errors   # nothing of the judge's broke
