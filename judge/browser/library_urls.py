"""The library mirror's URL mapping: CDN and font-API URLs to locked package files
(`resolve`), with the containment rules of `judge.browser.mirror`'s docstring. Part of
`judge.browser.mirror`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from judge.browser.library_lock import (
    Lock,
    Package,
    _satisfies,
    _vkey,
    choose,
    clean_path,
    lock,
    parse_spec,
)


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


