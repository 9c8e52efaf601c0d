// webjudge virtual clock: injected before any page script (Playwright add_init_script).
//
// Time moves only when the judge calls window.__webjudge.advanceTo(ms):
// - Date, performance.now, setTimeout/setInterval, requestAnimationFrame,
//   requestIdleCallback run on virtual milliseconds since page start;
// - every CSS animation/transition and Web Animation is paused and seeked to
//   (virtual time since it first appeared) x playbackRate, respecting page calls to
//   play/pause/currentTime/reverse/finish/cancel; once virtual time passes the end of a
//   finite one it is finished for real (its `finished` promise resolves, `finish`,
//   `animationend` and `transitionend` fire), as libraries that wait for them expect;
//   animations inside shadow trees (open or closed) included;
// - SVG SMIL documents are paused and seeked with setCurrentTime;
// - Math.random and crypto.getRandomValues are seeded, so "random" pages repeat.
// The controller lives in a closure; the page sees only a frozen window.__webjudge
// (non-writable, non-configurable) and cannot reach the saved originals.
//
// Hostile pages: everything the controller calls after start-up (Map and WeakMap
// methods, Reflect.apply, Math, Object.defineProperty, Promise, the Animation/SVG/DOM
// accessors, console.error) is captured here, before any page script runs, and called
// through the captured references; lists are arrays without a prototype, so a page
// that redefines Array.prototype, Map, Math.max, Promise, Function.prototype.call or
// puts setters on Object/Array prototypes cannot break advanceTo.
//
// Sandbox helpers: alert/confirm/prompt/print are answered here without blocking the
// renderer (as a dismissed dialog: undefined/false/null), and window.open is wrapped to
// note what was asked; both are reported to the judge through takeEvents().
(() => {
  "use strict";
  if (window.__webjudge) return;
  // ---- primordials (captured before any page script) ----
  const apply = Reflect.apply;
  const construct = Reflect.construct;
  const getOwnDesc = Object.getOwnPropertyDescriptor;
  const setProto = Object.setPrototypeOf;
  const freeze = Object.freeze;
  const origDefine = Object.defineProperty;
  const getter = (obj, name) => { const d = obj && getOwnDesc(obj, name); return d ? d.get : undefined; };
  const MapCtor = Map, WeakMapCtor = WeakMap, P = Promise;
  const mapGet = Map.prototype.get, mapSet = Map.prototype.set, mapDelete = Map.prototype.delete;
  const mapForEach = Map.prototype.forEach, mapSize = getter(Map.prototype, "size");
  const wmGet = WeakMap.prototype.get, wmSet = WeakMap.prototype.set, wmHas = WeakMap.prototype.has;
  const wmDelete = WeakMap.prototype.delete;
  const arraySlice = Array.prototype.slice;
  const mathFloor = Math.floor, mathImul = Math.imul;
  const NumberCtor = Number, StringCtor = String, globalEval = eval;
  const strIndexOf = String.prototype.indexOf, strSlice = String.prototype.slice;
  const consoleError = console.error, consoleObj = console;
  const addListener = EventTarget.prototype.addEventListener;
  const preventDefault = Event.prototype.preventDefault;
  const eventTarget = getter(Event.prototype, "target");
  const objectKeys = Object.keys;
  const isView = ArrayBuffer.isView, U8 = Uint8Array;

  const EPOCH = 1704067200000; // 2024-01-01T00:00:00Z: fixed wall clock at virtual t=0
  const MAX_CALLBACKS_PER_ADVANCE = 200000;
  const MAX_LIST = 500;        // entries kept in errors/events between two takes
  const MAX_CONSOLE = 1000;    // console calls and uncaught errors passed on to the judge per document
  const RealDate = Date;
  const dateToString = Date.prototype.toString;
  const realPerfNow = performance.now.bind(performance);
  const realRaf = window.requestAnimationFrame.bind(window);
  const AnimProto = typeof Animation !== "undefined" ? Animation.prototype : null;
  const orig = AnimProto ? {
    play: AnimProto.play, pause: AnimProto.pause, reverse: AnimProto.reverse,
    finish: AnimProto.finish, cancel: AnimProto.cancel,
    ctGet: getter(AnimProto, "currentTime"),
    ctSet: getOwnDesc(AnimProto, "currentTime").set,
    rateGet: getter(AnimProto, "playbackRate"),
    stateGet: getter(AnimProto, "playState"),
    effectGet: getter(AnimProto, "effect"),
    timing: typeof AnimationEffect !== "undefined" ? AnimationEffect.prototype.getComputedTiming : null,
  } : null;
  const docGetAnimations = Document.prototype.getAnimations;
  // Document.getAnimations() does not list animations inside shadow trees: note every
  // shadow root as it is attached (open or closed) and ask each one too
  const rootGetAnimations = typeof ShadowRoot !== "undefined" ? ShadowRoot.prototype.getAnimations : null;
  const origAttachShadow = Element.prototype.attachShadow;
  const shadowRoots = [];
  if (origAttachShadow && rootGetAnimations) {
    origDefine(Element.prototype, "attachShadow", { value: function attachShadow(...args) {
      const r = apply(origAttachShadow, this, args);
      shadowRoots[shadowRoots.length] = r;
      return r;
    }, configurable: true, writable: true });
  }
  const elAnimate = Element.prototype.animate;
  const getByTag = Document.prototype.getElementsByTagName;
  const collLength = getter(HTMLCollection.prototype, "length");
  const collItem = HTMLCollection.prototype.item;
  const hasSvg = typeof SVGSVGElement !== "undefined";
  const svgPause = hasSvg ? SVGSVGElement.prototype.pauseAnimations : null;
  const svgSet = hasSvg ? SVGSVGElement.prototype.setCurrentTime : null;
  const svgOwner = hasSvg ? getter(SVGElement.prototype, "ownerSVGElement") : null;
  const docFonts = getter(Document.prototype, "fonts");
  const docReadyState = getter(Document.prototype, "readyState");
  const fontsStatus = typeof FontFaceSet !== "undefined" ? getter(FontFaceSet.prototype, "status") : undefined;
  const winOpen = window.open;
  const activation = navigator.userActivation || null;
  const activationActive = typeof UserActivation !== "undefined" ? getter(UserActivation.prototype, "isActive") : undefined;
  const hasGesture = () => { try { return !activation || !activationActive || apply(activationActive, activation, []); } catch (e) { return true; } };

  // a list the page cannot reach through Array.prototype (no prototype, no setters)
  const list = () => setProto([], null);
  function push(arr, v, max) { // arr has no prototype: plain index assignment cannot reach a setter
    if (arr.length < (max || MAX_LIST)) arr[arr.length] = v;
    else if (!max) dropped++;
  }
  function take(arr) { const out = apply(arraySlice, arr, [0]); arr.length = 0; return out; }
  function str(v, max) {
    let s;
    try { s = typeof v === "string" ? v : StringCtor(v); } catch (e) { s = "<unprintable>"; }
    return s.length > max ? apply(strSlice, s, [0, max]) : s;
  }
  function firstLine(s) { const i = apply(strIndexOf, s, ["\n"]); return i < 0 ? s : apply(strSlice, s, [0, i]); }

  const errors = list();
  const events = list();       // [kind, text]: dialogs and popups the page asked for
  let dropped = 0;

  let now = 0;          // virtual ms since page start
  let nextId = 1;
  let seq = 0;          // insertion order, breaks ties between timers due at the same time
  const timers = new MapCtor();   // id -> {due, fn, args, interval, seq}
  let rafQueue = new MapCtor();   // id -> fn
  const anims = new WeakMapCtor(); // Animation -> {base, anchor, paused}
  const svgs = new WeakMapCtor();  // SVGSVGElement -> t0 (virtual ms)
  const firstSeen = list();        // [virtual ms] when animations first appeared (diagnostics)

  // ---- seeded randomness (mulberry32) ----
  let seed = 0x9e3779b9;
  function rand() {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = mathImul(t ^ (t >>> 15), t | 1);
    t ^= t + mathImul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  Math.random = rand;
  if (window.crypto && crypto.getRandomValues) {
    const grv = function getRandomValues(arr) {
      if (!isView(arr)) throw new TypeError("getRandomValues: expected a typed array");
      const bytes = new U8(arr.buffer, arr.byteOffset, arr.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (rand() * 256) | 0;
      return arr;
    };
    const hex = "0123456789abcdef";
    try { origDefine(Crypto.prototype, "getRandomValues", { value: grv, configurable: true, writable: true }); } catch (e) {}
    try { origDefine(Crypto.prototype, "randomUUID", { value: function randomUUID() {
      const b = grv(new U8(16)); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
      let h = "";
      for (let i = 0; i < 16; i++) h += hex[b[i] >> 4] + hex[b[i] & 15];
      return `${apply(strSlice, h, [0, 8])}-${apply(strSlice, h, [8, 12])}-${apply(strSlice, h, [12, 16])}-` +
             `${apply(strSlice, h, [16, 20])}-${apply(strSlice, h, [20])}`;
    }, configurable: true, writable: true }); } catch (e) {}
  }

  // ---- Date and performance.now ----
  function VDate(...args) {
    if (!new.target) return apply(dateToString, new RealDate(EPOCH + now), []);
    return args.length ? construct(RealDate, args, new.target) : construct(RealDate, [EPOCH + now], new.target);
  }
  VDate.prototype = RealDate.prototype;
  VDate.now = () => EPOCH + mathFloor(now);
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
    try { delay = NumberCtor(delay) || 0; } catch (e) { delay = 0; }
    if (!(delay >= 0)) delay = 0;
    if (repeat && delay < 1) delay = 1; // an interval of 0 still advances time
    const t = { id, due: now + delay, fn, args, interval: repeat ? delay : null, seq: seq++, live: true };
    apply(mapSet, timers, [id, t]);
    heapPush(t);
    return id;
  }
  window.setTimeout = function setTimeout(fn, delay, ...args) { return addTimer(fn, delay, args, false); };
  window.setInterval = function setInterval(fn, delay, ...args) { return addTimer(fn, delay, args, true); };
  window.clearTimeout = window.clearInterval = function clearTimer(id) {
    const t = apply(mapGet, timers, [id]);
    if (t) { t.live = false; apply(mapDelete, timers, [id]); }
  };
  window.requestAnimationFrame = function requestAnimationFrame(fn) { const id = nextId++; apply(mapSet, rafQueue, [id, fn]); return id; };
  window.cancelAnimationFrame = function cancelAnimationFrame(id) { apply(mapDelete, rafQueue, [id]); };
  window.requestIdleCallback = function requestIdleCallback(fn) {
    return addTimer(() => fn({ didTimeout: false, timeRemaining: () => 50 }), 1, [], false);
  };
  window.cancelIdleCallback = window.clearTimeout;

  function report(where, e) {
    let text;
    try { text = e && typeof e === "object" && e.stack ? firstLine(str(e.stack, 2000)) : str(e, 2000); } catch (_) { text = "<unprintable error>"; }
    push(errors, `${where}: ${text}`);
    // surface to the page's error reporting like a real uncaught exception
    if (++consoleCalls <= MAX_CONSOLE) { try { apply(consoleError, consoleObj, [`Uncaught (in ${where})`, e]); } catch (_) {} }
    else dropped++;
  }

  // ---- floods: console spam and uncaught-error storms ----
  // Every console call and uncaught error is a DevTools event sent to the judge over the
  // one pipe it shares with everything else; past MAX_CONSOLE per document they are
  // counted (takeEvents "dropped") instead of sent, so a page cannot drown the judge.
  let consoleCalls = 0, uncaught = 0;
  for (const name of objectKeys(consoleObj)) {
    const f = consoleObj[name];
    if (typeof f !== "function") continue;
    try {
      origDefine(consoleObj, name, { value: function (...args) {
        if (++consoleCalls <= MAX_CONSOLE) return apply(f, consoleObj, args);
        dropped++;
      }, writable: true, configurable: true, enumerable: true });
    } catch (e) {}
  }
  const quiet = (e) => {
    try { if (apply(eventTarget, e, []) !== window) return; } catch (_) { return; } // an <img> error, not an uncaught one
    if (++uncaught > MAX_CONSOLE) { dropped++; try { apply(preventDefault, e, []); } catch (_) {} }
  };
  try {
    apply(addListener, window, ["error", quiet, true]);
    apply(addListener, window, ["unhandledrejection", quiet, true]);
  } catch (e) {}
  function runTimer(t) {
    if (t.interval !== null) { t.due += t.interval; t.seq = seq++; heapPush(t); }
    else { t.live = false; apply(mapDelete, timers, [t.id]); }
    try {
      if (typeof t.fn === "function") apply(t.fn, window, t.args);
      else globalEval(str(t.fn, 1 << 20));
    } catch (e) { report("timer", e); }
  }
  // a binary min-heap of timers by (due, seq): the next timer in O(log n), so thousands
  // of intervals cost no more per callback than one; cleared timers are dropped lazily
  const heap = list();
  const before = (a, b) => a.due < b.due || (a.due === b.due && a.seq < b.seq);
  function heapPush(t) {
    let i = heap.length;
    heap[i] = t;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(heap[i], heap[p])) break;
      const x = heap[i]; heap[i] = heap[p]; heap[p] = x; i = p;
    }
  }
  function heapPop() {
    const top = heap[0], last = heap[heap.length - 1];
    heap.length -= 1;
    if (heap.length) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        const x = heap[i]; heap[i] = heap[m]; heap[m] = x; i = m;
      }
    }
    return top;
  }
  function nextDue(limit) { // the next live timer due at or before `limit`, removed from the heap
    while (heap.length) {
      const t = heap[0];
      if (!t.live) { heapPop(); continue; }
      if (t.due > limit) return null;
      return heapPop();
    }
    return null;
  }

  // ---- animations ----
  function rate(a) { try { return apply(orig.rateGet, a, []); } catch (e) { return 1; } }
  function playState(a) { try { return apply(orig.stateGet, a, []); } catch (e) { return null; } }
  function state(a, create) {
    let s = apply(wmGet, anims, [a]);
    if (!s && create) {
      const paused = playState(a) === "paused";
      const ct = apply(orig.ctGet, a, []);
      s = { base: paused && ct !== null ? ct : 0, anchor: now, paused };
      apply(wmSet, anims, [a, s]);
      push(firstSeen, now, 1e6);
      try { apply(orig.pause, a, []); } catch (e) {}
    }
    return s;
  }
  let finishedSinceFrame = false;   // an animation finished: its events are dispatched with the next real frame
  function position(a, s) { return s.paused ? s.base : s.base + (now - s.anchor) * rate(a); }
  function endTime(a) {
    try { const e = apply(orig.effectGet, a, []); return e && orig.timing ? apply(orig.timing, e, []).endTime : Infinity; }
    catch (e) { return Infinity; }
  }
  function seek(a, s) {   // to the virtual present; a finite animation past its end finishes for real
    if (s.done) return;
    const p = position(a, s), r = rate(a);
    if (!s.paused && r !== 0) {
      const end = endTime(a);
      if (end < 1e12 && ((r > 0 && p >= end) || (r < 0 && p <= 0))) {
        s.done = true; finishedSinceFrame = true;
        try { apply(orig.finish, a, []); } catch (e) {}
        return;
      }
    }
    try { apply(orig.ctSet, a, [p]); } catch (e) {}
  }
  function rebase(a) { // after a page call changed the animation: keep its current position
    const s = state(a, true);
    let ct = null;
    try { ct = apply(orig.ctGet, a, []); } catch (e) {}
    s.base = ct === null ? 0 : ct; s.anchor = now;
    try { if (playState(a) !== "paused") { s.paused = false; apply(orig.pause, a, []); } } catch (e) {}
  }
  if (AnimProto) {
    // bring a running animation to the virtual present before the page looks at or changes it
    const sync = (a) => { const s = apply(wmGet, anims, [a]); if (s && !s.paused) seek(a, s); };
    const ct0 = (a, fallback) => { const v = apply(orig.ctGet, a, []); return v === null || v === undefined ? fallback : v; };
    const wrap = (name, after) => {
      const f = orig[name];
      origDefine(AnimProto, name, { value: function (...args) { sync(this); const r = apply(f, this, args); after(this); return r; }, configurable: true, writable: true });
    };
    wrap("play", (a) => { const s = state(a, true); s.done = false; s.base = ct0(a, 0); s.anchor = now; s.paused = false; apply(orig.pause, a, []); });
    wrap("pause", (a) => { const s = state(a, true); s.done = false; s.base = ct0(a, s.base); s.anchor = now; s.paused = true; });
    wrap("reverse", (a) => { const s = state(a, true); s.done = false; s.base = ct0(a, 0); s.anchor = now; s.paused = false; apply(orig.pause, a, []); });
    wrap("finish", (a) => { const s = state(a, true); s.done = true; });
    wrap("cancel", (a) => apply(wmDelete, anims, [a]));
    origDefine(AnimProto, "currentTime", {
      get: function () { sync(this); return apply(orig.ctGet, this, []); },
      set: function (v) { apply(orig.ctSet, this, [v]); const s = state(this, true); s.done = false; s.base = v === null ? 0 : v; s.anchor = now;
        if (playState(this) !== "paused") { s.paused = false; try { apply(orig.pause, this, []); } catch (e) {} } },
      configurable: true,
    });
    origDefine(Element.prototype, "animate", { value: function animate(...args) {
      const a = apply(elAnimate, this, args); state(a, true); return a;
    }, configurable: true, writable: true });
  }
  function seekList(anims_) {
    if (anims_) {
      for (let i = 0; i < anims_.length; i++) {
        const a = anims_[i];
        seek(a, state(a, true));
      }
    }
  }
  function seekAll() {
    let anims_ = null;
    try { anims_ = apply(docGetAnimations, document, []); } catch (e) {}
    seekList(anims_);
    for (let i = 0; i < shadowRoots.length; i++) {
      let list = null;
      try { list = apply(rootGetAnimations, shadowRoots[i], []); } catch (e) {}
      seekList(list);
    }
    if (svgSet) {
      let coll = null, n = 0;
      try { coll = apply(getByTag, document, ["svg"]); n = apply(collLength, coll, []); } catch (e) {}
      for (let i = 0; i < n; i++) {
        let svg = null;
        try { svg = apply(collItem, coll, [i]); } catch (e) {}
        if (!svg) continue;
        try { if (apply(svgOwner, svg, [])) continue; } catch (e) { continue; } // only outermost <svg> own a timeline
        if (!apply(wmHas, svgs, [svg])) apply(wmSet, svgs, [svg, now]);
        try { apply(svgPause, svg, []); apply(svgSet, svg, [(now - apply(wmGet, svgs, [svg])) / 1000]); } catch (e) {}
      }
    }
  }

  // ---- dialogs and popups: answered here, reported to the judge ----
  function note(kind, text) { push(events, [kind, text]); }
  try {
    origDefine(window, "alert", { value: function alert(msg) { note("dialogs", `alert: ${arguments.length ? str(msg, 200) : ""}`); }, writable: true, configurable: true, enumerable: true });
    origDefine(window, "confirm", { value: function confirm(msg) { note("dialogs", `confirm: ${arguments.length ? str(msg, 200) : ""}`); return false; }, writable: true, configurable: true, enumerable: true });
    origDefine(window, "prompt", { value: function prompt(msg) { note("dialogs", `prompt: ${arguments.length ? str(msg, 200) : ""}`); return null; }, writable: true, configurable: true, enumerable: true });
    origDefine(window, "print", { value: function print() { note("dialogs", "print: "); }, writable: true, configurable: true, enumerable: true });
  } catch (e) {}
  if (typeof winOpen === "function") {
    try {
      // without a user gesture Chromium's popup blocker refuses anyway: refuse here, cheaply
      origDefine(window, "open", { value: function open(...args) {
        const w = hasGesture() ? apply(winOpen, window, args) : null;
        if (!w) note("popups", `blocked: ${args.length && args[0] !== undefined && args[0] !== "" ? str(args[0], 300) : "about:blank"}`);
        return w;
      }, writable: true, configurable: true, enumerable: true });
    } catch (e) {}
  }

  // ---- the judge's controls ----
  function runOne(fn) { try { fn(now); } catch (e) { report("requestAnimationFrame", e); } }
  function runFrame() {
    const q = rafQueue; rafQueue = new MapCtor();
    apply(mapForEach, q, [runOne]);
  }
  function advanceTo(target) {
    target = +target;
    if (!(target >= now)) target = now;
    seekAll();
    let n = 0;
    for (;;) {
      const t = nextDue(target);
      if (!t) break;
      if (++n > MAX_CALLBACKS_PER_ADVANCE) {
        heapPush(t); // not run: it stays due
        push(errors, `timer storm: more than ${MAX_CALLBACKS_PER_ADVANCE} timer callbacks in one step`);
        break;
      }
      if (t.due > now) now = t.due;
      runTimer(t);
      seekAll();
    }
    now = target;
    runFrame();
    seekAll();
    return now;
  }
  // a promise the judge awaits: its own `constructor` is undefined, so the engine's
  // then() (used by the DevTools protocol to await it) never looks up a page-defined
  // Promise.prototype.constructor / Symbol.species
  function promise(executor) {
    const p = new P(executor);
    origDefine(p, "constructor", { value: undefined });
    return p;
  }
  function frames(n) {
    finishedSinceFrame = false;
    return promise((res) => { const k = (i) => (i <= 0 ? res(true) : realRaf(() => k(i - 1))); k(n || 1); });
  }
  // advanceTo, then -- if an animation finished on the way -- one real frame, so its
  // finish/animationend/transitionend events and finished promises reach the page
  function step(target) {
    const t = advanceTo(target);
    return finishedSinceFrame ? promise((res) => { finishedSinceFrame = false; realRaf(() => res(t)); }) : t;
  }
  // resolves once web fonts have loaded (polls document.fonts.status each real frame,
  // at most `maxFrames` frames; never calls a page-reachable then())
  function fontsReady(maxFrames) {
    return promise((res) => {
      let fonts = null;
      try { fonts = apply(docFonts, document, []); } catch (e) {}
      if (!fonts || !fontsStatus) { res(true); return; }
      const k = (i) => {
        let st = "loaded";
        try { st = apply(fontsStatus, fonts, []); } catch (e) {}
        if (st === "loaded" || i <= 0) res(st === "loaded"); else realRaf(() => k(i - 1));
      };
      k(maxFrames || 600);
    });
  }
  function takeEvents() {
    const out = take(events);
    if (dropped) { origDefine(out, out.length, { value: ["dropped", `${dropped}`], writable: true, enumerable: true, configurable: true }); dropped = 0; }
    return out;
  }
  const api = freeze({
    version: 2,
    advanceTo,
    step,
    advance: (ms) => advanceTo(now + ms),
    now: () => now,
    pending: () => ({ timers: apply(mapSize, timers, []), frames: apply(mapSize, rafQueue, []) }),
    takeErrors: () => take(errors),
    takeEvents,
    firstSeen: () => apply(arraySlice, firstSeen, [0]),
    realElapsed: () => realPerfNow(),
    // resolves once the browser has produced n real frames (the compositor caught up)
    frames,
    fontsReady,
    readyState: () => apply(docReadyState, document, []),
  });
  origDefine(window, "__webjudge", { value: api, writable: false, configurable: false, enumerable: false });
})();
