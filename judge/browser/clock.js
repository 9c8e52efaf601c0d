// webjudge virtual clock: injected before any page script (Playwright add_init_script).
//
// Time moves only when the judge calls window.__webjudge.advanceTo(ms):
// - Date, performance.now, setTimeout/setInterval, requestAnimationFrame,
//   requestIdleCallback run on virtual milliseconds since page start;
// - every CSS animation/transition and Web Animation is paused and seeked to
//   (virtual time since it first appeared) x playbackRate, respecting page calls to
//   play/pause/currentTime/reverse/finish/cancel;
// - SVG SMIL documents are paused and seeked with setCurrentTime;
// - Math.random and crypto.getRandomValues are seeded, so "random" pages repeat.
// The controller lives in a closure; the page sees only a frozen window.__webjudge
// (non-writable, non-configurable) and cannot reach the saved originals.
(() => {
  "use strict";
  if (window.__webjudge) return;
  const EPOCH = 1704067200000; // 2024-01-01T00:00:00Z: fixed wall clock at virtual t=0
  const MAX_CALLBACKS_PER_ADVANCE = 200000;
  const RealDate = Date;
  const realPerfNow = performance.now.bind(performance);
  const realRaf = window.requestAnimationFrame.bind(window);
  const origDefine = Object.defineProperty;
  const AnimProto = typeof Animation !== "undefined" ? Animation.prototype : null;
  const orig = AnimProto ? {
    play: AnimProto.play, pause: AnimProto.pause, reverse: AnimProto.reverse,
    finish: AnimProto.finish, cancel: AnimProto.cancel,
    ctGet: Object.getOwnPropertyDescriptor(AnimProto, "currentTime").get,
    ctSet: Object.getOwnPropertyDescriptor(AnimProto, "currentTime").set,
    rateGet: Object.getOwnPropertyDescriptor(AnimProto, "playbackRate").get,
  } : null;
  const docGetAnimations = Document.prototype.getAnimations;
  const elAnimate = Element.prototype.animate;
  const qsa = Document.prototype.querySelectorAll;
  const svgPause = typeof SVGSVGElement !== "undefined" ? SVGSVGElement.prototype.pauseAnimations : null;
  const svgSet = typeof SVGSVGElement !== "undefined" ? SVGSVGElement.prototype.setCurrentTime : null;
  const errors = [];

  let now = 0;          // virtual ms since page start
  let nextId = 1;
  let seq = 0;          // insertion order, breaks ties between timers due at the same time
  const timers = new Map();   // id -> {due, fn, args, interval, seq}
  let rafQueue = new Map();   // id -> fn
  const anims = new WeakMap(); // Animation -> {base, anchor, paused}
  const svgs = new WeakMap();  // SVGSVGElement -> t0 (virtual ms)
  let firstSeen = [];          // [virtual ms] when animations first appeared (diagnostics)

  // ---- seeded randomness (mulberry32) ----
  let seed = 0x9e3779b9;
  function rand() {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  Math.random = rand;
  if (window.crypto && crypto.getRandomValues) {
    const grv = function getRandomValues(arr) {
      if (!ArrayBuffer.isView(arr)) throw new TypeError("getRandomValues: expected a typed array");
      const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (rand() * 256) | 0;
      return arr;
    };
    try { origDefine(Crypto.prototype, "getRandomValues", { value: grv, configurable: true, writable: true }); } catch (e) {}
    try { origDefine(Crypto.prototype, "randomUUID", { value: function randomUUID() {
      const b = grv(new Uint8Array(16)); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
      const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }, configurable: true, writable: true }); } catch (e) {}
  }

  // ---- Date and performance.now ----
  function VDate(...args) {
    if (!new.target) return new RealDate(EPOCH + now).toString();
    return args.length ? new RealDate(...args) : new RealDate(EPOCH + now);
  }
  VDate.prototype = RealDate.prototype;
  VDate.now = () => EPOCH + Math.floor(now);
  VDate.parse = RealDate.parse;
  VDate.UTC = RealDate.UTC;
  origDefine(VDate, "name", { value: "Date" });
  window.Date = VDate;
  try { origDefine(RealDate.prototype, "constructor", { value: VDate, writable: true, configurable: true }); } catch (e) {}
  performance.now = () => now;
  try { origDefine(performance, "timeOrigin", { get: () => EPOCH, configurable: true }); } catch (e) {}

  // ---- timers ----
  function addTimer(fn, delay, args, repeat) {
    const id = nextId++;
    delay = Number(delay) || 0;
    if (!(delay >= 0)) delay = 0;
    if (repeat) delay = Math.max(delay, 1); // an interval of 0 still advances time
    timers.set(id, { due: now + delay, fn, args, interval: repeat ? delay : null, seq: seq++ });
    return id;
  }
  window.setTimeout = function setTimeout(fn, delay, ...args) { return addTimer(fn, delay, args, false); };
  window.setInterval = function setInterval(fn, delay, ...args) { return addTimer(fn, delay, args, true); };
  window.clearTimeout = window.clearInterval = function clearTimer(id) { timers.delete(id); };
  window.requestAnimationFrame = function requestAnimationFrame(fn) { const id = nextId++; rafQueue.set(id, fn); return id; };
  window.cancelAnimationFrame = function cancelAnimationFrame(id) { rafQueue.delete(id); };
  window.requestIdleCallback = function requestIdleCallback(fn) {
    return addTimer(() => fn({ didTimeout: false, timeRemaining: () => 50 }), 1, [], false);
  };
  window.cancelIdleCallback = window.clearTimeout;

  function report(where, e) {
    errors.push(`${where}: ${e && e.stack ? String(e.stack).split("\n")[0] : String(e)}`);
    // surface to the page's error reporting like a real uncaught exception
    try { console.error(`Uncaught (in ${where})`, e); } catch (_) {}
  }
  function runTimer(id, t) {
    if (t.interval !== null) { t.due += t.interval; t.seq = seq++; } else timers.delete(id);
    try {
      if (typeof t.fn === "function") t.fn.apply(window, t.args);
      else (0, eval)(String(t.fn));
    } catch (e) { report("timer", e); }
  }
  function nextDue(limit) {
    let best = null, bestId = null;
    for (const [id, t] of timers) {
      if (t.due <= limit && (best === null || t.due < best.due || (t.due === best.due && t.seq < best.seq))) { best = t; bestId = id; }
    }
    return bestId === null ? null : [bestId, best];
  }

  // ---- animations ----
  function rate(a) { try { return orig.rateGet.call(a); } catch (e) { return 1; } }
  function state(a, create) {
    let s = anims.get(a);
    if (!s && create) {
      let paused = false;
      try { paused = a.playState === "paused"; } catch (e) {}
      const ct = orig.ctGet.call(a);
      s = { base: paused && ct !== null ? ct : 0, anchor: now, paused };
      anims.set(a, s);
      firstSeen.push(now);
      try { orig.pause.call(a); } catch (e) {}
    }
    return s;
  }
  function position(a, s) { return s.paused ? s.base : s.base + (now - s.anchor) * rate(a); }
  function rebase(a) { // after a page call changed the animation: keep its current position
    const s = state(a, true);
    let ct = null;
    try { ct = orig.ctGet.call(a); } catch (e) {}
    s.base = ct === null ? 0 : ct; s.anchor = now;
    try { if (a.playState !== "paused") { s.paused = false; orig.pause.call(a); } } catch (e) {}
  }
  if (AnimProto) {
    // bring a running animation to the virtual present before the page looks at or changes it
    const sync = (a) => { const s = anims.get(a); if (s && !s.paused) { try { orig.ctSet.call(a, position(a, s)); } catch (e) {} } };
    const wrap = (name, after) => {
      const f = orig[name];
      origDefine(AnimProto, name, { value: function (...args) { sync(this); const r = f.apply(this, args); after(this); return r; }, configurable: true, writable: true });
    };
    wrap("play", (a) => { const s = state(a, true); s.base = orig.ctGet.call(a) ?? 0; s.anchor = now; s.paused = false; orig.pause.call(a); });
    wrap("pause", (a) => { const s = state(a, true); s.base = orig.ctGet.call(a) ?? s.base; s.anchor = now; s.paused = true; });
    wrap("reverse", (a) => { const s = state(a, true); s.base = orig.ctGet.call(a) ?? 0; s.anchor = now; s.paused = false; orig.pause.call(a); });
    wrap("finish", (a) => rebase(a));
    wrap("cancel", (a) => anims.delete(a));
    origDefine(AnimProto, "currentTime", {
      get: function () { sync(this); return orig.ctGet.call(this); },
      set: function (v) { orig.ctSet.call(this, v); const s = state(this, true); s.base = v === null ? 0 : v; s.anchor = now; },
      configurable: true,
    });
    origDefine(Element.prototype, "animate", { value: function animate(...args) {
      const a = elAnimate.apply(this, args); state(a, true); return a;
    }, configurable: true, writable: true });
  }
  function seekAll() {
    let list = [];
    try { list = docGetAnimations.call(document); } catch (e) {}
    for (const a of list) {
      const s = state(a, true);
      try { orig.ctSet.call(a, position(a, s)); } catch (e) {}
    }
    if (svgSet) {
      let svgList = [];
      try { svgList = qsa.call(document, "svg"); } catch (e) {}
      for (const svg of svgList) {
        if (svg.ownerSVGElement) continue; // only outermost <svg> own a timeline
        if (!svgs.has(svg)) svgs.set(svg, now);
        try { svgPause.call(svg); svgSet.call(svg, (now - svgs.get(svg)) / 1000); } catch (e) {}
      }
    }
  }

  // ---- the judge's controls ----
  function runFrame() {
    const q = rafQueue; rafQueue = new Map();
    for (const fn of q.values()) { try { fn(now); } catch (e) { report("requestAnimationFrame", e); } }
  }
  function advanceTo(target) {
    if (!(target >= now)) target = now;
    seekAll();
    let n = 0;
    for (;;) {
      const next = nextDue(target);
      if (!next) break;
      if (++n > MAX_CALLBACKS_PER_ADVANCE) { errors.push(`timer storm: more than ${MAX_CALLBACKS_PER_ADVANCE} timer callbacks in one step`); break; }
      now = Math.max(now, next[1].due);
      runTimer(next[0], next[1]);
      seekAll();
    }
    now = target;
    runFrame();
    seekAll();
    return now;
  }
  const api = Object.freeze({
    version: 1,
    advanceTo,
    advance: (ms) => advanceTo(now + ms),
    now: () => now,
    pending: () => ({ timers: timers.size, frames: rafQueue.size }),
    takeErrors: () => errors.splice(0, errors.length),
    firstSeen: () => firstSeen.slice(),
    realElapsed: () => realPerfNow(),
    // resolves once the browser has produced n real frames (the compositor caught up)
    frames: (n) => new Promise((res) => { const k = (i) => (i <= 0 ? res(true) : realRaf(() => k(i - 1))); k(n || 1); }),
  });
  origDefine(window, "__webjudge", { value: api, writable: false, configurable: false, enumerable: false });
})();
