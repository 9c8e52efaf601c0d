"""The offline library mirror: CDN URLs of pinned front-end libraries and fonts, served
from a hash-verified local cache on the page's behalf.

Contract:
- The lock (`judge/libraries.lock.json`, package data; `lock()`) lists npm packages by
  name, version, tarball integrity (sha512) and, per file kept, its sha256. Only files
  listed there are ever served. `lock().sha256` (16 hex) identifies it in score keys.
- The cache (`libs_root()`: `$WEBJUDGE_LIBS_DIR`, else `judge.files.cache_dir("libs")`)
  holds `<name>@<version>/<path>`; it is filled by `judge libs sync` (`judge.libs`), never
  here: nothing is downloaded at judge time.
- `resolve(url, mode)` maps a request URL to a served file (`Served`), a refusal with a
  reason (`Refused`: the URL names a CDN or font API but the mirror cannot answer it), or
  None (not a library URL: the sandbox blocks it as before). Supported: cdnjs
  (`/ajax/libs/NAME/VER/FILE`), jsDelivr (`/npm/PKG@VER/FILE`), unpkg, esm.sh (packages
  with a single-file ES module build), code.jquery.com, ajax.googleapis.com (jquery),
  d3js.org, the Tailwind v3 Play CDN, Font Awesome (`use.` releases and kits), and the
  Google Fonts (and Bunny Fonts) CSS APIs, answered with generated `@font-face` rules
  pointing at the mirrored @fontsource files (jsDelivr URLs, served by the same mapping).
- Modes: `mirror` (default) serves the version a URL names when it is mirrored
  (`exact`), or the mirrored version a range/no version resolves to (`range`);
  `nearest` also serves the nearest mirrored version of the same major for a version
  not mirrored (`substituted`); `off` serves nothing (every library URL is refused).
- Containment: a URL path is percent-decoded once and must be a plain relative path
  (no `..`, `.`, empty segment, backslash, NUL, or encoded `%2e%2e` surviving decoding)
  that the lock lists for that package; the file must be a regular file (not a symlink)
  whose resolved path lies inside the cache and whose sha256 matches the lock at serve
  time (memoised per inode/size/mtime). Anything else is refused with its reason.
- `LibraryUse` is what one scoring collects (served, refused, blocked requests, page
  errors) across the page sessions it opens; `library_scope(mode)` makes one current for
  the sessions opened inside it (a context variable), `current_use()` is what a page
  session takes at open (a fresh default one outside any scope).
"""
from __future__ import annotations

import contextvars
import json
import os
import re
import stat
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from judge.files import cache_dir, sha256_bytes

LOCK_PATH = Path(__file__).resolve().parents[1] / "libraries.lock.json"
MODES = ("mirror", "nearest", "off")
DEFAULT_MODE = "mirror"
MATCHES = ("exact", "range", "substituted")

_TYPES = {".js": "application/javascript; charset=utf-8", ".mjs": "application/javascript; charset=utf-8",
          ".cjs": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".json": "application/json", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf",
          ".otf": "font/otf", ".eot": "application/vnd.ms-fontobject", ".svg": "image/svg+xml",
          ".png": "image/png", ".wasm": "application/wasm"}


def default_mode() -> str:
    mode = os.environ.get("WEBJUDGE_LIBRARIES", DEFAULT_MODE)
    return mode if mode in MODES else DEFAULT_MODE


def libs_root() -> Path:
    env = os.environ.get("WEBJUDGE_LIBS_DIR")
    return Path(env).expanduser() if env else cache_dir("libs")


# ---- the lock ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: dict            # path -> sha256
    entry: str | None      # the file a bare jsDelivr/unpkg URL gets
    esm: str | None        # the single-file ES module build esm.sh answers with
    cdnjs: tuple | None    # (cdnjs library name, path prefix in the package)
    font: str | None       # Google Fonts family name (an @fontsource package)

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def dir(self) -> str:
        return self.key


@dataclass(frozen=True)
class Lock:
    sha256: str
    packages: tuple
    integrity: dict        # key -> {"tarball", "integrity"}

    def versions(self, name: str) -> list[Package]:
        return sorted((p for p in self.packages if p.name == name), key=lambda p: _vkey(p.version), reverse=True)

    def by_cdnjs(self, lib: str) -> str | None:
        low = lib.lower()
        return next((p.name for p in self.packages if p.cdnjs and p.cdnjs[0].lower() == low), None)

    def by_font(self, family: str) -> Package | None:
        low = " ".join(family.split()).lower()
        return next((p for p in self.packages if p.font and p.font.lower() == low), None)


def load_lock(path: Path | str = LOCK_PATH) -> Lock:
    raw = Path(path).read_bytes()
    data = json.loads(raw)
    pkgs, integ = [], {}
    for key, p in data["packages"].items():
        pkg = Package(name=p["name"], version=p["version"], files=dict(p["files"]), entry=p.get("entry"),
                      esm=p.get("esm"), cdnjs=tuple(p["cdnjs"]) if p.get("cdnjs") else None, font=p.get("font"))
        if pkg.key != key:
            raise ValueError(f"{path}: packages.{key}: name@version says {pkg.key}")
        pkgs.append(pkg)
        integ[key] = {"tarball": p["tarball"], "integrity": p["integrity"]}
    return Lock(sha256=sha256_bytes(raw)[:16], packages=tuple(pkgs), integrity=integ)


@lru_cache(maxsize=4)
def _lock_cached(path: str, mtime: float) -> Lock:
    return load_lock(path)


def lock() -> Lock:
    """The lock shipped with the package (re-read when the file changes)."""
    return _lock_cached(str(LOCK_PATH), LOCK_PATH.stat().st_mtime)


# ---- versions ----------------------------------------------------------------------------
_NUM = re.compile(r"^(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:[-+].*)?$")


def _vkey(v: str) -> tuple:
    m = _NUM.match(v)
    if not m:
        return (-1, -1, -1, v)
    return tuple(int(g) if g and g.isdigit() else -1 for g in m.groups()) + (v,)


def parse_spec(spec: str | None) -> tuple[str, tuple | None]:
    """('exact'|'range'|'any'|'bad', (major, minor, patch) with None for free parts)."""
    if spec is None or spec in ("", "latest", "*", "x"):
        return "any", None
    s = spec.strip().lstrip("v=")
    caret = s.startswith("^")
    tilde = s.startswith("~")
    s = s.lstrip("^~")
    m = _NUM.match(s)
    if not m:
        return "bad", None
    parts = [int(g) if g and g.isdigit() else None for g in m.groups()]
    if not caret and not tilde and None not in parts and "-" not in s and "+" not in s:
        return "exact", tuple(parts)
    if "-" in s and None not in parts:  # a prerelease: exact or nothing
        return "exact", tuple(parts)
    return "range", ("^" if caret else "~" if tilde else "=", *parts)


def _satisfies(version: str, rng: tuple) -> bool:
    op, major, minor, patch = rng
    m = _NUM.match(version)
    if not m or "-" in version:
        return False
    v = tuple(int(g) for g in m.groups())
    if op in ("^", "~"):  # at least the given version, within the major (^) or minor (~)
        floor = (major, minor or 0, patch or 0)
        return v >= floor and v[0] == major and (op == "^" or minor is None or v[1] == minor)
    return v[0] == major and (minor is None or v[1] == minor) and (patch is None or v[2] == patch)


def choose(lock_: Lock, name: str, spec: str | None, mode: str) -> tuple[Package | None, str, str]:
    """(package, match, reason): the mirrored version serving `name@spec` under `mode`."""
    versions = lock_.versions(name)
    if not versions:
        return None, "", f"{name} is not in the mirror"
    kind, parts = parse_spec(spec)
    listed = ", ".join(p.version for p in versions)
    if kind == "any":
        return versions[0], "range", ""
    if kind == "bad":
        return None, "", f"{name} version {spec!r} not understood (mirrored: {listed})"
    if kind == "exact":
        hit = next((p for p in versions if p.version == spec.lstrip("v=")), None)
        if hit:
            return hit, "exact", ""
        major = parts[0]
    else:
        hit = next((p for p in versions if _satisfies(p.version, parts)), None)
        if hit:
            return hit, "range", ""
        major = parts[1]
    same = [p for p in versions if _vkey(p.version)[0] == major]
    if mode == "nearest" and same:
        want = (parts if kind == "exact" else parts[1:])
        want = tuple(x if x is not None else 0 for x in want)
        best = min(same, key=lambda p: (abs(_vkey(p.version)[1] - want[1]), abs(_vkey(p.version)[2] - want[2])))
        return best, "substituted", ""
    hint = f"; --libraries nearest would serve {same[0].version}" if same else ""
    return None, "", f"{name} {spec} not mirrored (mirrored: {listed}{hint})"


# ---- URL mapping ---------------------------------------------------------------------------
@dataclass
class Served:
    url: str
    package: Package
    path: str | None           # file in the package (None: generated body)
    match: str                 # exact | range | substituted
    requested: str | None      # the version the URL asked for (None: none)
    body: bytes | None = None  # a generated body (font CSS)
    content_type: str | None = None

    def record(self) -> dict:
        return {"url": self.url[:300], "package": self.package.key, "match": self.match,
                "requested": self.requested, "file": self.path}


@dataclass
class Refused:
    url: str
    reason: str


JSDELIVR = {"cdn.jsdelivr.net", "fastly.jsdelivr.net", "gcore.jsdelivr.net", "testingcf.jsdelivr.net", "quantum.jsdelivr.net"}
FONT_APIS = {"fonts.googleapis.com", "fonts.bunny.net"}
HOSTS = JSDELIVR | FONT_APIS | {"cdnjs.cloudflare.com", "unpkg.com", "esm.sh", "cdn.tailwindcss.com",
                                "use.fontawesome.com", "kit.fontawesome.com", "ka-f.fontawesome.com",
                                "code.jquery.com", "ajax.googleapis.com", "d3js.org", "fonts.gstatic.com"}


def is_library_url(url: str) -> bool:
    try:
        return (urlsplit(url).hostname or "") in HOSTS
    except ValueError:
        return False


def clean_path(raw: str) -> str | None:
    """A percent-decoded relative POSIX path with no way out of its folder, or None."""
    path = unquote(raw)
    if "%" in path and re.search(r"%[0-9a-fA-F]{2}", path):
        return None                      # double encoding (`%252e%252e`): refused, never decoded twice
    if not path or "\\" in path or "\0" in path or path.startswith("/"):
        return None
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return path


def _split_pkg(rest: str) -> tuple[str, str | None, str] | None:
    """'@scope/name@ver/path' or 'name@ver/path' -> (name, version or None, path)."""
    segs = rest.split("/")
    if segs[0].startswith("@"):
        if len(segs) < 2:
            return None
        head, tail = segs[0] + "/" + segs[1], segs[2:]
        name, _, ver = head[1:].partition("@")
        name = "@" + name
    else:
        head, tail = segs[0], segs[1:]
        name, _, ver = head.partition("@")
    if not name or name in ("@",):
        return None
    return name, (ver or None), "/".join(tail)


def resolve(url: str, mode: str, lock_: Lock | None = None) -> Served | Refused | None:
    """What the mirror does with `url` (see the module docstring)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host not in HOSTS or parts.scheme not in ("http", "https"):
        return None
    if mode == "off":
        return Refused(url, "libraries off (--libraries off)")
    lock_ = lock_ or lock()
    raw = parts.path
    try:
        if host == "cdnjs.cloudflare.com":
            m = re.match(r"^/ajax/libs/([^/]+)/([^/]+)/(.+)$", raw)
            if not m:
                return Refused(url, "cdnjs URL without library/version/file")
            lib, ver, rest = unquote(m.group(1)), unquote(m.group(2)), m.group(3)
            name = lock_.by_cdnjs(lib)
            if name is None:
                return Refused(url, f"cdnjs {lib} {ver} (not mirrored)")
            if re.fullmatch(r"r\d+", ver):     # three.js on cdnjs: r128 = 0.128.0
                ver = f"0.{ver[1:]}.0"
            return _file(url, lock_, name, ver, rest, mode, cdnjs=True)
        if host in JSDELIVR or host == "unpkg.com" or host == "esm.sh":
            rest = raw.lstrip("/")
            if host in JSDELIVR:
                if not rest.startswith("npm/"):
                    return Refused(url, "jsDelivr URL outside /npm/ (not mirrored)")
                rest = rest[4:]
            if not rest:
                return Refused(url, "no package named")
            segs = rest.split("/")
            n = 2 if unquote(segs[0]).startswith("@") else 1
            split = _split_pkg(unquote("/".join(segs[:n])))
            if split is None:
                return Refused(url, "no package named")
            name, ver, _ = split
            path = "/".join(segs[n:])
            return _file(url, lock_, name, ver, path, mode, esm=host == "esm.sh")
        if host == "cdn.tailwindcss.com":
            ver = unquote(raw.strip("/")) or None
            path = "tailwindcss-with-all-plugins.js" if parse_qs(parts.query).get("plugins") else "tailwindcss.js"
            return _tailwind_play(url, lock_, ver, path, mode)
        if host in FONT_APIS:
            return _font_css(url, lock_, parts, mode)
        if host == "use.fontawesome.com":
            m = re.match(r"^/releases/v([^/]+)/(.+)$", raw)
            if not m:
                return Refused(url, "Font Awesome URL without /releases/vVERSION/ (not mirrored)")
            return _file(url, lock_, "@fortawesome/fontawesome-free", m.group(1), m.group(2), mode)
        if host in ("kit.fontawesome.com", "ka-f.fontawesome.com"):
            if host == "kit.fontawesome.com" and re.fullmatch(r"/[0-9a-zA-Z]+\.js", raw):
                # a kit is an account's configuration: answered with the free set's all-in-one script
                return _file(url, lock_, "@fortawesome/fontawesome-free", None, "js/all.min.js", mode)
            return Refused(url, "Font Awesome kit asset (not mirrored)")
        if host == "code.jquery.com":
            m = re.match(r"^/jquery-(\d+\.\d+\.\d+)((?:\.slim)?(?:\.min)?\.js)$", raw)
            if not m:
                return Refused(url, "code.jquery.com file (not mirrored)")
            return _file(url, lock_, "jquery", m.group(1), "dist/jquery" + m.group(2), mode)
        if host == "ajax.googleapis.com":
            m = re.match(r"^/ajax/libs/jquery/([^/]+)/(.+)$", raw)
            if not m:
                return Refused(url, "ajax.googleapis.com library (not mirrored)")
            return _file(url, lock_, "jquery", m.group(1), "dist/" + m.group(2), mode)
        if host == "d3js.org":
            m = re.match(r"^/d3\.v(\d+)(\.min)?\.js$", raw)
            if not m:
                return Refused(url, "d3js.org file (not mirrored)")
            return _file(url, lock_, "d3", m.group(1), f"dist/d3{m.group(2) or ''}.js", mode)
        return Refused(url, f"{host} files are not mirrored")
    except _Bad as e:
        return Refused(url, str(e))


class _Bad(Exception):
    pass


def _file(url: str, lock_: Lock, name: str, ver: str | None, raw_path: str, mode: str, *,
          cdnjs: bool = False, esm: bool = False) -> Served | Refused:
    pkg, match, reason = choose(lock_, name, ver, mode)
    if pkg is None:
        return Refused(url, reason)
    if raw_path in ("", "/"):
        path = pkg.esm if esm else pkg.entry
        if path is None:
            return Refused(url, f"{pkg.key} has no {'ES module' if esm else 'default'} file in the mirror")
    else:
        path = clean_path(raw_path)
        if path is None:
            return Refused(url, f"path {raw_path[:80]!r} escapes the package (refused)")
    candidates = [path]
    if cdnjs and pkg.cdnjs and pkg.cdnjs[1]:
        candidates.insert(0, pkg.cdnjs[1] + path)
    hit = next((c for c in candidates if c in pkg.files), None)
    if hit is None:
        return Refused(url, f"{pkg.key} has no file {path[:80]} in the mirror")
    return Served(url, pkg, hit, match, ver)


def _tailwind_play(url: str, lock_: Lock, ver: str | None, path: str, mode: str) -> Served | Refused:
    """The Tailwind v3 Play CDN (`cdn.tailwindcss.com[/VERSION]`): its builds are mirrored
    as the files `VERSION/tailwindcss*.js` of the npm package `tailwindcss-cdn`."""
    pkgs = lock_.versions("tailwindcss-cdn")
    if not pkgs:
        return Refused(url, "the Tailwind Play CDN is not in the mirror")
    pkg = pkgs[0]
    builds = sorted({f.split("/", 1)[0] for f in pkg.files if "/" in f and f.endswith("/" + path)}, key=_vkey, reverse=True)
    if not builds:
        return Refused(url, f"no Tailwind Play build {path} in the mirror")
    if ver is None:
        return Served(url, pkg, f"{builds[0]}/{path}", "range", None)
    ver = ver.lstrip("v")
    kind, parts = parse_spec(ver)
    if kind == "exact" and ver in builds:
        return Served(url, pkg, f"{ver}/{path}", "exact", ver)
    if kind == "range":
        hit = next((b for b in builds if _satisfies(b, parts)), None)
        if hit:
            return Served(url, pkg, f"{hit}/{path}", "range", ver)
    major = parts[0] if kind == "exact" else (parts[1] if kind == "range" else None)
    same = [b for b in builds if _vkey(b)[0] == major]
    if mode == "nearest" and same:
        return Served(url, pkg, f"{same[0]}/{path}", "substituted", ver)
    return Refused(url, f"Tailwind Play CDN {ver} not mirrored (mirrored: {', '.join(builds)})")


# Google Fonts: `css?family=Open+Sans:400,700italic|Roboto` and `css2?family=Roboto:ital,wght@0,400;1,700`
def _font_requests(parts) -> list[tuple[str, set]]:
    """[(family, {(weight, style)} or empty for the default)]."""
    q = parse_qs(parts.query, keep_blank_values=True)
    out = []
    if parts.path.rstrip("/") == "/css2":
        for fam in q.get("family", []):
            name, _, axes = fam.partition(":")
            wanted = set()
            if axes:
                tags, _, vals = axes.partition("@")
                tags = tags.split(",")
                for tup in vals.split(";"):
                    vs = tup.split(",")
                    if len(vs) != len(tags):
                        continue
                    d = dict(zip(tags, vs))
                    style = "italic" if d.get("ital") == "1" else "normal"
                    w = d.get("wght", "400")
                    if ".." in w:
                        lo, _, hi = w.partition("..")
                        wanted |= {(x, style) for x in range(100, 1000, 100) if _num(lo) <= x <= _num(hi)}
                    else:
                        wanted.add((_num(w), style))
            out.append((name, wanted))
    elif parts.path.rstrip("/") == "/css":
        for spec in q.get("family", []):
            for fam in spec.split("|"):
                name, _, vars_ = fam.partition(":")
                wanted = set()
                for v in filter(None, vars_.split(",")):
                    m = re.fullmatch(r"(\d+)?(i|italic)?", v.strip().lower().replace("regular", "400"))
                    if m:
                        wanted.add((int(m.group(1) or 400), "italic" if m.group(2) else "normal"))
                out.append((name, wanted))
    return out


def _num(s: str) -> int:
    try:
        return int(float(s))
    except ValueError:
        return 400


_FONT_FILE = re.compile(r"^files/(.+)-(latin|latin-ext)-(\d+)-(normal|italic)\.woff2$")
_RANGES = {"latin": "U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+0304, U+0308, "
                    "U+0329, U+2000-206F, U+20AC, U+2122, U+2191, U+2193, U+2212, U+2215, U+FEFF, U+FFFD",
           "latin-ext": "U+0100-02BA, U+02BD-02C5, U+02C7-02CC, U+02CE-02D7, U+02DD-02FF, U+0304, U+0308, "
                        "U+0329, U+1D00-1DBF, U+1E00-1E9F, U+1EF2-1EFF, U+2020, U+20A0-20AB, U+20AD-20C0, "
                        "U+2113, U+2C60-2C7F, U+A720-A7FF"}


def _font_css(url: str, lock_: Lock, parts, mode: str) -> Served | Refused:
    reqs = _font_requests(parts)
    if not reqs:
        return Refused(url, "font CSS API URL without family= (not mirrored)")
    display = (parse_qs(parts.query).get("display") or ["swap"])[0]
    if display not in ("auto", "block", "swap", "fallback", "optional"):
        display = "swap"
    rules, served, missing = [], [], []
    for family, wanted in reqs:
        family = " ".join(family.split())
        pkg = lock_.by_font(family)
        if pkg is None:
            missing.append(family)
            continue
        have: dict = {}
        for f in sorted(pkg.files):
            m = _FONT_FILE.match(f)
            if m:
                have.setdefault((int(m.group(3)), m.group(4)), []).append((m.group(2), f))
        faces = sorted(wanted or {(400, "normal")})
        for w, style in faces:
            files = have.get((w, style))
            if not files:
                continue  # Google answers without that face too; the browser synthesises it
            for subset, f in sorted(files, key=lambda x: x[0] != "latin-ext"):
                src = f"https://cdn.jsdelivr.net/npm/{pkg.key}/{f}"
                rules.append(f"/* {subset} */\n@font-face {{\n  font-family: '{family}';\n  font-style: {style};\n"
                             f"  font-weight: {w};\n  font-display: {display};\n  src: url({src}) format('woff2');\n"
                             f"  unicode-range: {_RANGES[subset]};\n}}\n")
        served.append(pkg)
    if not served:
        return Refused(url, f"font{'s' if len(missing) > 1 else ''} {', '.join(missing)} not mirrored")
    body = "".join(rules).encode()
    # one record per family; a family that is missing is still named (the CSS omits it, as a 400 would)
    out = Served(url, served[0], None, "range", None, body, "text/css; charset=utf-8")
    out.extra = [p for p in served[1:]]          # type: ignore[attr-defined]
    out.missing = missing                        # type: ignore[attr-defined]
    return out


# ---- serving from the cache -----------------------------------------------------------------
class Mirror:
    """A lock and the cache folder holding its files; reads verify each file's sha256
    against the lock (memoised per inode, size and mtime)."""

    def __init__(self, root: Path | None = None, lock_: Lock | None = None):
        self.root = Path(root) if root is not None else libs_root()
        self.lock = lock_ or lock()
        self._ok: dict[str, tuple] = {}

    def path(self, pkg: Package, rel: str) -> Path:
        return self.root / pkg.dir / rel

    def read(self, pkg: Package, rel: str) -> bytes:
        """The file's bytes; raises `LookupError` with the reason when it cannot be served."""
        want = pkg.files.get(rel)
        if want is None or clean_path(rel) != rel:
            raise LookupError(f"{pkg.key}/{rel} is not in the lock")
        p = self.path(pkg, rel)
        try:
            st = p.lstat()
        except OSError:
            raise LookupError(f"{pkg.key}/{rel} is not in the cache (run `judge libs sync`)") from None
        if stat.S_ISLNK(st.st_mode):
            raise LookupError(f"{pkg.key}/{rel}: a symlink in the cache (refused)")
        if not stat.S_ISREG(st.st_mode):
            raise LookupError(f"{pkg.key}/{rel} in the cache is not a regular file (refused)")
        walk = self.root
        for part in (pkg.dir + "/" + rel).split("/"):   # no symlink on the way down
            walk = walk / part
            if walk.is_symlink():
                raise LookupError(f"{pkg.key}/{rel}: a symlink in the cache (refused)")
        if not p.resolve().is_relative_to(self.root.resolve()):
            raise LookupError(f"{pkg.key}/{rel} resolves outside the cache (refused)")
        sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        data = p.read_bytes()
        if self._ok.get(str(p)) != sig:
            if sha256_bytes(data) != want:
                raise LookupError(f"{pkg.key}/{rel} in the cache does not match the lock's sha256 "
                                  "(tampered or corrupt; `judge libs verify`, `judge libs sync`)")
            self._ok[str(p)] = sig
        return data

    def verify(self, pkg: Package) -> list[str]:
        """Problems with one package's files in the cache (empty: all present and intact)."""
        problems = []
        for rel in sorted(pkg.files):
            try:
                self._ok.pop(str(self.path(pkg, rel)), None)
                self.read(pkg, rel)
            except LookupError as e:
                problems.append(str(e))
        return problems


_MIRRORS: dict[str, Mirror] = {}


def default_mirror() -> Mirror:
    root = str(libs_root())
    m = _MIRRORS.get(root)
    if m is None or m.lock is not lock():
        m = _MIRRORS[root] = Mirror(Path(root))
    return m


def content_type(path: str) -> str:
    return _TYPES.get(PurePosixPath(path).suffix.lower(), "application/octet-stream")


# ---- what one scoring collects -----------------------------------------------------------------
@dataclass
class LibraryUse:
    mode: str = field(default_factory=default_mode)
    mirror: Mirror | None = None
    served: list = field(default_factory=list)       # Served.record() dicts, one per URL
    refused: dict = field(default_factory=dict)      # url -> reason
    blocked: list = field(default_factory=list)      # "GET url" entries of the sandbox log
    page_errors: list = field(default_factory=list)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"libraries mode {self.mode!r}: one of {', '.join(MODES)}")
        if self.mirror is None and self.mode != "off":
            self.mirror = default_mirror()

    @property
    def lock_sha256(self) -> str | None:
        return (self.mirror.lock if self.mirror else lock()).sha256

    def answer(self, url: str) -> tuple[bytes, str] | None:
        """(body, content type) when the mirror serves `url`; None otherwise (the reason, for
        a library URL, is kept in `refused`)."""
        res = resolve(url, self.mode, self.mirror.lock if self.mirror else None)
        if res is None:
            return None
        if isinstance(res, Refused):
            self.refused.setdefault(url[:300], res.reason)
            return None
        try:
            body = res.body if res.body is not None else self.mirror.read(res.package, res.path)
        except LookupError as e:
            self.refused.setdefault(url[:300], str(e))
            return None
        if not any(s["url"] == res.url[:300] for s in self.served):
            self.served.append(res.record())
            for pkg in getattr(res, "extra", []):
                self.served.append({**res.record(), "package": pkg.key})
        for fam in getattr(res, "missing", []):
            self.refused.setdefault(f"{url[:260]} [{fam}]", f"font {fam} not mirrored")
        return body, res.content_type or content_type(res.path)

    def absorb(self, log) -> None:
        """A page session's sandbox log, at its close."""
        for b in log.blocked:
            if b not in self.blocked:
                self.blocked.append(b)
        for e in log.page_errors:
            if e not in self.page_errors and len(self.page_errors) < 20:
                self.page_errors.append(e)

    def row_fields(self) -> dict:
        """What a result row records: `libraries` (served), `blocked_requests` (every
        request the sandbox blocked, with the mirror's reason when it had one),
        `library_mode` and `library_lock`."""
        blocked = []
        for entry in self.blocked:
            url = entry.split(" ", 1)[1] if " " in entry else entry
            url = url.split(" (refused by the egress sink)")[0]
            blocked.append({"request": entry, "reason": self.refused.get(url[:300])})
        for key, reason in self.refused.items():  # refused fonts of a CSS that was served
            if key.endswith("]") and " [" in key:
                blocked.append({"request": f"FONT {key}", "reason": reason})
        return {"libraries": list(self.served), "blocked_requests": blocked, "library_mode": self.mode,
                "library_lock": self.lock_sha256}


_CURRENT: contextvars.ContextVar[LibraryUse | None] = contextvars.ContextVar("webjudge_libraries", default=None)


def current_use() -> LibraryUse:
    """The library use of the current scope, or a fresh default one."""
    use = _CURRENT.get()
    return use if use is not None else LibraryUse()


@contextmanager
def library_scope(mode: str | None = None, mirror: Mirror | None = None):
    """Page sessions opened inside use (and report into) one `LibraryUse`."""
    use = LibraryUse(mode or default_mode(), mirror)
    token = _CURRENT.set(use)
    try:
        yield use
    finally:
        _CURRENT.reset(token)


async def serve(session, route, request) -> bool:
    """The sandbox hook: fulfil `request` from the mirror if it may be; False otherwise
    (the sandbox then blocks and logs it as any other request)."""
    use = getattr(session, "libraries", None)
    if use is None or request.method not in ("GET", "HEAD"):
        return False
    hit = use.answer(request.url)
    if hit is None:
        return False
    await route.fulfill(status=200, body=hit[0], headers={
        "content-type": hit[1], "access-control-allow-origin": "*", "cross-origin-resource-policy": "cross-origin",
        "cache-control": "no-store", "x-webjudge-library": "mirror"})
    return True
