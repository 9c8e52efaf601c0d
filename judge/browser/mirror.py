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

Three modules: `library_lock` (the lock, versions, the verified cache), `library_urls`
(URL mapping) and this one (what one scoring collects, the scope, the sandbox hook); their
names are re-exported here.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field

from judge.browser.library_lock import (  # noqa: F401 (re-exported)
    _NUM,
    _TYPES,
    DEFAULT_MODE,
    LOCK_PATH,
    MATCHES,
    MODES,
    Lock,
    Mirror,
    Package,
    _lock_cached,
    _satisfies,
    _vkey,
    choose,
    clean_path,
    content_type,
    default_mirror,
    default_mode,
    libs_root,
    load_lock,
    lock,
    parse_spec,
)
from judge.browser.library_urls import (  # noqa: F401 (re-exported)
    _FONT_FILE,
    _RANGES,
    FONT_APIS,
    HOSTS,
    JSDELIVR,
    Refused,
    Served,
    _Bad,
    _file,
    _font_css,
    _font_requests,
    _num,
    _split_pkg,
    _tailwind_play,
    is_library_url,
    resolve,
)


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
