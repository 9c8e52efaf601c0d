"""Import Animation2Code sample folders as animation webjudge tasks.

A sample folder (Hugging Face `anim2code/dataset`, CC-BY-4.0)::

    <sample>/metadata.json          title, CodePen url (kept whole in metadata.a2c_metadata)
    <sample>/src/index.html         the pen's HTML (a CodePen "HTML panel" fragment, or a full document)
    <sample>/src/style.css
    <sample>/src/script.js          optional
    <sample>/animation.mp4
    <sample>/_record_manifest.json  optional, see below

A folder is a sample if it holds `animation.mp4` or a `src/` folder; other folders are
walked into (so `dataset/`, `dataset/test/` and a single sample all work) and otherwise
skipped. Hidden folders are skipped.

`_record_manifest.json` gives `animationType` ("css" | "js") and `durationS`. Two places
are supported, looked up in this order:

1. in the sample folder: `{"animationType": "css", "durationS": 5.0}` (or a mapping by
   sample name, as below);
2. in any folder between the sample and the dataset root (nearest first): a mapping by
   sample name, `{"<sample name>": {"animationType": ..., "durationS": ...}, ...}`, where the
   key is the folder name or its path relative to that folder (`test/<name>`); a list of
   objects carrying `name`/`id`/`sample` is accepted too.

Without a manifest entry the duration is the video's and `animationType` is unknown.

Output per sample: `out/<id>/task.json` (family animation; viewport and fps probed from
the video; duration from the manifest, else the video), `video.mp4`, and `reference.html`:
index.html with style.css inlined as a `<style>` in `<head>` and script.js as a `<script>`
at the end of `<body>`, as CodePen assembles a pen (see `assemble_codepen_page`). The id is
the sample folder name (characters outside `[A-Za-z0-9._-]` become `-`).
"""
from __future__ import annotations

import argparse
import html as html_lib
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from judge.importers import ImportFailed, ImportProblem, TaskImportError, log, log_to_stderr, stage_task_dir
from judge.tasks import TaskSpec, Viewport, save_spec
from judge.video import VideoError, probe

MANIFEST = "_record_manifest.json"
LICENSE = "CC-BY-4.0"
LICENSE_NOTE = ("Animation2Code (Hugging Face anim2code/dataset) is released under CC-BY-4.0; each sample is "
                "a CodePen pen by its author (see url): give credit when redistributing.")


def find_samples(dataset_dir: Path | str) -> list[Path]:
    """Every sample folder under `dataset_dir` (or `dataset_dir` itself), sorted."""
    root = Path(dataset_dir)
    if _is_sample(root):
        return [root]
    found: list[Path] = []
    stack = [root]
    while stack:
        d = stack.pop()
        for child in sorted(d.iterdir()) if d.is_dir() else []:
            if not child.is_dir() or child.name.startswith("."):
                continue
            if _is_sample(child):
                found.append(child)
            else:
                stack.append(child)
    return sorted(found)


def _is_sample(d: Path) -> bool:
    return d.is_dir() and ((d / "animation.mp4").is_file() or (d / "src").is_dir())


def import_a2c(dataset_dir: Path | str, out_dir: Path | str) -> list[Path]:
    """Import every Animation2Code sample under `dataset_dir` into `out_dir/<id>/`.

    Returns the task folders written. Samples that fail are reported with file and field
    and skipped; after all samples, `ImportFailed` is raised if any failed (its `.written`
    lists the folders written)."""
    root, out_dir = Path(dataset_dir), Path(out_dir)
    if not root.is_dir():
        raise ImportFailed([ImportProblem(root, "", "dataset folder not found")])
    samples = find_samples(root)
    if not samples:
        raise ImportFailed([ImportProblem(root, "", "no Animation2Code sample folders "
                                                    "(with animation.mp4 or src/) found")])
    manifests = _Manifests(root)
    problems: list[ImportProblem] = []
    written: list[Path] = []
    ids: dict[str, Path] = {}
    for sample in samples:
        task_id = re.sub(r"[^A-Za-z0-9._-]", "-", sample.name).lstrip("._-")
        try:
            if not task_id:
                raise _fail(sample, "", f"cannot make a task id from the folder name {sample.name!r}")
            if task_id in ids:
                raise _fail(sample, "", f"duplicate task id {task_id!r} (also {ids[task_id]})")
            ids[task_id] = sample
            written.append(_import_sample(sample, task_id, root, out_dir, manifests))
        except TaskImportError as e:
            problems.append(e.problem)
        except OSError as e:
            problems.append(ImportProblem(sample, "", str(e)))
    problems = manifests.problems + problems
    if problems:
        raise ImportFailed(problems, written)
    return written


def _fail(path: Path, field: str, message: str) -> TaskImportError:
    return TaskImportError(ImportProblem(path, field, message))


class _Manifests:
    """Finds a sample's manifest entry; parses each manifest file once."""

    def __init__(self, root: Path):
        self.root = root
        self.cache: dict[Path, Any] = {}
        self.problems: list[ImportProblem] = []

    def _load(self, path: Path) -> Any:
        if path not in self.cache:
            self.cache[path] = None
            if path.is_file():
                try:
                    self.cache[path] = json.loads(path.read_text(encoding="utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise _fail(path, "", f"not valid JSON ({e})") from None
        return self.cache[path]

    def entry(self, sample: Path) -> tuple[dict | None, Path | None]:
        own = sample / MANIFEST
        data = self._load(own)
        if isinstance(data, dict) and ({"animationType", "durationS"} & data.keys()):
            return data, own
        if data is not None:
            found = _lookup(data, [sample.name])
            if found is not None:
                return found, own
        d = sample.parent
        while True:
            path = d / MANIFEST
            try:
                data = self._load(path)
            except TaskImportError as e:           # a broken shared manifest: report once, go on
                if e.problem not in self.problems:
                    self.problems.append(e.problem)
                data = None
            if data is not None:
                found = _lookup(data, [sample.name, sample.relative_to(d).as_posix()])
                if found is not None:
                    return found, path
            if d == self.root or self.root not in d.parents:
                return None, None
            d = d.parent


def _lookup(data: Any, keys: list[str]) -> dict | None:
    if isinstance(data, dict):
        for k in keys:
            if isinstance(data.get(k), dict):
                return data[k]
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and any(item.get(f) in keys for f in ("name", "id", "sample")):
                return item
    return None


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise _fail(path, "", "missing metadata.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _fail(path, "", f"not valid JSON ({e})") from None


def _read_text(path: Path, field: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise _fail(path, field, f"not UTF-8 text ({e})") from None


def _import_sample(sample: Path, task_id: str, root: Path, out_dir: Path, manifests: _Manifests) -> Path:
    warnings: list[str] = []
    meta = _read_json(sample / "metadata.json")
    if not isinstance(meta, dict):
        raise _fail(sample / "metadata.json", "", f"expected a JSON object, got {type(meta).__name__}")
    for key in ("title", "url"):
        if not meta.get(key):
            warnings.append(f"metadata.json has no {key!r}")

    entry, manifest_path = manifests.entry(sample)
    anim_type = duration = None
    if entry is None:
        warnings.append(f"no {MANIFEST} entry: animationType unknown, duration taken from the video")
    else:
        anim_type = entry.get("animationType")
        if anim_type is not None:
            if not isinstance(anim_type, str) or anim_type.lower() not in ("css", "js"):
                raise _fail(manifest_path, "animationType", f"expected 'css' or 'js', got {anim_type!r}")
            anim_type = anim_type.lower()
        duration = entry.get("durationS")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, (int, float))
                                     or not 0 < duration <= 600):
            raise _fail(manifest_path, "durationS", f"expected seconds in (0, 600], got {duration!r}")

    index = sample / "src" / "index.html"
    if not index.is_file():
        raise _fail(index, "src/index.html", "missing src/index.html")
    html = _read_text(index, "src/index.html")
    css_path, js_path = sample / "src" / "style.css", sample / "src" / "script.js"
    if css_path.is_file():
        css = _read_text(css_path, "src/style.css")
    else:
        others = sorted(p.name for p in (sample / "src").glob("style.*"))
        if others:
            raise _fail(css_path, "src/style.css", f"missing; only {', '.join(others)} found "
                                                   f"(preprocessed stylesheets are not compiled)")
        css = ""
        warnings.append("no src/style.css: the page has no stylesheet")
    js = _read_text(js_path, "src/script.js") if js_path.is_file() else None

    video = sample / "animation.mp4"
    if not video.is_file():
        raise _fail(video, "animation.mp4", "missing animation.mp4")
    try:
        info = probe(video)
    except VideoError as e:
        raise _fail(video, "animation.mp4", f"unreadable video: {str(e).removeprefix(str(video) + ': ')}") from None
    try:
        viewport = Viewport(width=info.width, height=info.height)
    except ValidationError as e:
        raise _fail(video, "animation.mp4", f"video size {info.width}x{info.height} is not a valid viewport "
                                            f"({e.errors()[0]['msg']})") from None

    metadata: dict[str, Any] = {
        "source": "Animation2Code", "title": meta.get("title"), "url": meta.get("url"),
        "animationType": anim_type, "duration_source": "manifest" if duration else "video",
        "license": LICENSE, "license_note": LICENSE_NOTE,
        "a2c_sample": sample.relative_to(root).as_posix() if sample != root else sample.name,
        "a2c_metadata": meta,
    }
    if entry is not None:
        metadata["a2c_manifest"] = entry
    if warnings:
        metadata["import_warnings"] = warnings
    try:
        spec = TaskSpec(id=task_id, family="animation", viewport=viewport, fps=info.fps,
                        duration_s=float(duration) if duration else info.duration_s, video="video.mp4",
                        reference_page="reference.html", metadata=metadata)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise _fail(video, "animation.mp4", f"{loc}: {err['msg']}") from None

    with stage_task_dir(out_dir, task_id) as stage:
        shutil.copyfile(video, stage.dir / "video.mp4")
        page = assemble_codepen_page(html, css, js, title=meta.get("title"))
        (stage.dir / "reference.html").write_text(page, encoding="utf-8")
        save_spec(spec, stage.dir)
    for w in warnings:
        log.warning("%s: %s", sample, w)
    return stage.final


# --------------------------------------------------------------------------- page assembly

_FULL_DOC = re.compile(r"<!doctype|<html[\s>]|<body[\s>]|<head[\s>]", re.I)
_CSS_LINK = re.compile(r"""<link\b[^>]*\bhref\s*=\s*["']?(?:\./)?style\.css["']?[^>]*>""", re.I)
_JS_TAG = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']?(?:\./)?script\.js["']?[^>]*>\s*</script\s*>""", re.I)


def assemble_codepen_page(html: str, css: str, js: str | None, title: str | None = None) -> str:
    """One self-contained page from a pen's HTML, CSS and JS, as CodePen builds it: the CSS
    in a `<style>` in `<head>`, the HTML as the body, the JS in a `<script>` at the end of
    `<body>`. A full document is kept as is, with `style.css`/`script.js` references
    replaced by the inlined files (or the blocks inserted before `</head>`/`</body>`)."""
    style = "<style>\n" + re.sub(r"</(style)", r"<\\/\1", css, flags=re.I) + "\n</style>" if css.strip() else ""
    script = "<script>\n" + re.sub(r"</(script)", r"<\\/\1", js, flags=re.I) + "\n</script>" if js else ""
    if not _FULL_DOC.search(html):
        head = '<meta charset="UTF-8">\n'
        if title:
            head += f"<title>{html_lib.escape(str(title))}</title>\n"
        return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}{style + chr(10) if style else ""}</head>\n'
                f"<body>\n{html.strip()}\n{script + chr(10) if script else ''}</body>\n</html>\n")
    page = html
    if _CSS_LINK.search(page):                  # replace the reference (dropped when there is no CSS)
        page = _CSS_LINK.sub(lambda m: style, page, count=1)
    elif style and re.search(r"</head\s*>", page, re.I):
        page = re.sub(r"</head\s*>", lambda m: style + "\n" + m.group(0), page, count=1, flags=re.I)
    elif style and re.search(r"<body[\s>]", page, re.I):
        page = re.sub(r"<body[\s>]", lambda m: "<head>\n" + style + "\n</head>\n" + m.group(0), page, count=1,
                      flags=re.I)
    elif style:
        page = style + "\n" + page
    if _JS_TAG.search(page):                    # likewise for script.js
        page = _JS_TAG.sub(lambda m: script, page, count=1)
    elif script:
        ends = list(re.finditer(r"</body\s*>", page, re.I))
        if ends:
            page = page[:ends[-1].start()] + script + "\n" + page[ends[-1].start():]
        else:
            page = page + "\n" + script + "\n"
    return page


# --------------------------------------------------------------------------- CLI

def add_parser(tasks_subparsers) -> argparse.ArgumentParser:
    p = tasks_subparsers.add_parser(
        "import-a2c", help="import Animation2Code sample folders as animation tasks",
        description="Import Animation2Code samples. Exit 0 if all imported, 1 if some failed "
                    "(the others are still written), 2 if DATASET_DIR does not exist or holds no samples.")
    p.add_argument("dataset_dir", type=Path, metavar="DATASET_DIR",
                   help="a dataset folder (samples found recursively) or one sample folder")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (tasks go to DIR/<id>/)")
    p.set_defaults(func=_cli)
    return p


def _cli(args: argparse.Namespace) -> int:
    if not args.dataset_dir.is_dir():
        print(f"{args.dataset_dir}: dataset folder not found", file=sys.stderr)
        return 2
    if not find_samples(args.dataset_dir):
        print(f"{args.dataset_dir}: no Animation2Code sample folders (with animation.mp4 or src/) found",
              file=sys.stderr)
        return 2
    try:
        with log_to_stderr():
            written = import_a2c(args.dataset_dir, args.out)
    except ImportFailed as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"imported {len(e.written)} samples into {args.out}, {len(e.problems)} problems")
        _report_libraries(e.written)
        return 1
    print(f"imported {len(written)} samples into {args.out}")
    _report_libraries(written)
    return 0


def _report_libraries(written: list[Path]) -> None:
    """Hook (judge.libs): reference pages that name libraries the offline mirror does not
    serve; their tasks' oracle cannot run as recorded."""
    from judge.libs import unmirrored

    needy = []
    for task_dir in written:
        page = task_dir / "reference.html"
        missing = unmirrored(page.read_text(encoding="utf-8", errors="replace")) if page.is_file() else []
        if missing:
            needy.append((task_dir.name, missing))
    if needy:
        print(f"{len(needy)} reference page(s) need libraries outside the mirror (blocked when judged; see `judge libs list`):")
        for tid, missing in needy:
            print(f"  {tid}: " + "; ".join(f"{m['url'][:100]} ({m['reason']})" for m in missing[:4])
                  + (f"; +{len(missing) - 4} more" if len(missing) > 4 else ""))
