"""`judge libs sync|list|verify|lock`: the offline library mirror's cache and lock, and the
short text block every command prints about a page's libraries and blocked requests.

Contract:
- `sync()` fetches each locked package's tarball from the npm registry (`$WEBJUDGE_NPM_REGISTRY`,
  else `$npm_config_registry`, else https://registry.npmjs.org), checks the tarball's sha512
  against the lock's `integrity`, extracts only the locked files, checks each file's sha256
  and writes it into the cache (`judge.browser.mirror.libs_root()`). A package whose files
  are already there and intact is not fetched again. `make setup` runs it; nothing else
  downloads.
- `verify()` lists every locked file missing from the cache or differing from its sha256
  (`judge libs verify` exits 1 when there is any).
- `lock` (for maintainers) rebuilds `judge/libraries.lock.json` from `PACKAGES`: versions
  and include patterns here, integrity from the registry, sha256 of each kept file.
- `page_block(row)` is the text block for one task (served libraries, blocked requests,
  page errors); `blocked_summary(rows)` counts tasks with blocked requests;
  `scan_page(html)` classifies the library URLs a page's source names (importers).
"""
from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import io
import json
import os
import re
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from judge.browser import mirror as M
from judge.errors import InputError, JudgeError
from judge.files import atomic_write, sha256_bytes

# (name, version, include patterns, cdnjs (name, prefix) or None, esm entry or None)
_JS = ["*.min.js", "*.js"]
PACKAGES = [
    ("gsap", "3.12.5", ["dist/*.js"], ("gsap", "dist/"), None),
    ("gsap", "3.12.2", ["dist/*.js"], ("gsap", "dist/"), None),
    ("animejs", "3.2.1", ["lib/anime*.js"], ("anime.js", "lib/"), "lib/anime.es.js"),
    ("three", "0.128.0", ["build/three*.js", "examples/js/controls/*.js", "examples/jsm/controls/*.js",
                          "examples/js/loaders/GLTFLoader.js"], ("three.js", "build/"), "build/three.module.js"),
    ("three", "0.160.0", ["build/three*.js", "examples/jsm/controls/*.js", "examples/jsm/loaders/GLTFLoader.js",
                          "examples/jsm/utils/BufferGeometryUtils.js"], None, "build/three.module.js"),
    ("p5", "1.9.0", ["lib/p5.js", "lib/p5.min.js", "lib/addons/p5.sound*.js"], ("p5.js", "lib/"), None),
    ("jquery", "3.7.1", ["dist/jquery*.js"], ("jquery", "dist/"), None),
    ("jquery", "3.6.0", ["dist/jquery*.js"], ("jquery", "dist/"), None),
    ("lodash", "4.17.21", ["lodash.js", "lodash.min.js", "core.js", "core.min.js"], ("lodash.js", ""), None),
    ("d3", "7.8.5", ["dist/d3*.js"], ("d3", "dist/"), None),
    ("chart.js", "4.4.0", ["dist/chart.umd.js", "dist/chart.js", "dist/chunks/*.js"], ("Chart.js", "dist/"), None),
    ("lottie-web", "5.12.2", ["build/player/lottie*.js"], ("lottie-web", "build/player/"), None),
    ("animate.css", "4.1.1", ["animate.css", "animate.min.css", "animate.compat.css"], ("animate.css", ""), None),
    ("bootstrap", "5.3.3", ["dist/css/bootstrap*.css", "dist/js/bootstrap*.js"], ("bootstrap", "dist/"), None),
    ("bootstrap-icons", "1.11.3", ["font/bootstrap-icons*.css", "font/fonts/*"], ("bootstrap-icons", ""), None),
    ("@fortawesome/fontawesome-free", "6.5.1", ["css/*.css", "js/*.js", "webfonts/*"], ("font-awesome", ""), None),
    ("alpinejs", "3.14.9", ["dist/cdn*.js", "dist/module.esm.js"], ("alpinejs", "dist/"), "dist/module.esm.js"),
    ("vue", "3.4.21", ["dist/vue.global*.js", "dist/vue.esm-browser*.js"], ("vue", "dist/"), "dist/vue.esm-browser.prod.js"),
    ("react", "18.2.0", ["umd/*.js"], ("react", ""), None),
    ("react-dom", "18.2.0", ["umd/*.js"], ("react-dom", ""), None),
    ("@tailwindcss/browser", "4.1.11", ["dist/*.js"], None, None),
    ("tailwindcss-cdn", "3.4.10", ["3.4.10/tailwindcss.js", "3.4.10/tailwindcss-with-all-plugins.js",
                                   "3.4.1/tailwindcss.js", "3.3.3/tailwindcss.js"], None, None),
]
# the 20 Google Fonts families pages use most, as @fontsource packages (latin + latin-ext woff2 only)
FONTS = ["Roboto", "Open Sans", "Montserrat", "Poppins", "Lato", "Inter", "Roboto Condensed", "Oswald", "Raleway",
         "Noto Sans", "Roboto Mono", "Nunito", "Playfair Display", "Ubuntu", "Rubik", "Merriweather", "Roboto Slab",
         "Work Sans", "Lora", "Fira Sans"]
FONT_VERSION = "5"     # newest 5.x of each family when the lock is rebuilt


def registry() -> str:
    return (os.environ.get("WEBJUDGE_NPM_REGISTRY") or os.environ.get("npm_config_registry")
            or "https://registry.npmjs.org").rstrip("/")


def _get(url: str, timeout: float = 120.0) -> bytes:
    import httpx

    try:
        r = httpx.get(url, timeout=timeout, follow_redirects=True)
        r.raise_for_status()
        return r.content
    except httpx.HTTPError as e:
        raise JudgeError(f"npm registry: {url}: {e}") from None


def _check_integrity(data: bytes, integrity: str, what: str) -> None:
    algo, _, b64 = integrity.partition("-")
    if algo not in ("sha512", "sha384", "sha256", "sha1"):
        raise JudgeError(f"{what}: unknown integrity algorithm {algo!r}")
    if base64.b64encode(hashlib.new(algo, data).digest()).decode() != b64:
        raise JudgeError(f"{what}: tarball does not match the lock's integrity {integrity[:24]}... (refused)")


def _members(data: bytes) -> dict[str, bytes]:
    """Regular files of an npm tarball, keyed by path without the top folder (`package/`)."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for m in tar.getmembers():
            if not m.isreg():
                continue  # links and devices are never taken from a tarball
            rel = m.name.split("/", 1)[1] if "/" in m.name else m.name
            if M.clean_path(rel) != rel:
                continue
            out[rel] = tar.extractfile(m).read()
    return out


def _tarball(name: str, version: str) -> str:
    return f"{registry()}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


# ---- sync / verify --------------------------------------------------------------------------
def sync(root: Path | None = None, log=print, workers: int = 4) -> int:
    """Fetch what is missing or damaged; returns the number of packages fetched."""
    mirror = M.Mirror(root)
    todo = [p for p in mirror.lock.packages if mirror.verify(p)]
    if not todo:
        log(f"libraries: {len(mirror.lock.packages)} packages in {mirror.root}, all verified (lock {mirror.lock.sha256})")
        return 0

    def fetch(pkg: M.Package) -> str:
        info = mirror.lock.integrity[pkg.key]
        url = _tarball(pkg.name, pkg.version)
        data = _get(url)
        _check_integrity(data, info["integrity"], pkg.key)
        files = _members(data)
        for rel, want in pkg.files.items():
            body = files.get(rel)
            if body is None:
                raise JudgeError(f"{pkg.key}: the tarball has no {rel}")
            if sha256_bytes(body) != want:
                raise JudgeError(f"{pkg.key}/{rel}: sha256 differs from the lock (refused)")
            dest = mirror.path(pkg, rel)
            if dest.is_symlink() or (dest.exists() and not dest.is_file()):
                dest.unlink()
            atomic_write(dest, body, fsync=False)
        return f"{pkg.key} ({len(pkg.files)} files, {len(data) >> 10} KiB)"

    with ThreadPoolExecutor(workers) as pool:
        for line in pool.map(fetch, todo):
            log(f"  fetched {line}")
    left = [p.key for p in mirror.lock.packages if mirror.verify(p)]
    if left:
        raise JudgeError(f"libraries still not verified after sync: {', '.join(left)}")
    log(f"libraries: fetched {len(todo)} of {len(mirror.lock.packages)} packages into {mirror.root} "
        f"(lock {mirror.lock.sha256})")
    return len(todo)


def verify(root: Path | None = None) -> list[str]:
    mirror = M.Mirror(root)
    return [msg for p in mirror.lock.packages for msg in mirror.verify(p)]


# ---- lock (maintainers) -----------------------------------------------------------------------
def _entry(pkg_json: dict, files: list[str]) -> str | None:
    for key in ("jsdelivr", "unpkg", "browser", "main"):
        v = pkg_json.get(key)
        if not isinstance(v, str):
            continue
        v = str(PurePosixPath(v.lstrip("./")))
        cands = [v, v + ".js"] if not v.endswith((".js", ".css")) else [v]
        for c in cands:
            mini = re.sub(r"\.(js|css)$", r".min.\1", c)
            for f in (mini, c):
                if f in files:
                    return f
    return None


def build_lock(path: Path = M.LOCK_PATH, log=print) -> dict:
    specs = [(n, v, inc, cdn, esm, None) for n, v, inc, cdn, esm in PACKAGES]
    for family in FONTS:
        name = "@fontsource/" + family.lower().replace(" ", "-")
        meta = json.loads(_get(f"{registry()}/{name}"))
        vers = sorted((v for v in meta["versions"] if v.startswith(FONT_VERSION + ".") and "-" not in v), key=M._vkey)
        specs.append((name, vers[-1], ["files/*-latin-[0-9]*-*.woff2", "files/*-latin-ext-[0-9]*-*.woff2"],
                      None, None, family))

    def one(spec):
        name, version, include, cdn, esm, font = spec
        meta = json.loads(_get(f"{registry()}/{name}/{version}"))
        data = _get(meta["dist"]["tarball"])
        _check_integrity(data, meta["dist"]["integrity"], f"{name}@{version}")
        members = _members(data)
        files = {rel: sha256_bytes(b) for rel, b in sorted(members.items())
                 if any(fnmatch.fnmatch(rel, pat) for pat in include) and not rel.endswith(".map")}
        if not files:
            raise JudgeError(f"{name}@{version}: no file matches {include}")
        if esm and esm not in files:
            raise JudgeError(f"{name}@{version}: esm entry {esm} not kept")
        pj = json.loads(members.get("package.json", b"{}"))
        return f"{name}@{version}", {
            "name": name, "version": version, "tarball": meta["dist"]["tarball"], "integrity": meta["dist"]["integrity"],
            "license": pj.get("license") if isinstance(pj.get("license"), str) else None,
            "entry": _entry(pj, list(files)), "esm": esm, "cdnjs": list(cdn) if cdn else None, "font": font,
            "files": files}

    with ThreadPoolExecutor(4) as pool:
        packages = dict(pool.map(one, specs))
    data = {"comment": "Generated by `judge libs lock` from judge/libs.py PACKAGES/FONTS; served offline by "
                       "judge/browser/mirror.py. Do not edit by hand.", "version": 1, "packages": packages}
    atomic_write(path, json.dumps(data, indent=1, sort_keys=False) + "\n")
    n = sum(len(p["files"]) for p in packages.values())
    log(f"wrote {path}: {len(packages)} packages, {n} files")
    return data


# ---- text for outputs ---------------------------------------------------------------------------
def _short_blocked(item: dict) -> str:
    req, reason = item.get("request", ""), item.get("reason")
    url = req.split(" ", 1)[1] if " " in req else req
    if reason:
        host = re.sub(r"^https?://", "", url).split("/", 1)[0]
        return f"{host.split('.')[-2] if host.count('.') else host}: {reason}"
    return url[:100]


def _page_errors(row: dict) -> list[str]:
    render = row.get("render") if isinstance(row.get("render"), dict) else {}
    pe = row.get("page_errors")
    errs = list(render.get("page_errors") or [])
    if isinstance(pe, dict):
        errs += list(pe.get("page_errors") or [])
    elif isinstance(pe, list):
        errs += [str(e) for e in pe]
    seen, out = set(), []
    for e in errs:
        line = str(e).splitlines()[0][:160] if str(e) else ""
        if line and line not in seen:
            seen.add(line)
            out.append(line)
    return out


def page_block(row: dict, indent: str = "  ", limit: int = 4) -> list[str]:
    """The short block printed under a task: served libraries, blocked requests, page
    errors. Empty when there is nothing to say."""
    lines = []
    served = row.get("libraries") or []
    if served:
        items = []
        for s in served:
            item = f"{s['package']} {s['match']}"
            if s.get("match") == "substituted":
                item += f" for {s.get('requested')}"
            if item not in items:
                items.append(item)
        lines.append(f"{indent}libraries served ({row.get('library_mode')}): " + ", ".join(items[:limit])
                     + (f", +{len(items) - limit} more" if len(items) > limit else ""))
    blocked = row.get("blocked_requests")
    if blocked is None:   # rows written before the mirror: the sandbox's own list
        render = row.get("render") if isinstance(row.get("render"), dict) else {}
        blocked = [{"request": b, "reason": None} for b in render.get("blocked_requests") or []]
    if blocked:
        shown = [_short_blocked(b) for b in blocked[:limit]]
        lines.append(f"{indent}{len(blocked)} request{'s' if len(blocked) != 1 else ''} blocked: " + "; ".join(shown)
                     + (f"; +{len(blocked) - limit} more" if len(blocked) > limit else ""))
    errs = _page_errors(row)
    if errs:
        lines.append(f"{indent}page error{'s' if len(errs) != 1 else ''}: " + "; ".join(errs[:2])
                     + (f"; +{len(errs) - 2} more" if len(errs) > 2 else ""))
    return lines


def blocked_summary(rows) -> int:
    """How many of `rows` had at least one blocked request."""
    return sum(1 for r in rows if r.get("blocked_requests"))


_URL = re.compile(r"""(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)|@import\s+(?:url\()?["']?((?:https?:)?//[^"')\s;]+)""", re.I)
_IMPORT = re.compile(r"""(?:from|import)\s*\(?\s*["']((?:https?:)?//[^"']+)["']""")


def scan_page(html: str, mode: str = "mirror") -> list[dict]:
    """The remote URLs a page's source names (script/link/img src and href, CSS @import,
    ES imports), each with what the sandbox would do: {url, status: served|refused|blocked,
    package, match, reason}. Static: URLs built at run time are not seen."""
    urls = []
    for m in list(_URL.finditer(html)) + list(_IMPORT.finditer(html)):
        u = next(g for g in m.groups() if g)
        u = "https:" + u if u.startswith("//") else u
        if u not in urls:
            urls.append(u)
    lock_ = M.lock()
    out = []
    for u in urls:
        host = re.sub(r"^https?://", "", u).split("/", 1)[0].split(":")[0].lower()
        if host == "www.w3.org":   # namespaces, not requests
            continue
        res = M.resolve(u, mode, lock_)
        if res is None:
            out.append({"url": u, "status": "blocked", "reason": "not a mirrored CDN"})
        elif isinstance(res, M.Refused):
            out.append({"url": u, "status": "refused", "reason": res.reason})
        else:
            out.append({"url": u, "status": "served", "package": res.package.key, "match": res.match})
    return out


def unmirrored(html: str, mode: str = "mirror") -> list[dict]:
    """The entries of `scan_page` the sandbox would not serve."""
    return [e for e in scan_page(html, mode) if e["status"] != "served"]


# ---- CLI ----------------------------------------------------------------------------------------
def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("libs", help="the offline library mirror: sync, list, verify",
                       description="CDN libraries and web fonts served offline to pages under test "
                                   "(pinned in judge/libraries.lock.json).")
    lsub = p.add_subparsers(dest="libs_command", required=True)
    s = lsub.add_parser("sync", help="fetch locked packages missing from the cache (npm registry), verify hashes")
    s.set_defaults(func=_sync)
    ls = lsub.add_parser("list", help="the mirrored packages, and whether each is in the cache")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    v = lsub.add_parser("verify", help="check every cached file against the lock (exit 1 on a problem)")
    v.set_defaults(func=_verify)
    lk = lsub.add_parser("lock", help="(maintainers) rebuild judge/libraries.lock.json from judge/libs.py")
    lk.set_defaults(func=_lock)
    for q in (s, ls, v):
        q.add_argument("--dir", type=Path, default=None, help="cache folder (default $WEBJUDGE_LIBS_DIR or "
                                                               "~/.cache/webjudge/libs)")
    return p


def _root(args) -> Path | None:
    d = getattr(args, "dir", None)
    if d is not None and d.exists() and not d.is_dir():
        raise InputError(f"{d}: --dir: not a folder")
    return d


def _sync(args) -> int:
    sync(_root(args))
    return 0


def _list(args) -> int:
    mirror = M.Mirror(_root(args))
    rows = [{"package": p.key, "files": len(p.files), "cached": not mirror.verify(p),
             "cdnjs": p.cdnjs[0] if p.cdnjs else None, "font": p.font} for p in mirror.lock.packages]
    if args.json:
        print(json.dumps({"lock": mirror.lock.sha256, "dir": str(mirror.root), "packages": rows}, indent=2))
        return 0
    print(f"lock {mirror.lock.sha256} ({M.LOCK_PATH}), cache {mirror.root}")
    for r in rows:
        extra = f"  Google Fonts '{r['font']}'" if r["font"] else (f"  cdnjs {r['cdnjs']}" if r["cdnjs"] else "")
        print(f"  {'ok     ' if r['cached'] else 'missing'}  {r['package']:<42} {r['files']:>3} files{extra}")
    return 0


def _verify(args) -> int:
    problems = verify(_root(args))
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    n = len(M.lock().packages)
    print(f"{n} packages: " + (f"{len(problems)} problems" if problems else "all files verified"))
    return 1 if problems else 0


def _lock(args) -> int:
    build_lock()
    return 0


def library_key(mode: str) -> str:
    """The library part of a scoring key: the mode and, unless off, the lock's hash."""
    return f"|libs={mode}" + ("" if mode == "off" else f":{M.lock().sha256}")


def blocked_note(blocked: list[str]) -> str:
    """'; N requests blocked: ...' for an error message about a page (empty when none),
    with the mirror's reason for library URLs."""
    if not blocked:
        return ""
    items = []
    for entry in blocked[:3]:
        url = entry.split(" ", 1)[1] if " " in entry else entry
        res = M.resolve(url, M.default_mode())
        items.append(f"{url[:100]}" + (f" ({res.reason})" if isinstance(res, M.Refused) else ""))
    more = f"; +{len(blocked) - 3} more" if len(blocked) > 3 else ""
    return f"; {len(blocked)} request{'s' if len(blocked) != 1 else ''} blocked: " + "; ".join(items) + more
