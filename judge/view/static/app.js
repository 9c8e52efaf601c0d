// judge view: the single-page app (no external assets). Routes: #/ tasks, #/task/ID?a=I&b=J,
// #/label, #/agreement. Data comes from the JSON API of judge/view/app.py.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const fmt = (v) => v === null || v === undefined ? "–" : typeof v === "boolean" ? String(v) : typeof v === "number" ? v.toFixed(3) : esc(v);
const api = async (url, opts) => { const r = await fetch(url, opts); const body = await r.json(); if (!r.ok) throw new Error(body.error || r.statusText); return body; };

const state = {runs: [], meta: null, sync: null, keys: null, sort: {col: "task_id", dir: 1},
  filters: {family: "", min: "", max: "", dis: "", errors: false}};

// ---- synchronized playback ---------------------------------------------------------------
// One clock: the first video is the master; on every animation frame while playing, a
// follower more than half a frame away from it is moved to its time. Pause, scrub and
// frame steps set every video to the same time.
class Sync {
  constructor(videos, fps, duration, ui) {
    this.videos = videos; this.fps = fps; this.duration = duration; this.ui = ui; this.playing = false; this.rate = 1;
    this.raf = null;
    for (const v of videos) { v.muted = true; v.preload = "auto"; v.playsInline = true; v.loop = false; }
    videos[0].addEventListener("ended", () => this.pause());
    ui.play.onclick = () => this.toggle();
    ui.scrub.max = String(Math.max(0, Math.round(duration * fps) - 1));
    ui.scrub.oninput = () => this.seekFrame(Number(ui.scrub.value));
    ui.prev.onclick = () => this.step(-1);
    ui.next.onclick = () => this.step(1);
    ui.speed.onchange = () => this.setRate(Number(ui.speed.value));
    this.show();
  }
  get master() { return this.videos[0]; }
  get frame() { return Math.min(Math.round(this.master.currentTime * this.fps - 0.25), Math.round(this.duration * this.fps) - 1); }
  times() { return this.videos.map((v) => v.currentTime); }
  async play() {
    if (this.master.currentTime >= this.duration - 1 / this.fps) this.setTime(0);
    this.playing = true; this.ui.play.textContent = "Pause";
    const t = this.master.currentTime;
    for (const v of this.videos) { v.playbackRate = this.rate; v.currentTime = t; }
    await Promise.all(this.videos.map((v) => v.play().catch(() => null)));
    this.tick();
  }
  tick() {
    if (!this.playing) return;
    const t = this.master.currentTime, tol = 0.5 / this.fps;
    for (const v of this.videos.slice(1)) if (Math.abs(v.currentTime - t) > tol) v.currentTime = t;
    this.show();
    this.raf = requestAnimationFrame(() => this.tick());
  }
  pause() {
    this.playing = false; this.ui.play.textContent = "Play";
    if (this.raf) cancelAnimationFrame(this.raf);
    for (const v of this.videos) v.pause();
    this.setTime(this.master.currentTime);
  }
  toggle() { return this.playing ? this.pause() : this.play(); }
  setTime(t) { for (const v of this.videos) v.currentTime = t; this.show(); }
  // frame k is shown from k/fps; a quarter frame in avoids landing on the previous one
  seekFrame(k) {
    const n = Math.round(this.duration * this.fps);
    k = Math.max(0, Math.min(n - 1, k));
    if (this.playing) this.pause();
    this.setTime((k + 0.25) / this.fps);
  }
  step(d) { this.seekFrame(this.frame + d); }
  setRate(r) { this.rate = r; for (const v of this.videos) v.playbackRate = r; }
  show() {
    const k = Math.max(0, this.frame);
    this.ui.scrub.value = String(k);
    this.ui.time.textContent = `frame ${k} · ${this.master.currentTime.toFixed(2)} s`;
  }
  destroy() { this.playing = false; if (this.raf) cancelAnimationFrame(this.raf); for (const v of this.videos) v.pause(); }
}

function controlsHtml() {
  return `<div class="controls"><button id="play">Play</button>
    <button id="prev" title="previous frame (← or ,)">◀ frame</button><button id="next" title="next frame (→ or .)">frame ▶</button>
    <input id="scrub" type="range" min="0" value="0" step="1"><span id="time" class="muted"></span>
    <label>speed <select id="speed">${[0.25, 0.5, 1, 1.5, 2].map((s) => `<option value="${s}" ${s === 1 ? "selected" : ""}>${s}×</option>`).join("")}</select></label>
    <span class="muted">space: play/pause · ←/→: frame</span></div>`;
}

function makeSync(root, fps, duration) {
  const videos = [...root.querySelectorAll("video")];
  const ui = {play: $("#play", root), prev: $("#prev", root), next: $("#next", root), scrub: $("#scrub", root),
    speed: $("#speed", root), time: $("#time", root)};
  state.sync = new Sync(videos, fps, duration, ui);
  return state.sync;
}

// a video box: full frame, or cropped to the metric's box [x0, y0, x1, y1]
function videoBox(id, title, src, box, viewport, body = "") {
  return `<div class="vbox" id="${id}"><h3>${esc(title)}</h3>
    <div class="vwrap" data-box="${box ? box.join(",") : ""}" data-w="${viewport[0]}" data-h="${viewport[1]}">
    <video src="${esc(src)}" muted preload="auto" playsinline></video></div>
    ${box ? `<label><input type="checkbox" class="crop"> crop to the animated region</label>` : ""}${body}</div>`;
}

function layoutVideo(wrap, crop) {
  const width = 320, vw = Number(wrap.dataset.w), vh = Number(wrap.dataset.h), video = $("video", wrap);
  const box = wrap.dataset.box ? wrap.dataset.box.split(",").map(Number) : null;
  if (crop && box) {
    const [x0, y0, x1, y1] = box, s = width / Math.max(1, x1 - x0);
    video.style.width = `${vw * s}px`; video.style.height = `${vh * s}px`;
    video.style.transform = `translate(${-x0 * s}px, ${-y0 * s}px)`;
    wrap.style.width = `${width}px`; wrap.style.height = `${(y1 - y0) * s}px`;
  } else {
    const s = width / vw;
    video.style.width = `${width}px`; video.style.height = `${vh * s}px`; video.style.transform = "";
    wrap.style.width = `${width}px`; wrap.style.height = `${vh * s}px`;
  }
}

function wireVideos(root) {
  for (const box of root.querySelectorAll(".vbox")) {
    const wrap = $(".vwrap", box), cb = $(".crop", box);
    layoutVideo(wrap, false);
    if (cb) cb.onchange = () => layoutVideo(wrap, cb.checked);
  }
}

function playbackKeys(e) {
  const s = state.sync;
  if (!s || e.target.tagName === "INPUT" && e.target.type === "text") return false;
  if (e.key === " ") { e.preventDefault(); s.toggle(); return true; }
  if (e.key === "ArrowLeft" || e.key === ",") { e.preventDefault(); s.step(-1); return true; }
  if (e.key === "ArrowRight" || e.key === ".") { e.preventDefault(); s.step(1); return true; }
  return false;
}

// ---- task list ----------------------------------------------------------------------------
async function viewTasks(main) {
  const data = await api("/api/tasks");
  const f = state.filters;
  const runOpts = (sel) => data.runs.map((r, i) => `<option value="${i}" ${i === sel ? "selected" : ""}>${esc(r)}</option>`).join("");
  main.innerHTML = `<div class="filters">
    <label>family <select id="f-family"><option value="">all</option><option>animation</option><option>interactive</option></select></label>
    <label>score from <input id="f-min" type="number" step="0.05" min="0" max="1"> to <input id="f-max" type="number" step="0.05" min="0" max="1"></label>
    <label>disagreement ≥ <input id="f-dis" type="number" step="0.05" min="0" max="1"></label>
    <label><input id="f-errors" type="checkbox"> judge errors only</label>
    <label>compare <select id="cmp-a">${runOpts(0)}</select> with <select id="cmp-b">${runOpts(Math.min(1, data.runs.length - 1))}</select></label>
    </div><table id="tasks"><thead></thead><tbody></tbody></table><p class="muted" id="count"></p>`;
  $("#f-family").value = f.family; $("#f-min").value = f.min; $("#f-max").value = f.max; $("#f-dis").value = f.dis;
  $("#f-errors").checked = f.errors;
  const cols = [["task_id", "task", "l"], ["family", "family", "l"], ...data.runs.map((r, i) => [`run${i}`, r, ""]),
    ["disagreement", "disagreement", ""], ["judge_errors", "judge errors", ""]];
  const value = (t, c) => c.startsWith("run") ? (t.runs[Number(c.slice(3))] || {}).score ?? null : t[c];
  const render = () => {
    Object.assign(f, {family: $("#f-family").value, min: $("#f-min").value, max: $("#f-max").value,
      dis: $("#f-dis").value, errors: $("#f-errors").checked});
    const lo = f.min === "" ? -Infinity : Number(f.min), hi = f.max === "" ? Infinity : Number(f.max);
    let rows = data.tasks.filter((t) => (!f.family || t.family === f.family)
      && (f.min === "" && f.max === "" || t.runs.some((r) => r && r.score !== null && r.score >= lo && r.score <= hi))
      && (f.dis === "" || (t.disagreement ?? -1) >= Number(f.dis))
      && (!f.errors || t.judge_errors > 0));
    const {col, dir} = state.sort;
    rows.sort((x, y) => { const a = value(x, col), b = value(y, col);
      if (a === b) return 0; if (a === null || a === undefined) return 1; if (b === null || b === undefined) return -1;
      return (a < b ? -1 : 1) * dir; });
    $("#tasks thead").innerHTML = "<tr>" + cols.map(([c, h, cls]) =>
      `<th class="${cls}" data-col="${c}">${esc(h)}${state.sort.col === c ? (dir > 0 ? " ▲" : " ▼") : ""}</th>`).join("") + "</tr>";
    const a = $("#cmp-a").value, b = $("#cmp-b").value;
    $("#tasks tbody").innerHTML = rows.map((t) => `<tr data-task="${esc(t.task_id)}">
      <td class="l"><a href="#/task/${encodeURIComponent(t.task_id)}?a=${a}&b=${b}">${esc(t.task_id)}</a></td><td class="l">${esc(t.family)}</td>
      ${t.runs.map((r) => `<td class="${r && r.judge_error ? "warn" : ""}" title="${r && r.judge_error ? esc(r.judge_error) : ""}">${r ? (r.judge_error ? "judge error" : fmt(r.score)) : "–"}</td>`).join("")}
      <td>${fmt(t.disagreement)}</td><td>${t.judge_errors}</td></tr>`).join("");
    $("#count").textContent = `${rows.length} of ${data.tasks.length} tasks`;
    for (const th of main.querySelectorAll("th")) th.onclick = () => {
      state.sort = {col: th.dataset.col, dir: state.sort.col === th.dataset.col ? -state.sort.dir : 1}; render(); };
  };
  for (const id of ["#f-family", "#f-min", "#f-max", "#f-dis", "#f-errors", "#cmp-a", "#cmp-b"]) $(id).oninput = render;
  render();
}

// ---- one task, two runs -------------------------------------------------------------------
function scoreTable(row) {
  if (!row) return `<p class="muted">not run</p>`;
  const keys = Object.keys(row).filter((k) => !["backends", "boxes"].includes(k) && row[k] !== undefined);
  return `<table class="kv scores">${keys.map((k) => `<tr><td class="l">${esc(k)}</td><td class="l">${fmt(row[k])}</td></tr>`).join("")}</table>`;
}

function stepCard(st) {
  const cls = st.passed === true ? "passed" : st.passed === false ? "failed" : "";
  const verdict = st.passed === true ? `<span class="ok">pass</span>` : st.passed === false ? `<span class="bad">fail</span>` : "–";
  const cands = (st.candidates || []).map((c) => `<li>${esc(c.source)} ${fmt(c.score)}: ${esc(c.element)}
    <span class="muted">${esc(JSON.stringify(c.evidence || {}))}</span></li>`).join("");
  const shot = (src, cap) => src ? `<figure><img alt="${esc(cap)}" src="${esc(src)}" loading="lazy"><figcaption>${esc(cap)}</figcaption></figure>` : `<figure><p class="muted">no ${esc(cap)}</p></figure>`;
  return `<div class="step ${cls}" data-step="${esc(st.index)}"><div><b>#${esc(st.index)}</b> ${esc(st.type || "")}: ${esc(st.description || "")}</div>
    <div>verdict ${verdict} <span class="source">${esc(st.verdict_source || "")}</span>: <span class="reason">${esc(st.verdict_reason || "")}</span>${st.weak ? ` <span class="warn">(weak evidence)</span>` : ""}${st.error ? ` <span class="bad">${esc(st.error)}</span>` : ""}</div>
    <div>grounding <b class="rung">${esc(st.rung || "–")}</b>: ${esc(st.element || "")} <span class="muted">${esc(st.decision || "")}</span></div>
    ${st.assertion ? `<div class="muted">assertion: ${esc(st.assertion)}</div>` : ""}
    ${cands ? `<details class="cands"><summary>${(st.candidates || []).length} candidate(s)</summary><ul>${cands}</ul></details>` : ""}
    <div class="shots">${shot(st.reference, "reference checkpoint")}${shot(st.shots.before, "before")}${shot(st.shots.after, "after")}</div></div>`;
}

async function viewTask(main, id, params) {
  const t = await api(`/api/task/${encodeURIComponent(id)}`);
  const a = Number(params.get("a") ?? 0), b = Number(params.get("b") ?? Math.min(1, t.runs.length - 1));
  const sel = (name, v) => `<select id="${name}">${t.runs.map((r) => `<option value="${r.index}" ${r.index === v ? "selected" : ""}>${esc(r.label)}</option>`).join("")}</select>`;
  let html = `<h2>${esc(id)} <span class="muted">${esc(t.family)}</span></h2><p>compare ${sel("run-a", a)} with ${sel("run-b", b)} · <a href="#/">all tasks</a></p>`;
  const shown = [t.runs[a], t.runs[b]].filter(Boolean);
  if (t.family === "animation" && t.has_task) {
    html += controlsHtml() + `<div class="videos">` + videoBox("v-ref", "reference video", t.reference_video,
      (shown.find((r) => r.row && r.row.boxes) || {row: {boxes: {}}}).row.boxes.ref, t.viewport,
      `<p class="muted">${t.n_frames} frames at ${t.fps} fps</p>`);
    shown.forEach((r, i) => {
      html += r.video ? videoBox(`v-${i}`, `run: ${r.label}`, r.video, r.row && r.row.boxes ? r.row.boxes.cand : null, t.viewport, scoreTable(r.row))
        : `<div class="vbox"><h3>${esc(r.label)}</h3><p class="muted">no page to play</p>${scoreTable(r.row)}</div>`;
    });
    html += `</div>`;
  } else if (t.family === "interactive") {
    html += `<div class="steps">` + shown.map((r) => `<div class="timeline" data-run="${esc(r.label)}"><h3>${esc(r.label)}</h3>${scoreTable(r.row)}
      ${r.trace ? `<p><a class="trace" href="${esc(r.trace)}" download>trace.zip</a> <code class="muted">${esc(r.trace_command)}</code></p>` : ""}
      ${r.initial ? `<div class="shots"><figure><img alt="reference initial" src="${esc(t.reference_initial || "")}"><figcaption>reference initial</figcaption></figure><figure><img alt="initial" src="${esc(r.initial)}"><figcaption>initial state</figcaption></figure></div>` : ""}
      ${(r.steps || []).map(stepCard).join("") || `<p class="muted">no step records</p>`}</div>`).join("") + `</div>`;
  } else {
    html += `<p class="muted">the task folder is not available</p>` + shown.map((r) => scoreTable(r.row)).join("");
  }
  main.innerHTML = html;
  const go = () => { location.hash = `#/task/${encodeURIComponent(id)}?a=${$("#run-a").value}&b=${$("#run-b").value}`; };
  $("#run-a").onchange = go; $("#run-b").onchange = go;
  if (t.family === "animation" && t.has_task && main.querySelectorAll("video").length) {
    wireVideos(main);
    makeSync(main, t.fps, t.duration_s);
    state.keys = playbackKeys;
  }
}

// ---- labelling ----------------------------------------------------------------------------
const ANSWER_KEYS = {"1": "1", "ArrowUp": "1", "2": "2", "ArrowDown": "2", "0": "tie", "t": "tie", "=": "tie"};

async function viewLabel(main) {
  const annotator = localStorage.getItem("webjudge.annotator") || "";
  main.innerHTML = `<div class="filters"><label>annotator <input id="annotator" type="text" value="${esc(annotator)}" placeholder="your name"></label>
    <button id="start">Start / resume</button><span class="progress" id="progress"></span></div><div id="pair"></div>`;
  $("#start").onclick = () => {
    const name = $("#annotator").value.trim();
    if (!name) { $("#progress").textContent = "type your name first"; return; }
    localStorage.setItem("webjudge.annotator", name);
    loadPair(name);
  };
  if (annotator) await loadPair(annotator);
}

async function loadPair(annotator) {
  if (state.sync) { state.sync.destroy(); state.sync = null; }
  const data = await api(`/api/label/next?annotator=${encodeURIComponent(annotator)}`);
  $("#progress").textContent = `${data.done} / ${data.total} pairs labelled`;
  $("#progress").dataset.done = data.done; $("#progress").dataset.total = data.total;
  const box = $("#pair");
  if (!data.pair) {
    box.innerHTML = `<p id="finished">All ${data.total} pairs are labelled. See <a href="#/agreement">judge vs human</a>.</p>`;
    state.keys = null; return;
  }
  const p = data.pair;
  let html = `<p class="muted">pair ${p.index + 1}: task <b>${esc(p.task_id)}</b> (${esc(p.family)}). Which candidate matches the reference better?</p>`;
  if (p.family === "animation") {
    html += controlsHtml() + `<div class="videos">${videoBox("l-ref", "reference video", p.reference_video, null, [4, 3])}`
      + p.candidates.map((c) => videoBox(`l-${c.side}`, `Candidate ${c.side}`, c.video, null, [4, 3])).join("") + `</div>`;
  } else {
    html += `<div class="lgrid"><b>reference</b><b>Candidate 1</b><b>Candidate 2</b>` + p.steps.map((s) =>
      [`<figure><img alt="reference ${esc(s.label)}" src="${esc(s.reference || "")}"><figcaption>${esc(s.label)}</figcaption></figure>`,
       ...p.candidates.map((c) => `<figure><img alt="candidate ${c.side} ${esc(s.label)}" src="${esc(c.shots + s.name)}"></figure>`)].join("")).join("") + `</div>`;
  }
  html += `<div class="dims">` + p.dimensions.map((d, i) => `<div class="dim" data-dim="${esc(d)}"><span class="name">${esc(d)}</span>
    <button data-answer="1">Candidate 1 (1)</button><button data-answer="tie">tie (0)</button><button data-answer="2">Candidate 2 (2)</button></div>`).join("")
    + `</div><button id="submit" disabled>Submit (Enter)</button> <span class="muted">keys: 1 / 0 / 2 answer the highlighted dimension, Backspace goes back, Enter submits</span><p id="label-error" class="bad"></p>`;
  box.innerHTML = html;
  // the real aspect ratio once known
  for (const v of box.querySelectorAll("video")) v.addEventListener("loadedmetadata", () => {
    const wrap = v.parentElement; wrap.dataset.w = v.videoWidth; wrap.dataset.h = v.videoHeight; layoutVideo(wrap, false); });
  if (p.family === "animation") { wireVideos(box); makeSync(box, p.fps, p.duration_s); }
  const answers = {}, shownAt = performance.now();
  let cur = 0;
  const dims = p.dimensions;
  const paint = () => {
    box.querySelectorAll(".dim").forEach((el, i) => {
      el.classList.toggle("current", i === cur);
      el.querySelectorAll("button").forEach((b) => b.classList.toggle("chosen", answers[el.dataset.dim] === b.dataset.answer));
    });
    $("#submit").disabled = dims.some((d) => !answers[d]);
  };
  const answer = (dim, value) => { answers[dim] = value; cur = Math.min(dims.length - 1, dims.indexOf(dim) + 1); paint(); };
  let sending = false;
  const submit = async () => {
    if (sending || dims.some((d) => !answers[d])) return;
    sending = true;
    try {
      await api("/api/label", {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({annotator, pair: p.index, order: p.order, answers, time_s: (performance.now() - shownAt) / 1000})});
      await loadPair(annotator);
    } catch (e) { $("#label-error").textContent = e.message; sending = false; }
  };
  box.querySelectorAll(".dim button").forEach((b) => b.onclick = () => answer(b.closest(".dim").dataset.dim, b.dataset.answer));
  $("#submit").onclick = submit;
  state.keys = (e) => {
    if (e.target.tagName === "INPUT" && e.target.type === "text") return false;
    if (ANSWER_KEYS[e.key] !== undefined) { e.preventDefault(); answer(dims[cur], ANSWER_KEYS[e.key]); return true; }
    if (e.key === "Backspace") { e.preventDefault(); cur = Math.max(0, cur - 1); paint(); return true; }
    if (e.key === "Enter") { e.preventDefault(); submit(); return true; }
    return playbackKeys(e);
  };
  paint();
}

// ---- judge vs human -----------------------------------------------------------------------
async function viewAgreement(main) {
  const r = await api("/api/agreement");
  let html = `<h2>Judge vs human</h2><p>${r.labels} label rows. The same numbers from the command line:</p><code class="cmd" id="align-cmd">${esc(r.command)}</code>`;
  html += r.notes.map((n) => `<p class="muted">${esc(n)}</p>`).join("");
  if (!r.labels) { main.innerHTML = html + `<p class="muted">No labels yet: <a href="#/label">label some pairs</a>.</p>`; return; }
  html += `<h3>Humans</h3><table id="alpha"><tr><th class="l">dimension</th><th>ratings</th><th>units</th><th>annotators</th><th>α (nominal)</th><th>α without ties</th><th>tie rate</th></tr>`
    + Object.entries(r.dimensions).map(([d, h]) => `<tr><td class="l">${esc(d)}</td><td>${h.n_ratings}</td><td>${h.n_units}</td><td>${h.n_annotators ?? "–"}</td><td>${fmt(h.alpha_nominal)}</td><td>${fmt(h.alpha_nominal_no_ties)}</td><td>${fmt(h.tie_rate_ratings)}</td></tr>`).join("") + `</table>`;
  html += `<h3>Metrics and judges</h3><table id="auc"><tr><th class="l">dimension</th><th class="l">kind</th><th class="l">name</th><th>units used</th><th>ROC-AUC</th><th>agreement</th></tr>`
    + r.alignment.map((a) => `<tr><td class="l">${esc(a.dimension)}</td><td class="l">${esc(a.kind)}</td><td class="l">${esc(a.name)}</td><td>${a.n_used}</td><td>${fmt(a.auc)}</td><td>${fmt(a.agreement)}</td></tr>`).join("") + `</table>`;
  html += `<h3>Per task: where the metric and the humans disagree</h3><table id="disagree"><tr><th class="l">task</th><th>units</th><th>disagreements</th><th class="l">details</th></tr>`
    + r.tasks.map((t) => `<tr data-task="${esc(t.task_id)}"><td class="l"><a href="#/task/${encodeURIComponent(t.task_id)}">${esc(t.task_id)}</a></td><td>${t.units}</td><td class="${t.disagreements ? "bad" : "ok"}">${t.disagreements}</td><td class="l">${t.details.filter((u) => u.disagree).map((u) => `${esc(u.dimension)}: humans ${esc(u.human)}, ${esc(u.metric)} picks ${esc(u.metric_pick)} (${fmt(u.score_a)} vs ${fmt(u.score_b)})`).join("<br>")}</td></tr>`).join("") + `</table>`;
  main.innerHTML = html;
}

// ---- router -------------------------------------------------------------------------------
async function route() {
  if (state.sync) { state.sync.destroy(); state.sync = null; }
  state.keys = null;
  const main = $("#main");
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query || "");
  try {
    if (path.startsWith("/task/")) await viewTask(main, decodeURIComponent(path.slice(6)), params);
    else if (path === "/label") await viewLabel(main);
    else if (path === "/agreement") await viewAgreement(main);
    else await viewTasks(main);
    document.body.dataset.view = path || "/";
  } catch (e) { main.innerHTML = `<p class="bad">${esc(e.message)}</p>`; }
}

document.addEventListener("keydown", (e) => { if (state.keys) state.keys(e); });
window.addEventListener("hashchange", route);
(async () => {
  const meta = await api("/api/runs");
  state.meta = meta;
  $("#runs").textContent = meta.runs.map((r) => `${r.label}: ${fmt(r.score)}`).join(" · ");
  await route();
})();
