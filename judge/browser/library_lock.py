"""The library mirror's lock and cache: which npm packages and files are pinned
(`judge/libraries.lock.json`), version choice per mode, and reading a verified file from
the local cache (`Mirror`). Part of `judge.browser.mirror` (see its docstring)."""
from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

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
