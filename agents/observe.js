// webjudge's observer: read-only views of the page for grounding and verification
// (`agents/observe.py` documents the records). Installed before any page script;
// exposes a frozen `window.__wjObs`. Open shadow roots are pierced everywhere: element
// lists, text, paths (a `>>>` segment enters a host's shadow root), hit-testing.
(() => {
  if (window.__wjObs) return;
  const marked = new WeakSet();
  const TYPES = new Set(["click","dblclick","mousedown","mouseup","pointerdown","pointerup","touchstart",
    "touchend","keydown","keyup","keypress","input","change","mouseenter","mouseover","contextmenu",
    "dragstart","drop","wheel"]);
  const origAdd = EventTarget.prototype.addEventListener;
  Object.defineProperty(EventTarget.prototype, "addEventListener", { configurable: true, writable: true,
    value: function addEventListener(type, ...rest) {
      try { if (this instanceof Element && TYPES.has(String(type))) marked.add(this); } catch (e) {}
      return origAdd.call(this, type, ...rest);
    } });
  // custom elements set their ARIA role, name and state through ElementInternals
  // (`attachInternals()`): keep each element's internals to read them
  const internalsOf = new WeakMap();
  const origAttach = HTMLElement.prototype.attachInternals;
  if (origAttach) Object.defineProperty(HTMLElement.prototype, "attachInternals", { configurable: true, writable: true,
    value: function attachInternals(...args) {
      const i = origAttach.apply(this, args);
      try { internalsOf.set(this, i); } catch (e) {}
      return i;
    } });
  const aria = (el, prop) => { const i = internalsOf.get(el); try { return i ? i[prop] : null; } catch (e) { return null; } };
  // the page may replace these later: keep the originals
  const ShadowRootC = window.ShadowRoot, ElementC = window.Element, docFromPoint = Document.prototype.elementFromPoint;
  const rootFromPoint = ShadowRootC && ShadowRootC.prototype.elementFromPoint;
  const HTML = "http://www.w3.org/1999/xhtml";
  const SKIP = new Set(["SCRIPT","STYLE","NOSCRIPT","TEMPLATE","HEAD","META","LINK","TITLE"]);
  const ROLES = {A: (e) => e.hasAttribute("href") ? "link" : "", BUTTON: () => "button", SELECT: () => "combobox",
    TEXTAREA: () => "textbox", SUMMARY: () => "button", IMG: () => "img", H1: () => "heading", H2: () => "heading",
    H3: () => "heading", H4: () => "heading", LI: () => "listitem", OPTION: () => "option", DIALOG: () => "dialog",
    INPUT: (e) => ({checkbox: "checkbox", radio: "radio", button: "button", submit: "button", reset: "button",
      range: "slider", search: "searchbox", image: "button"})[(e.type || "").toLowerCase()] || "textbox"};
  const INTERACTIVE_ROLES = new Set(["button","link","tab","checkbox","radio","switch","menuitem","option",
    "slider","textbox","combobox","searchbox","spinbutton","treeitem","menuitemcheckbox","menuitemradio"]);
  const SEMANTIC = new Set(["A","BUTTON","INPUT","SELECT","TEXTAREA","SUMMARY","LABEL","OPTION"]);
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();

  // ---- the composed tree ------------------------------------------------------------------
  const shadowOf = (el) => { const r = el.shadowRoot; return r && r.mode === "open" ? r : null; };
  function parentOf(n) {   // the composed parent: a shadow root's child goes up to its host
    if (!n) return null;
    if (n.parentElement) return n.parentElement;
    const p = n.parentNode;
    return p && ShadowRootC && p instanceof ShadowRootC ? p.host : null;
  }
  function deepContains(a, b) { for (let n = b; n; n = parentOf(n)) if (n === a) return true; return false; }
  function rootOf(el) { const r = el.getRootNode(); return r && r.getElementById ? r : document; }
  function* deepElements(root, limit) {  // elements in tree order; a host's shadow tree before its light children
    const stack = [root]; let n = 0;
    while (stack.length && n < limit) {
      const node = stack.pop();
      if (node.nodeType === 1) { n++; yield node; }
      const kids = node.children ? Array.from(node.children) : [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
      if (node.nodeType === 1) { const s = shadowOf(node); if (s) stack.push(s); }
    }
  }
  function deepHit(x, y) {   // the innermost element under a point, through open shadow roots
    let el = docFromPoint.call(document, x, y);
    for (let i = 0; el && i < 20; i++) {
      const s = shadowOf(el); if (!s || !rootFromPoint) break;
      const inner = rootFromPoint.call(s, x, y);
      if (!inner || inner === el || !deepContains(el, inner)) break;
      el = inner;
    }
    return el;
  }
  function deepActive() {
    let f = document.activeElement;
    for (let i = 0; f && i < 20; i++) { const s = shadowOf(f); if (!s || !s.activeElement) break; f = s.activeElement; }
    return f;
  }

  function role(el) {
    const r = el.getAttribute("role") || aria(el, "role");
    if (r) return r.split(/\s+/)[0];
    const f = ROLES[el.tagName]; return f ? f(el) : "";
  }
  const hasRole = (el) => el.hasAttribute("role") || !!aria(el, "role");
  function editable(el) {
    if (el.isContentEditable) return true;
    if (el.tagName === "TEXTAREA") return !el.disabled && !el.readOnly;
    if (el.tagName !== "INPUT") return false;
    const t = (el.type || "text").toLowerCase();
    return !el.disabled && !el.readOnly && !["checkbox","radio","button","submit","reset","range","color",
      "file","image","hidden"].includes(t);
  }
  function handler(el) {
    if (marked.has(el)) return "listener";
    for (const k of ["onclick","onmousedown","onpointerdown","onmouseup","ondblclick","onchange","oninput"])
      if (typeof el[k] === "function") return "onclick";
    for (const k of Object.keys(el)) {
      if (k.startsWith("__reactProps")) { const p = el[k];
        if (p && (p.onClick || p.onMouseDown || p.onPointerDown || p.onDoubleClick || p.onChange)) return "react"; }
    }
    if (el._vei && (el._vei.onClick || el._vei.onMousedown || el._vei.onPointerdown)) return "vue";
    return "";
  }
  function why(el, cs) {
    if (el.disabled) return "";
    if (SEMANTIC.has(el.tagName) && !(el.tagName === "A" && !el.hasAttribute("href") && !handler(el))) return "semantic";
    if (INTERACTIVE_ROLES.has(role(el)) && hasRole(el)) return "role";
    if (el.isContentEditable) return "editable";
    const h = handler(el); if (h) return h;
    if (el.hasAttribute("tabindex") && el.tabIndex >= 0) return "tabindex";
    const p = parentOf(el);
    if (cs.cursor === "pointer" && (!p || getComputedStyle(p).cursor !== "pointer")) return "pointer";
    return "";
  }
  function localPath(el, stop) {
    const parts = [];
    while (el && el.nodeType === 1 && el !== stop && el.parentNode) {
      let i = 1, s = el; while ((s = s.previousElementSibling)) i++;
      parts.unshift((el.namespaceURI === HTML ? el.tagName.toLowerCase() : "*") + ":nth-child(" + i + ")");
      el = el.parentElement;
    }
    return parts;
  }
  function path(el) {   // "html > body:nth-child(2) > x-app:nth-child(1) >>> div:nth-child(2) > ..."
    const chunks = [];
    let cur = el;
    for (let i = 0; cur && i < 30; i++) {
      const root = cur.getRootNode();
      if (ShadowRootC && root instanceof ShadowRootC) {
        chunks.unshift(localPath(cur, null).join(" > "));
        cur = root.host;
      } else {
        chunks.unshift(["html"].concat(localPath(cur, document.documentElement)).join(" > "));
        break;
      }
    }
    return chunks.join(" >>> ");
  }
  function byPath(p) {
    try {
      const chunks = String(p).split(" >>> ");
      let node = null;
      for (let c = 0; c < chunks.length; c++) {
        const segs = chunks[c].split(" > ");
        if (c === 0) { if (segs.shift() !== "html") return null; node = document.documentElement; }
        else { const s = node && shadowOf(node); if (!s) return null; node = s; }
        for (const seg of segs) {
          const m = /^(.*):nth-child\((\d+)\)$/.exec(seg); if (!m) return null;
          const kid = node.children[Number(m[2]) - 1];
          if (!kid || (m[1] !== "*" && kid.tagName.toLowerCase() !== m[1])) return null;
          node = kid;
        }
      }
      return node && node.nodeType === 1 ? node : null;
    } catch (e) { return null; }
  }
  function labelText(el) {
    if (el.labels && el.labels.length) return norm(Array.from(el.labels).map((l) => l.innerText || l.textContent).join(" "));
    const p = el.closest && el.closest("label");
    return p ? norm(p.innerText || p.textContent) : "";
  }
  function name(el) {
    const a = el.getAttribute("aria-label") || aria(el, "ariaLabel"); if (a && a.trim()) return norm(a);
    const lb = el.getAttribute("aria-labelledby");
    if (lb) { const r = rootOf(el); const t = norm(lb.split(/\s+/).map((id) => (r.getElementById(id) || {}).textContent || "").join(" ")); if (t) return t; }
    if (["INPUT","SELECT","TEXTAREA"].includes(el.tagName)) { const t = labelText(el); if (t) return t; }
    if (el.tagName === "IMG" && el.alt) return norm(el.alt);
    if (el.tagName === "INPUT" && ["button","submit","reset"].includes(el.type)) return norm(el.value);
    const st = el.tagName.toLowerCase() === "svg" ? el.querySelector("title") : null;
    if (st && st.textContent.trim()) return norm(st.textContent);
    return norm(el.getAttribute("title") || el.getAttribute("placeholder") || "");
  }
  function ownText(el) {
    let t = ""; for (const n of el.childNodes) if (n.nodeType === 3) t += n.data; return norm(t);
  }
  function pseudo(el) {   // text drawn by ::before / ::after (a "×", a "❯"); icon-font glyphs are kept too
    let out = "";
    for (const which of ["::before", "::after"]) {
      const c = getComputedStyle(el, which).content;
      if (c && c !== "none" && c !== "normal" && /^["']/.test(c)) out += c.slice(1, -1).replace(/\\"/g, '"');
    }
    return norm(out);
  }
  function composedText(el) {   // the text of an element's flat tree (its shadow tree's text included)
    const s = shadowOf(el);
    let t = el.innerText !== undefined ? el.innerText : el.textContent;
    if (s) {
      let inner = "";
      for (const d of deepElements(s, 200)) if (!SKIP.has(d.tagName) && d.tagName !== "SLOT") inner += " " + ownText(d);
      t = (t || "") + " " + inner;
    }
    return norm(t);
  }
  function icon(el) {   // what an icon-only control says through its parts: classes, titles, labels, glyphs
    const bits = [];
    let n = 0;
    for (const d of deepElements(el, 12)) {
      if (d !== el) {
        const c = typeof d.className === "string" ? d.className : (d.getAttribute("class") || "");
        bits.push(c, d.getAttribute("aria-label") || "", d.getAttribute("title") || "", d.getAttribute("data-icon") || "",
                  d.getAttribute("name") || "", d.getAttribute("alt") || "");
        const use = d.tagName.toLowerCase() === "use" ? (d.getAttribute("href") || d.getAttribute("xlink:href") || "") : "";
        if (use) bits.push(use.replace(/^.*#/, ""));
        if (d.tagName.toLowerCase() === "title") bits.push(d.textContent || "");
      }
      if (n++ < 6) bits.push(pseudo(d));
    }
    return norm(bits.join(" ")).slice(0, 200);
  }
  function context(el) {   // what a field's surroundings call it: its containers' classes and ids
    const bits = [];
    for (let p = parentOf(el), i = 0; p && p !== document.body && i < 3; p = parentOf(p), i++)
      bits.push(typeof p.className === "string" ? p.className : "", p.id || "", p.getAttribute("aria-label") || "");
    return norm(bits.join(" ")).slice(0, 200);
  }
  let clipMemo = new Map();   // element -> the clip rect its overflow ancestors impose (null: none); per call
  function clipOf(p) {
    if (!p || p === document.body || p === document.documentElement) return null;
    if (clipMemo.has(p)) return clipMemo.get(p);
    let c = clipOf(parentOf(p));
    const cs = getComputedStyle(p);
    if (cs.overflowX !== "visible" || cs.overflowY !== "visible") {
      const q = p.getBoundingClientRect();
      c = c ? [Math.max(c[0], q.left), Math.max(c[1], q.top), Math.min(c[2], q.right), Math.min(c[3], q.bottom)]
            : [q.left, q.top, q.right, q.bottom];
    }
    clipMemo.set(p, c);
    return c;
  }
  function clipped(el, r) {  // clipped away entirely by an overflow ancestor
    const c = clipOf(parentOf(el));
    return !!c && (Math.min(r.right, c[2]) - Math.max(r.left, c[0]) < 1 || Math.min(r.bottom, c[3]) - Math.max(r.top, c[1]) < 1);
  }
  function shown(el, r) {
    if (r.width < 2 || r.height < 2) return false;
    if (el.checkVisibility && !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
    if (r.right < 0 || r.bottom < -document.documentElement.scrollHeight || r.left > innerWidth + document.documentElement.scrollWidth) return false;
    return !clipped(el, r);
  }
  function inScroller(el) {
    for (let p = parentOf(el), i = 0; p && p !== document.body && i < 40; p = parentOf(p), i++) {
      const cs = getComputedStyle(p);
      if (/(auto|scroll|overlay)/.test(cs.overflowY + cs.overflowX) && (p.scrollHeight > p.clientHeight + 1 || p.scrollWidth > p.clientWidth + 1)) return true;
    }
    return false;
  }
  function labelOf(n) {   // the <label> a hit element is part of
    for (let i = 0; n && i < 8; i++, n = parentOf(n)) if (n.tagName === "LABEL") return n;
    return null;
  }
  // Where a real click at (x, y) goes, relative to `el`: "self" (el or a part of it), "label"
  // (a label that activates el, or el is a label and its control is hit), "ancestor" (a small
  // interactive element containing el), or "" (something else: covered or elsewhere).
  function reachAt(el, x, y) {
    const h = deepHit(x, y);
    if (!h) return "";
    if (h === el || deepContains(el, h)) return "self";
    const lab = labelOf(h);
    if (lab && lab.control === el) return "label";
    if (el.tagName === "LABEL" && el.control && (h === el.control || deepContains(el.control, h))) return "label";
    if (deepContains(h, el) && h !== document.body && h !== document.documentElement) {
      const r = h.getBoundingClientRect();
      if (r.width * r.height < 0.25 * innerWidth * innerHeight) return "ancestor";
    }
    return "";
  }
  const FRACTIONS = [[.5,.5],[.3,.5],[.7,.5],[.5,.3],[.5,.7],[.2,.2],[.8,.8],[.2,.8],[.8,.2]];
  function reach(el, r) {   // a point of el's on-screen box where a click reaches it, or null
    const x0 = Math.max(0, r.left), y0 = Math.max(0, r.top), x1 = Math.min(innerWidth, r.right), y1 = Math.min(innerHeight, r.bottom);
    if (x1 - x0 < 1 || y1 - y0 < 1) return null;
    for (const [fx, fy] of FRACTIONS) {
      const x = x0 + (x1 - x0) * fx, y = y0 + (y1 - y0) * fy, how = reachAt(el, x, y);
      if (how) return { x, y, how };
    }
    return null;
  }
  // classes that mark a state, not a kind: the active dot of a carousel is still one of the dots
  const STATE_CLASS = /(^|[-_])(active|selected|current|checked|disabled|open|opened|closed|hover|focus|focused|visible|hidden|on|off|is|has|expanded|collapsed)([-_]|$)/i;
  const groups = new Map(); let gid = 0;
  function record(el, withReach) {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    const p = parentOf(el);
    if (p && !groups.has(p)) groups.set(p, gid++);
    const cls = typeof el.className === "string" ? el.className : (el.getAttribute("class") || "");
    const tc = el.textContent || "";
    const painted = shown(el, r);
    const inView = r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight;
    const w = why(el, cs);
    // an element that is not painted itself (opacity 0, a zero-size label text) still counts when a
    // click on its box reaches it: a control drawn by CSS over an invisible native input
    const hit = (withReach || !painted) && inView && w && !clipped(el, r) && cs.visibility !== "hidden" ? reach(el, r) : null;
    // scrolled out of a scroll container (an option further down a dropdown list): revealed before use
    const scrolledOut = !painted && !hit && (w || ownText(el)) && r.width >= 2 && r.height >= 2 && clipped(el, r) && inScroller(el)
      && (!el.checkVisibility || el.checkVisibility({opacityProperty: true, visibilityProperty: true}));
    const big = tc.length > 300;
    return { path: path(el), tag: el.tagName.toLowerCase(), role: role(el), name: name(el),
      text: (big ? ownText(el) : composedText(el)).slice(0, 200),
      why: w, editable: editable(el), visible: painted || !!hit || scrolledOut, painted,
      reach: hit ? hit.how : scrolledOut ? "scroll" : "",
      box: [r.x, r.y, r.width, r.height], in_view: inView,
      id: el.id || "", cls: norm(cls).slice(0, 120), title: el.getAttribute("title") || "",
      placeholder: el.getAttribute("placeholder") || "", type: (el.getAttribute("type") || "").toLowerCase(),
      value: el.tagName === "INPUT" || el.tagName === "TEXTAREA" ? String(el.value).slice(0, 200) : "",
      icon: w || !big ? icon(el) : "", pseudo: pseudo(el), ctx: editable(el) ? context(el) : "",
      checked: el.checked === true || ["aria-checked", "aria-pressed", "aria-selected"].some((a) => el.getAttribute(a) === "true")
        || ["ariaChecked", "ariaPressed", "ariaSelected"].some((p) => aria(el, p) === "true"),
      shadow: !!shadowOf(el),
      group: (p ? groups.get(p) : -1) + "|" + el.tagName + "|" + norm(cls).split(" ").filter((c) => !STATE_CLASS.test(c)).sort().join("."), gi: 0 };
  }
  function elements(limit) {
    clipMemo = new Map();
    const out = [], area = innerWidth * innerHeight, counts = new Map();
    if (!document.body) return out;
    for (const el of deepElements(document.body, 20000)) {
      if (out.length >= limit) break;
      if (el === document.body || SKIP.has(el.tagName) || (el.namespaceURI !== HTML && el.tagName.toLowerCase() !== "svg")) continue;
      const r = el.getBoundingClientRect();
      if (r.width < 2 || r.height < 2) continue;
      const rec = record(el, false);
      if (!rec.visible) continue;
      const media = ["img","svg","canvas","video"].includes(rec.tag);
      if (!rec.why && !media && !ownText(el) && !rec.pseudo && !rec.shadow) continue;
      if (r.width * r.height > 0.6 * area && !rec.editable && rec.tag !== "select" && rec.tag !== "canvas") continue;
      rec.gi = counts.get(rec.group) || 0; counts.set(rec.group, rec.gi + 1);
      out.push(rec);
    }
    return out;
  }
  function focusTarget(el) {  // the field a type/select action on `el` goes to
    if (!el) return null;
    if (editable(el) || el.tagName === "SELECT") return el;
    if (el.tagName === "LABEL" && el.control) return el.control;
    const s = shadowOf(el);
    for (const scope of s ? [el, s] : [el]) {
      const inner = scope.querySelector("input, textarea, select, [contenteditable=''], [contenteditable=true]");
      if (inner && (editable(inner) || inner.tagName === "SELECT")) return inner;
    }
    if (s) for (const d of deepElements(s, 400)) if (editable(d) || d.tagName === "SELECT") return d;
    return null;
  }
  function visibleText() {
    // [path, text, in_view, top, left]: text nodes whose element is rendered, in the composed tree
    const items = [];
    const seen = new Map();
    const ok = (el) => { if (!seen.has(el)) seen.set(el, !SKIP.has(el.tagName) && shown(el, el.getBoundingClientRect())); return seen.get(el); };
    const roots = [document.body || document.documentElement];
    for (const el of deepElements(roots[0], 20000)) { const s = shadowOf(el); if (s) roots.push(s); }
    let count = 0;
    for (const root of roots) {
      const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      let n;
      while ((n = w.nextNode()) && count < 5000) {
        const t = norm(n.data); if (!t) continue;
        const el = n.parentElement; if (!el || !ok(el)) continue;
        const rg = document.createRange(); rg.selectNodeContents(n); const rr = rg.getBoundingClientRect();
        if (rr.width < 1 || rr.height < 1) continue;
        const inView = rr.right > 0 && rr.bottom > 0 && rr.left < innerWidth && rr.top < innerHeight;
        items.push([path(el), t, inView ? 1 : 0, Math.round(rr.top), Math.round(rr.left)]); count++;
      }
    }
    for (const root of roots) for (const el of root.querySelectorAll("input, textarea, select")) {
      if (!ok(el)) continue;
      const r = el.getBoundingClientRect();
      const inView = r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight ? 1 : 0;
      const pos = [Math.round(r.top), Math.round(r.left)];
      if (el.tagName === "SELECT") { const o = el.selectedOptions && el.selectedOptions[0]; if (o) items.push([path(el), norm(o.text), inView, ...pos]); }
      else if (!["checkbox","radio","hidden","range","color","file"].includes((el.type || "").toLowerCase())) {
        const v = norm(el.value) || (el.value ? "" : norm(el.placeholder)); if (v) items.push([path(el), v, inView, ...pos]); }
    }
    return items;
  }
  function scroller(el) {
    const cs = getComputedStyle(el);
    const y = /(auto|scroll|overlay)/.test(cs.overflowY) && el.scrollHeight > el.clientHeight + 1;
    const x = /(auto|scroll|overlay)/.test(cs.overflowX) && el.scrollWidth > el.clientWidth + 1;
    return x || y;
  }
  function chainAt(x, y) {
    const out = []; let el = deepHit(x, y);
    for (; el && el !== document.body && el !== document.documentElement; el = parentOf(el))
      if (scroller(el)) out.push([path(el), el.scrollLeft, el.scrollTop, el.scrollWidth - el.clientWidth, el.scrollHeight - el.clientHeight]);
    return out;
  }
  function canScroll(c, dir) {  // c = [path, left, top, maxLeft, maxTop]
    return dir === "down" ? c[2] < c[4] - 1 : dir === "up" ? c[2] > 0 : dir === "right" ? c[1] < c[3] - 1 : c[1] > 0;
  }
  function interactiveAncestor(el) {
    let it = el;
    while (it && it !== document.body && !why(it, getComputedStyle(it))) it = parentOf(it);
    return it && it !== document.body ? it : null;
  }
  const api = {
    elements: (limit) => elements(limit || 1500),
    describe: (el) => { clipMemo = new Map(); return el ? record(el, true) : null; },
    describePath: (p) => { clipMemo = new Map(); const el = byPath(p); return el ? record(el, true) : null; },
    at(x, y) {
      clipMemo = new Map();
      const hit = deepHit(x, y); if (!hit) return null;
      const lab = labelOf(hit);
      const it = lab && lab.control ? lab.control : interactiveAncestor(hit);
      return { hit: record(hit, true), interactive: it ? record(it, true) : null };
    },
    focusTarget: (p) => { clipMemo = new Map(); const el = focusTarget(byPath(p)); return el ? record(el, true) : null; },
    clickPoint(p) {
      const el = byPath(p); if (!el) return null;
      const r = el.getBoundingClientRect();
      const x0 = Math.max(0, r.left), y0 = Math.max(0, r.top), x1 = Math.min(innerWidth, r.right), y1 = Math.min(innerHeight, r.bottom);
      if (x1 - x0 < 1 || y1 - y0 < 1) return null;
      const at = reach(el, r);
      if (at) return { x: at.x, y: at.y, box: [r.x, r.y, r.width, r.height], covered: false, how: at.how };
      if (el.labels && el.labels.length) {     // an invisible input off its label: click the label
        for (const l of el.labels) {
          const lr = l.getBoundingClientRect(), lat = reach(l, lr);
          if (lat) return { x: lat.x, y: lat.y, box: [r.x, r.y, r.width, r.height], covered: false, how: "label" };
        }
      }
      return { x: (x0 + x1) / 2, y: (y0 + y1) / 2, box: [r.x, r.y, r.width, r.height], covered: true, how: "" };
    },
    related(p) {   // the composed ancestors' paths of an element (for "in the row of ..." relations)
      const el = byPath(p); const out = [];
      for (let n = el; n && n !== document.body; n = parentOf(n)) out.push(path(n));
      return out;
    },
    items(p) {   // the list an element is an item of: its nearest ancestor-or-self with shown same-tag siblings
      const el = byPath(p); if (!el) return null;
      for (let n = el, depth = 0; n && n !== document.body && depth < 6; n = parentOf(n), depth++) {
        const up = parentOf(n); if (!up) break;
        const kids = Array.from(up.children).filter((k) => k.tagName === n.tagName && shown(k, k.getBoundingClientRect()));
        if (kids.length < 2) continue;
        return { index: kids.indexOf(n), items: kids.map((k) => { const r = k.getBoundingClientRect();
          return [path(k), [r.x, r.y, r.width, r.height]]; }) };
      }
      return null;
    },
    reveal(p) {   // scroll the element into view: the window's, and its scroll containers' (a long dropdown list)
      const el = byPath(p); if (!el) return false;
      clipMemo = new Map();
      const r = el.getBoundingClientRect(), c = clipOf(parentOf(el));
      const inView = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
      const inClip = !c || (r.top >= c[1] - 1 && r.bottom <= c[3] + 1 && r.left >= c[0] - 1 && r.right <= c[2] + 1);
      if (inView && inClip) return false;
      if (!inView) {   // a user cannot scroll a page whose root hides its overflow: nor does the judge
        const h = getComputedStyle(document.documentElement), b = document.body ? getComputedStyle(document.body) : h;
        const vert = r.top < 0 || r.bottom > innerHeight;
        const locked = (k) => h[k] === "hidden" || h[k] === "clip" || b[k] === "hidden" || b[k] === "clip";
        if (vert ? locked("overflowY") : locked("overflowX")) return false;
      }
      el.scrollIntoView(inView ? { block: "nearest", inline: "nearest", behavior: "instant" }
                               : { block: "center", inline: "center", behavior: "instant" });
      return true;
    },
    scrollers(dir) {   // scroll containers that can move in `dir`, with what names them (for "scroll inside the X panel")
      clipMemo = new Map();
      const out = [];
      for (const el of document.body ? deepElements(document.body, 20000) : []) {
        if (out.length >= 30) break;
        if (el === document.body || SKIP.has(el.tagName) || !scroller(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.width < 20 || r.height < 20 || !shown(el, r)) continue;
        const c = [el.scrollLeft, el.scrollTop, el.scrollWidth - el.clientWidth, el.scrollHeight - el.clientHeight];
        if (!canScroll([path(el)].concat(c), dir)) continue;
        let label = name(el);   // a heading just before it (or before its wrapper) names it
        for (let n = el, i = 0; n && !label && i < 3; n = parentOf(n), i++) {
          let p = n.previousElementSibling;
          for (let k = 0; p && k < 2 && !label; p = p.previousElementSibling, k++)
            if (/^H[1-6]$/.test(p.tagName) || p.tagName === "LEGEND" || p.tagName === "LABEL") label = norm(p.innerText);
        }
        const x0 = Math.max(0, r.left), y0 = Math.max(0, r.top), x1 = Math.min(innerWidth, r.right), y1 = Math.min(innerHeight, r.bottom);
        if (x1 - x0 < 4 || y1 - y0 < 4) continue;
        const rec = record(el, false);
        rec.name = rec.name || label; rec.label = label;
        rec.point = [(x0 + x1) / 2, (y0 + y1) / 2];
        out.push(rec);
      }
      return out;
    },
    scrolls(x, y) { return [scrollX, scrollY].concat(chainAt(x, y).map((c) => c[1] + "," + c[2])); },
    windowPoint(dir) {
      const pts = [[.5,.5],[.5,.25],[.5,.75],[.25,.5],[.75,.5],[.1,.5],[.9,.5],[.5,.1],[.5,.9]];
      for (const [fx, fy] of pts) {
        const x = innerWidth * fx, y = innerHeight * fy;
        if (!chainAt(x, y).some((c) => canScroll(c, dir))) return [x, y];
      }
      return [innerWidth / 2, innerHeight / 2];
    },
    fieldValue(p) { const el = byPath(p); const f = el && focusTarget(el);
      return f ? (f.isContentEditable ? norm(f.textContent) : String(f.value === undefined ? "" : f.value).slice(0, 500)) : null; },
    state(x, y, paths) {
      clipMemo = new Map();
      const f = deepActive();
      const chain = x === null || x === undefined ? [] : chainAt(x, y);
      const extra = (paths || []).map((p) => { const el = byPath(p); return el ? [p, el.scrollLeft, el.scrollTop,
        el.scrollWidth - el.clientWidth, el.scrollHeight - el.clientHeight] : [p, null, null, 0, 0]; });
      const vis = [];
      for (const el of document.body ? deepElements(document.body, 20000) : []) {
        if (vis.length >= 4000) break;
        if (el === document.body || SKIP.has(el.tagName)) continue;
        const r = el.getBoundingClientRect();
        if (r.width * r.height >= 64 && shown(el, r)) vis.push(path(el));
      }
      const sel = getSelection(), selBoxes = [];
      if (sel && sel.rangeCount && !sel.isCollapsed)
        for (const r of sel.getRangeAt(0).getClientRects()) if (selBoxes.length < 200) selBoxes.push([r.x, r.y, r.width, r.height]);
      const dialogs = [];   // shown dialogs: role dialog/alertdialog, <dialog open>, aria-modal, a "modal"/"dialog" class
      for (const p of vis) {
        if (dialogs.length >= 20) break;
        const el = byPath(p);
        if (!el) continue;
        const cls = typeof el.className === "string" ? el.className : "";
        if (["dialog", "alertdialog"].includes(role(el)) || el.getAttribute("aria-modal") === "true"
            || /(^|[\s_-])(modal|dialog)([\s_-]|$)/i.test(cls) && !/(backdrop|overlay|open|btn|button|trigger|toggle)/i.test(cls)) {
          if (!dialogs.some((d) => p.startsWith(d + " "))) dialogs.push(p);
        }
      }
      return { scroll: [scrollX, scrollY], selection: selBoxes, dialogs, max_scroll: [document.documentElement.scrollWidth - innerWidth,
          document.documentElement.scrollHeight - innerHeight],
        text: visibleText(), chain: chain.concat(extra), visible: vis,
        focus: f && f !== document.body ? { path: path(f), editable: editable(f), box: (() => { const r = f.getBoundingClientRect();
          return [r.x, r.y, r.width, r.height]; })(),
          value: f.isContentEditable ? norm(f.textContent).slice(0, 500) : f.value !== undefined ? String(f.value).slice(0, 500) : "" } : null };
    },
  };
  Object.defineProperty(window, "__wjObs", { value: Object.freeze(api), writable: false, configurable: false, enumerable: false });
})();
