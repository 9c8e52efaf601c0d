"""What an action's description and target hints ask for, and how well a page element
fits it: quoted strings, ordinals ("the 9th star", "second tab"), role words, keywords
and symbols, fuzzy text similarity, position near the target in the reference video,
plausibility for the action, and the ranking of the page's visible elements
(`agents.observe` records) that the grounding ladder's text rungs use
(`agents.grounding`)."""
from __future__ import annotations

import re
from difflib import SequenceMatcher


_QUOTE = re.compile(r'"([^"]+)"|“([^”]+)”|‘([^’]+)’|«([^»]+)»|(?<![A-Za-z0-9])\'([^\']+)\'(?![A-Za-z0-9])')
_ORD_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
              "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "last": -1}
_ORD = re.compile(r"\b(?:(\d+)(?:st|nd|rd|th)|(" + "|".join(_ORD_WORDS) + r"))\b(?:[\s-]+([a-z]+))?", re.I)
ROLE_WORDS = {"button": "button", "btn": "button", "link": "link", "tab": "tab", "input": "textbox",
              "field": "textbox", "box": "textbox", "textbox": "textbox", "textarea": "textbox", "bar": "textbox",
              "checkbox": "checkbox", "radio": "radio", "dropdown": "combobox", "select": "combobox",
              "menu": "menu", "toggle": "switch", "switch": "switch", "slider": "slider", "icon": "img",
              "image": "img", "logo": "img", "option": "option", "item": "item", "card": "item", "row": "item"}
SYMBOLS = {"star": "★☆⭐✩✭✮", "heart": "♥❤♡", "close": "×✕✖", "x": "×✕✖✗", "plus": "+＋", "add": "+＋",
           "minus": "−–", "next": "›»→▶", "previous": "‹«←◀", "back": "‹«←◀", "menu": "☰≡", "search": "🔍⌕",
           "check": "✓✔", "delete": "🗑✕×", "remove": "🗑✕×", "help": "?❓ⓘ", "info": "ⓘℹ", "setting": "⚙",
           "home": "⌂🏠", "cart": "🛒", "edit": "✎✏", "play": "▶►", "pause": "⏸", "more": "⋯…⋮"}
_STOP = set("a an the on in to of and with at for into from by this that it its then please user page "
            "click clicks tap taps press presses double type types enter enters select selects choose hover "
            "over scroll scrolls drag drop move mouse cursor which called labelled labeled named text "
            "button btn link tab field box input element icon open go navigate visit pick one ones your my our".split())


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", (s or "")).strip().casefold()


def quoted_strings(text: str) -> list[str]:
    """Strings in double, curly or (word-bounded) single quotes, in order."""
    return [next(g for g in m.groups() if g) for m in _QUOTE.finditer(text or "") if any(m.groups())]


def ordinal(text: str) -> tuple[int | None, str | None]:
    """("the 9th star") -> (9, "star"); "last" -> -1; (None, None) when absent."""
    m = _ORD.search(text or "")
    if not m:
        return None, None
    n = int(m.group(1)) if m.group(1) else _ORD_WORDS[m.group(2).lower()]
    tail = (m.group(3) or "").lower() or None
    return n, (tail[:-1] if tail and tail.endswith("s") and len(tail) > 3 else tail)


def similarity(q: str, t: str) -> float:
    """How well element text `t` matches wanted text `q`, in [0, 1]: 1 exact
    (case/space-insensitive); 0.85-1 when q is a whole-word part of t (more for a closer
    length); proportional when t is a part of q; else the difflib ratio."""
    q, t = norm(q), norm(t)
    if not q or not t:
        return 0.0
    if q == t:
        return 1.0
    if re.search(r"(?<!\w)" + re.escape(q) + r"(?!\w)", t):
        return 0.85 + 0.15 * len(q) / len(t)
    if re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", q):
        return 0.75 * len(t) / len(q)
    return SequenceMatcher(None, q, t).ratio() if max(len(q), len(t)) < 200 else 0.0


def _fields(rec: dict) -> list[str]:
    return [rec.get(k) or "" for k in ("name", "text", "title", "placeholder", "value")]


def _words(text: str) -> set[str]:
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in re.findall(r"[a-z0-9]+", norm(text))}


class Cues:
    """What a description says about its target (the typed/selected text excluded)."""

    def __init__(self, description: str, exclude: tuple[str, ...] = ()):
        ex = {norm(e) for e in exclude if e}
        self.quoted = [q for q in quoted_strings(description) if norm(q) not in ex]
        self.ordinal, self.noun = ordinal(description)
        rest = _QUOTE.sub(" ", description)
        words = re.findall(r"[a-z]+", rest.lower())
        self.role = next((ROLE_WORDS[w] for w in reversed(words) if w in ROLE_WORDS), None)
        self.keywords = {w for w in _words(rest) if w not in _STOP and not w.isdigit() and w not in _ORD_WORDS
                         and not re.fullmatch(r"\d+(st|nd|rd|th)", w)} - {norm(e) for e in ex}


def role_fits(rec: dict, role: str | None) -> bool | None:
    """True/False when the element is/is not of the described kind; None if no opinion."""
    if not role or role in ("item", "menu", "img"):
        if role == "img":
            return rec["tag"] in ("img", "svg", "canvas") or rec["role"] == "img" or None
        return None
    if role == "textbox":
        return bool(rec["editable"])
    if role == "combobox":
        return rec["tag"] == "select" or rec["role"] in ("combobox", "listbox")
    if role in ("checkbox", "radio", "switch"):
        return rec["role"] in ("checkbox", "radio", "switch") or None
    return rec["role"] == role or (role == "button" and bool(rec["why"]) and rec["role"] not in ("link", "textbox"))


def text_score(rec: dict, wanted: list[str]) -> float:
    return max((similarity(q, f) for q in wanted for f in _fields(rec)), default=0.0)


def keyword_hit(rec: dict, k: str) -> float:
    """1 if keyword `k` (or its symbol: "close" ~ "×") is in the element's text/name,
    0.5 if only in its id/class, else 0."""
    text = " ".join(_fields(rec))
    if k in _words(text) or any(c in text for c in SYMBOLS.get(k, "")):
        return 1.0
    return 0.5 if k in _words(re.sub(r"[-_]", " ", f"{rec.get('id', '')} {rec.get('cls', '')}")) else 0.0


def keyword_score(rec: dict, keywords: set[str]) -> float:
    return sum(keyword_hit(rec, k) for k in keywords) / len(keywords) if keywords else 0.0


def proximity(rec: dict, bbox, viewport) -> float:
    """1 at the reference target's centre, 0 half a viewport diagonal away (0 without bbox)."""
    if not bbox:
        return 0.0
    x, y, w, h = rec["box"]
    bx, by, bw, bh = bbox
    d = ((x + w / 2 - bx - bw / 2) ** 2 + (y + h / 2 - by - bh / 2) ** 2) ** 0.5
    return max(0.0, 1.0 - d / (0.5 * (viewport[0] ** 2 + viewport[1] ** 2) ** 0.5))


def pick_ordinal(recs: list[dict], n: int, noun: str | None, role: str | None, bbox, viewport) -> dict | None:
    """The n-th (1-based; -1 = last) member of the sibling group that best matches `noun`."""
    groups: dict[str, list[dict]] = {}
    for r in recs:
        groups.setdefault(r["group"], []).append(r)
    best, best_key = None, None
    for members in groups.values():
        if len(members) < (2 if n == -1 else max(n, 2)):
            continue
        fit = 0.0
        if noun:
            words = _words(" ".join(" ".join(_fields(m)) + f" {m['cls']} {m['id']}" for m in members))
            sym = SYMBOLS.get(noun, "")
            fit += 1.0 if noun in words else 0.0
            fit += 1.0 if sym and any(c in " ".join(_fields(m)) for m in members for c in sym) else 0.0
            fit += 0.5 if ROLE_WORDS.get(noun) and all(role_fits(m, ROLE_WORDS[noun]) for m in members) else 0.0
        if role and all(role_fits(m, role) for m in members):
            fit += 0.5
        fit += 0.3 * sum(bool(m["why"]) for m in members) / len(members)
        pick = members[n - 1] if n > 0 else members[-1]
        key = (fit, proximity(pick, bbox, viewport))
        if fit >= 1.0 and (best_key is None or key > best_key):
            best, best_key = pick, key
    return best


def plausible(rec: dict | None, kind: str, viewport) -> bool:
    if not rec or not rec.get("visible"):
        return False
    w, h = rec["box"][2], rec["box"][3]
    if w * h > 0.6 * viewport[0] * viewport[1] and not rec["editable"] and rec["tag"] not in ("select", "canvas"):
        return False
    return True


def agreeing(recs: list[dict], agree: list[str], cues: Cues, kind: bool) -> list[dict]:
    """The hits of a hint that does not name its element by itself (a reference
    selector: `kind`; a role without a name) that agree with the action: their text
    matches a hinted name/text or a quoted string (>= 0.75). With no text to compare:
    all of a role's hits when the description has an ordinal ("the 3rd tab": `_choose`
    picks it), else those with a description keyword in their text/id/class or (`kind`)
    of the described kind."""
    if agree:
        return [r for r in recs if text_score(r, agree) >= 0.75]
    if not kind and cues.ordinal:
        return recs
    return [r for r in recs if keyword_score(r, cues.keywords) > 0 or (kind and role_fits(r, cues.role))]


def rank(recs: list[dict], cues: Cues, action, viewport, hint_texts: list[str] = ()) -> list[tuple[float, dict]]:
    """Candidates with a score; ineligible ones dropped. Evidence needed: a quoted /
    hinted text match >= 0.75, or (without quotes) >= 60 % of the *informative*
    keywords -- those found on some element of the page ("in the dropdown", "in its
    corner" name places, not the target). A role word that does not fit costs 0.15
    (it may name a container: "'Laptops' in the dropdown")."""
    wanted = list(hint_texts) + cues.quoted
    bbox = action.target.bbox
    informative = {k for k in cues.keywords if any(keyword_hit(r, k) for r in recs)}
    out = []
    for r in recs:
        fits = role_fits(r, cues.role)
        ts = text_score(r, wanted) if wanted else 0.0
        ks = keyword_score(r, informative)
        if wanted and ts < 0.75:
            continue
        if not wanted and ks < 0.6:
            continue
        score = 0.6 * ts + 0.25 * ks + (0.15 if fits else -0.15 if fits is False else 0.0) \
            + (0.1 if r["why"] else 0.0) + 0.1 * proximity(r, bbox, viewport)
        out.append((score, r))
    out.sort(key=lambda p: -p[0])
    return out
