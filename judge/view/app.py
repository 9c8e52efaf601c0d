"""The `judge view` web app (Starlette): JSON over a `Catalog`, media, files, labels.

Contract (every route is GET unless noted; JSON unless noted):
- `/` the single-page app (`static/index.html`), `/static/...` its own files (package data,
  no external assets).
- `/api/runs`: the runs (index, label, path, model, headline score), the labelling setup
  (dimensions per family, number of pairs, label file, the `judge align` command).
- `/api/tasks`: `Catalog.task_rows()`.
- `/api/task/{task_id}`: the task (family, fps, frames, viewport) and per run: the row's
  headline fields, exec/static, crop boxes, errors, backends, media URL, and for
  interactive tasks the step records (`Catalog.steps`) with file URLs, `initial.png` and
  the `trace.zip` link (plus the `playwright show-trace` command).
- `/media/reference/{task_id}.webm`, `/media/candidate/{run}/{task_id}.webm`: previews
  (`judge.view.media`), made on first request; 404 when there is nothing to show.
- `/files/run/{run}/{path}` and `/files/task/{task_id}/{path}`: a file of a run directory
  or of a task folder, through `judge.view.data.resolve` (no `..`, encoded or not, no
  absolute path, no symlink out of the folder): anything else is 404. Nothing else on
  disk is reachable.
- `/api/label/next?annotator=NAME`: progress (done, total) and the next pair, anonymized:
  the candidates are "1" and "2" in the pair's recorded order, their media behind opaque
  tokens (`/label/media/{token}.webm`, `/label/shot/{token}/{name}`), never run names.
- POST `/api/label` `{annotator, pair, order, answers: {dim: "1"|"2"|"tie"}, time_s}`:
  appends the pair's rows (`judge.view.labels.Session.submit`); 400 with `{"error"}` on a
  bad submission.
- `/api/agreement`: `judge.view.agreement.report`.
"""
from __future__ import annotations

import contextlib
import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from judge.errors import WebjudgeError
from judge.summaries import HEADLINE, task_score
from judge.view import agreement
from judge.view.data import Catalog, resolve
from judge.view.labels import DIMENSIONS, LabelError, Session, shown_order
from judge.view.media import Previews, PreviewError

STATIC = Path(__file__).with_name("static")
ROW_FIELDS = ("exec", "static", "error", "error_kind", "judge_error", "backends", "boxes", "weak_steps", "exec_reason")


def _nf(msg: str = "not found") -> JSONResponse:
    return JSONResponse({"error": msg}, status_code=404)


def create_app(cat: Catalog, session: Session, previews: Previews | None = None) -> Starlette:
    previews = previews or Previews()
    tokens: dict[str, tuple[int, str]] = {}     # label-mode media token -> (run index, task id)

    def run_of(request: Request):
        try:
            return cat.run(int(request.path_params["run"]))
        except ValueError:
            return None

    async def runs(request: Request) -> JSONResponse:
        return JSONResponse({
            "runs": [{"index": r.index, "label": r.label, "path": str(r.path), "model": r.model,
                      "score": r.summary["overall"].get("score"), "tasks": r.summary["tasks"]} for r in cat.runs],
            "dimensions": DIMENSIONS, "pairs": len(session.pairs), "labels": str(session.file.path),
            "align": agreement.align_command(cat, session.file.path)})

    async def tasks(request: Request) -> JSONResponse:
        return JSONResponse({"runs": [r.label for r in cat.runs], "tasks": cat.task_rows()})

    async def task(request: Request) -> JSONResponse:
        tid = request.path_params["task_id"]
        t = cat.task(tid)
        fam = cat.family(tid)
        if fam is None:
            return _nf(f"unknown task {tid!r}")
        out = {"task_id": tid, "family": fam, "has_task": t is not None, "runs": []}
        if t is not None:
            s = t.spec
            out.update(fps=s.fps, n_frames=s.n_frames, duration_s=s.n_frames / s.fps,
                       viewport=[s.viewport.width, s.viewport.height],
                       reference_video=f"/media/reference/{tid}.webm" if fam == "animation" else None,
                       reference_initial=(f"/files/task/{tid}/checkpoints/initial.png"
                                          if t.initial_checkpoint_path else None),
                       actions=[a.description for a in s.actions])
        for r in cat.runs:
            row = r.row(tid)
            entry = {"index": r.index, "label": r.label, "row": None}
            if row is not None:
                entry["row"] = {"score": task_score(row), **{k: row.get(k) for k in HEADLINE.get(fam, ())},
                                **{k: row.get(k) for k in ROW_FIELDS if k in row}}
                if fam == "animation" and resolve(r.path, f"pages/{tid}/index.html"):
                    entry["video"] = f"/media/candidate/{r.index}/{tid}.webm"
                if fam == "interactive":
                    base = f"/files/run/{r.index}/"
                    steps = cat.steps(r, tid)
                    for st in steps:
                        st["shots"] = {k: base + v for k, v in st["shots"].items()}
                        st["reference"] = f"/files/task/{tid}/{st['reference']}" if st["reference"] else None
                    entry["steps"] = steps
                    ini, tr = cat.initial(r, tid), cat.trace(r, tid)
                    entry["initial"] = base + ini if ini else None
                    entry["trace"] = base + tr if tr else None
                    entry["trace_command"] = f"playwright show-trace {r.path / tr}" if tr else None
            out["runs"].append(entry)
        return JSONResponse(out)

    async def _serve(make) -> Response:
        try:
            path = await make()
        except (PreviewError, WebjudgeError) as e:
            return _nf(str(e))
        return FileResponse(path, media_type="video/webm", headers={"Cache-Control": "no-cache"})

    async def media_reference(request: Request) -> Response:
        t = cat.task(request.path_params["task_id"])
        if t is None or t.family != "animation" or not t.video_path.is_file():
            return _nf()
        return await _serve(lambda: previews.reference(t))

    async def _candidate(run, tid: str) -> Response:
        t = cat.task(tid)
        page = resolve(run.path, f"pages/{tid}/index.html") if run else None
        if t is None or page is None or t.family != "animation":
            return _nf()
        return await _serve(lambda: previews.candidate(t, page.read_bytes()))

    async def media_candidate(request: Request) -> Response:
        return await _candidate(run_of(request), request.path_params["task_id"])

    async def run_file(request: Request) -> Response:
        run = run_of(request)
        path = resolve(run.path, request.path_params["path"]) if run else None
        return FileResponse(path) if path else _nf()

    async def task_file(request: Request) -> Response:
        t = cat.task(request.path_params["task_id"])
        path = resolve(t.root, request.path_params["path"]) if t else None
        return FileResponse(path) if path else _nf()

    def _token(run_index: int, tid: str) -> str:
        tok = secrets.token_urlsafe(9)
        tokens[tok] = (run_index, tid)
        return tok

    async def label_next(request: Request) -> JSONResponse:
        annotator = request.query_params.get("annotator", "").strip()
        done, total = session.progress(annotator) if annotator else (0, len(session.pairs))
        nxt = session.next_pair(annotator) if annotator else None
        body = {"done": done, "total": total, "pair": None}
        if nxt is None:
            return JSONResponse(body)
        i, u = nxt
        order = shown_order(session.seed, annotator, u)
        shown = (u.run_a, u.run_b) if order == "ab" else (u.run_b, u.run_a)
        t = cat.task(u.task_id)
        pair = {"index": i, "task_id": u.task_id, "family": u.family, "order": order,
                "dimensions": list(DIMENSIONS[u.family]), "candidates": []}
        if u.family == "animation":
            pair.update(reference_video=f"/media/reference/{u.task_id}.webm", fps=t.spec.fps,
                        duration_s=t.spec.n_frames / t.spec.fps)
            pair["candidates"] = [{"side": str(k + 1), "video": f"/label/media/{_token(ri, u.task_id)}.webm"}
                                  for k, ri in enumerate(shown)]
        else:
            shots = [("initial", "initially", f"/files/task/{u.task_id}/checkpoints/initial.png"
                      if t.initial_checkpoint_path else None)]
            shots += [(f"step_{k}", f"after step {k + 1}: {a.description}",
                       f"/files/task/{u.task_id}/{a.checkpoint}" if a.checkpoint else None)
                      for k, a in enumerate(t.spec.actions)]
            pair["steps"] = [{"name": n, "label": lab, "reference": ref} for n, lab, ref in shots]
            pair["candidates"] = [{"side": str(k + 1), "shots": f"/label/shot/{_token(ri, u.task_id)}/"}
                                  for k, ri in enumerate(shown)]
        body["pair"] = pair
        return JSONResponse(body)

    async def label_submit(request: Request) -> JSONResponse:
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise LabelError("body: expected a JSON object")
            n = session.submit(str(data.get("annotator") or ""), data.get("pair"), data.get("answers") or {},
                               str(data.get("order")), data.get("time_s", 0.0))
        except LabelError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        except ValueError:
            return JSONResponse({"error": "body: not JSON"}, status_code=400)
        done, total = session.progress(str(data.get("annotator")).strip())
        return JSONResponse({"written": n, "done": done, "total": total})

    async def label_media(request: Request) -> Response:
        ri, tid = tokens.get(request.path_params["token"], (-1, ""))
        return await _candidate(cat.run(ri), tid) if ri >= 0 else _nf()

    async def label_shot(request: Request) -> Response:
        ri, tid = tokens.get(request.path_params["token"], (-1, ""))
        run = cat.run(ri) if ri >= 0 else None
        if run is None:
            return _nf()
        name = request.path_params["name"]
        rel = None
        if name == "initial":
            rel = cat.initial(run, tid)
        elif name.startswith("step_") and name[5:].isdigit():
            k = int(name[5:])
            rel = next((s["shots"].get("after") for s in cat.steps(run, tid) if s["index"] == k), None)
        path = resolve(run.path, rel) if rel else None
        return FileResponse(path) if path else _nf()

    async def agreement_report(request: Request) -> JSONResponse:
        return JSONResponse(agreement.report(cat, session.file.path))

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await previews.close()

    routes = [
        Route("/", index),
        Route("/api/runs", runs), Route("/api/tasks", tasks), Route("/api/task/{task_id}", task),
        Route("/media/reference/{task_id}.webm", media_reference),
        Route("/media/candidate/{run}/{task_id}.webm", media_candidate),
        Route("/files/run/{run}/{path:path}", run_file), Route("/files/task/{task_id}/{path:path}", task_file),
        Route("/api/label/next", label_next), Route("/api/label", label_submit, methods=["POST"]),
        Route("/label/media/{token}.webm", label_media), Route("/label/shot/{token}/{name}", label_shot),
        Route("/api/agreement", agreement_report),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
