"""What an action's description and target hints ask for, and how well a page element
fits it: quoted strings, ordinals ("the 9th star", "second tab"), role words, keywords
and symbols (an icon's classes and glyphs count: "trash" ~ `fa-trash-can`, "close" ~
"×"), relations to an anchor text ("the checkbox next to 'Buy milk'", "the × on the
right of 'Read a book'", "the Edit link in the row of 'Alice'": the quoted text names
the anchor, not the target), fuzzy text similarity, position near the target in the
reference video, plausibility for the action, and the ranking of the page's visible
elements (`agents.observe` records) that the grounding ladder's text rungs use
(`agents.grounding`). A container never outranks a descendant that matches as well
(`drop_containers`): delegated handlers make rows, lists and sections "interactive".

One module (~600 lines) because its parts are one scoring: the cues parsed from a
description (quotes, ordinals, role words, keywords, places, relations, drop places) are
only meaningful through the ranking functions below that weigh them against element
records, and the corpus tunes them together; split it (relations and icons first) only
with the ranking's tests beside the new modules."""
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
SYMBOLS = {"star": "★☆⭐✩✭✮", "heart": "♥❤♡", "close": "×✕✖⨯✗✘", "x": "×✕✖✗⨯✘", "plus": "+＋", "add": "+＋",
           "minus": "−–", "next": "›»→▶❯❱〉", "previous": "‹«←◀❮❰〈", "back": "‹«←◀❮❰〈", "menu": "☰≡", "search": "🔍⌕",
           "check": "✓✔", "delete": "🗑✕×⨯", "remove": "🗑✕×⨯", "help": "?❓ⓘ", "info": "ⓘℹ", "setting": "⚙",
           "home": "⌂🏠", "cart": "🛒", "edit": "✎✏", "play": "▶►", "pause": "⏸", "more": "⋯…⋮"}
_STOP = set("a an the on in to of and with at for into from by this that it its then please user page "
            "click clicks tap taps press presses double type types enter enters select selects choose hover "
            "over scroll scrolls drag drop move mouse cursor which called labelled labeled named text "
            "check checks uncheck unchecks tick ticks untick unticks turn turns again once more "
            "button btn link tab field box input element icon open go navigate visit pick one ones your my our".split())


# what icon-only controls are called, and the words their classes / labels / glyphs use
_ICON_GROUPS = [
    ("trash", "delete", "remove", "bin", "garbage", "destroy", "erase"),
    ("edit", "pencil", "pen", "modify", "rename"),
    ("close", "times", "xmark", "dismiss", "cancel", "x", "clear", "reset"),
    ("next", "right", "forward", "chevron-right", "arrow-right", "caret-right"),
    ("previous", "prev", "left", "back", "chevron-left", "arrow-left", "caret-left"),
    ("plus", "add", "expand", "new", "create"),
    ("minus", "collapse", "subtract"),
    ("chevron", "caret", "expand", "toggle", "disclosure"),
    ("dropdown", "select", "combobox", "picker", "chooser"),
    ("dot", "dots", "bullet", "bullets", "pagination", "indicator", "pager", "page"),
    ("search", "magnifier", "magnifying", "magnify", "loupe", "find"),
    ("settings", "setting", "gear", "cog", "preferences", "options"),
    ("menu", "hamburger", "bars", "navicon"),
    ("heart", "like", "favorite", "favourite", "love"),
    ("star", "rating", "rate"),
    ("cart", "basket", "bag", "shopping"),
    ("user", "profile", "account", "person", "avatar"),
    ("down", "chevron-down", "caret-down", "arrow-down", "dropdown"),
    ("up", "chevron-up", "caret-up", "arrow-up"),
    ("check", "tick", "done", "confirm", "ok"),
    ("play", "start"), ("pause", "stop"), ("share", "send"), ("download", "save"), ("copy", "duplicate"),
    ("more", "ellipsis", "dots", "kebab", "overflow"),
]
ICON_WORDS: dict[str, set[str]] = {}
for _group in _ICON_GROUPS:
    for _w in _group:
        ICON_WORDS.setdefault(_w, set()).update(_group)

# relation words between a target and a quoted anchor: "the checkbox next to 'Buy milk'"
_REL_WORDS = (r"next\s+to|beside|besides|alongside|near|by|(?:to\s+the\s+|on\s+the\s+)?left\s+(?:side\s+)?of|"
              r"(?:to\s+the\s+|on\s+the\s+)?right\s+(?:side\s+)?of|above|below|under|underneath|beneath|"
              r"(?:in|inside|within|on)\s+the\s+(?:same\s+)?(?:row|card|line|item|entry|tile|section|box|panel|"
              r"group|list\s+item|column|cell|record)\s+(?:of|for|with|containing|labell?ed|named|called|that\s+says)|"
              r"(?:of|for|in)")
_RELATION = re.compile(r"\b(" + _REL_WORDS + r")\s+(?:the\s+(?:\w+\s+){0,2})?"
                       r"(?=[\"“‘«']|(?<![A-Za-z0-9])')", re.I)


_PLACE = {"of", "in", "on", "at", "inside", "within", "under", "below", "above", "near", "beside", "from", "underneath",
          "beneath", "next", "left", "right", "top", "bottom"} - {"next"}


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
    return [rec.get(k) or "" for k in ("name", "text", "title", "placeholder", "value", "pseudo")]


def _words(text: str) -> set[str]:
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in re.findall(r"[a-z0-9]+", norm(text))}


_ROW_OF = re.compile(r"\b(?:of|in|on|from|inside|within)\s+the\s+(?=[\"“‘«']|(?<![A-Za-z0-9])')", re.I)
_ROW_AFTER = re.compile(r"\s+(?:row|card|line|item|entry|section|box|panel|tile|record|question|header|cell)\b", re.I)
_DIRECTIONS = {"right", "left", "up", "down", "next", "previous", "prev", "back", "forward", "top", "bottom", "end"}
ICONISH = {"icon", "chevron", "arrow", "caret", "glyph", "x", "triangle", "symbol", "sign", "mark"}


def relation(description: str, exclude: tuple[str, ...] = ()) -> tuple[str, str, str] | None:
    """(kind, anchor text, the description without the relation) for "the checkbox next to
    'Buy milk'": kind is near / left / right / above / below / within. A quoted string
    that is the typed text or the object of an action verb ("Click 'Save' in the row of
    'Alice'": 'Save' is the target, 'Alice' the anchor) is not an anchor. None: no relation."""
    ex = {norm(e) for e in exclude if e}
    for m in _ROW_OF.finditer(description or ""):     # "the chevron at the right end of the 'Payment' row"
        q = _QUOTE.match(description, m.end())
        if q and _ROW_AFTER.match(description, q.end()) and norm(next(g for g in q.groups() if g)) not in ex:
            anchor = next(g for g in q.groups() if g)
            tail = _ROW_AFTER.match(description, q.end())
            return "within", anchor, description[:m.start()] + " " + description[tail.end():]
    for m in _RELATION.finditer(description or ""):
        q = _QUOTE.match(description, m.end())
        if not q:
            continue
        anchor = next(g for g in q.groups() if g)
        if norm(anchor) in ex:
            continue
        word = re.sub(r"\s+", " ", m.group(1).lower())
        before = description[:m.start()]
        if word in ("of", "for", "in", "by"):
            # "of/for/in 'X'" relates only when a target kind precedes it without its own quote:
            # "the Edit link of 'Alice'", "the checkbox for 'Email alerts'"; not "a list of 'X'"
            tail = re.sub(r"[^a-z ]", " ", before.lower()).split()[-3:]
            if not any(w in ROLE_WORDS or w in ICON_WORDS or w in ("control", "toggle", "arrow", "circle", "x")
                       for w in tail) or quoted_strings(before[-40:]):
                continue
        kind = ("left" if "left" in word else "right" if "right" in word else "above" if word == "above"
                else "below" if word in ("below", "under", "underneath", "beneath")
                else "within" if word.startswith(("in ", "inside", "within", "on ")) else "near")
        rest = description[:m.start()] + " " + description[q.end():]
        return kind, anchor, rest
    return None


# where a drag drops relative to its destination: "drag 'X' above 'Y'", "... to the top of the list"
_DROP_EDGE = re.compile(r"\b(?:to|at|onto|into)\s+the\s+(top|start|beginning|front|head|bottom|end|back|tail)\b"
                        r"|\b(?:make\s+it|as)\s+the\s+(first|last)\b", re.I)
_DROP_BEFORE = re.compile(r"\b(above|before|ahead\s+of|in\s+front\s+of|on\s+top\s+of|over|left\s+of)\s*$", re.I)
_DROP_AFTER = re.compile(r"\b(below|after|under|underneath|beneath|behind|right\s+of|following)\s*$", re.I)


def drop_place(description: str) -> tuple[str, str | None]:
    """Where a drag's description puts the dragged item: ("before"|"after"|"on", edge)
    where edge is "first"/"last" for "to the top/bottom of the list" (no quoted
    destination) and None otherwise. The side comes from the words just before the
    destination quote ("above 'Apples'", "just below 'Carrots'")."""
    d = description or ""
    spans = [m.span() for m in _QUOTE.finditer(d)]
    if len(spans) >= 2:
        lead = d[spans[0][1]:spans[-1][0]]
        lead = re.sub(r"\b(the\s+)?(item|row|entry|card|line|one)\s*$", "", lead.strip(), flags=re.I)
        lead = re.sub(r"\s*\b(the|just|right|directly|immediately)\s*$", "", lead.strip(), flags=re.I)
        if _DROP_BEFORE.search(lead):
            return "before", None
        if _DROP_AFTER.search(lead):
            return "after", None
        return "on", None
    m = _DROP_EDGE.search(d[spans[0][1]:] if spans else d)
    if m:
        w = (m.group(1) or m.group(2)).lower()
        return ("before", "first") if w in ("top", "start", "beginning", "front", "head", "first") else ("after", "last")
    return "on", None


_PURPOSE = re.compile(r"\b(?:in\s+order\s+)?to\s+(?:go|open|show|see|move|switch|get|navigate|view|close|reach|return|"
                      r"display|change|reveal|expand|collapse|hide|jump|skip|advance|step|page|scroll)\b|\bso\s+(?:that|it|the)\b",
                      re.I)


class Cues:
    """What a description says about its target (the typed/selected text excluded).
    With a relation ("the checkbox next to 'Buy milk'"), `anchor` is the quoted text the
    target relates to and `relation` the kind; the anchor is no text the target must show."""

    def __init__(self, description: str, exclude: tuple[str, ...] = (), kind: str | None = None):
        ex = {norm(e) for e in exclude if e}
        rel = relation(description, exclude)
        self.relation, self.anchor = (rel[0], rel[1]) if rel else (None, None)
        if rel:
            description = rel[2]
        self.rest = _QUOTE.sub(" ", description)
        self.quoted = [q for q in quoted_strings(description) if norm(q) not in ex]
        if not self.quoted and kind in ("click", "dblclick", "hover"):
            # "Click 14 in the calendar": a bare number is the text of what is clicked
            self.quoted = [n for n in re.findall(r"(?<![\w.,:/-])(\d{1,4})(?![\w.,:/%-])", _QUOTE.sub(" ", description))
                           if norm(n) not in ex][:1]
        self.ordinal, self.noun = ordinal(description)
        rest = _QUOTE.sub(" ", description)
        # a glyph in the description names its icon: "the × button" ~ close, "❯" ~ next
        glyphs = {k for k, chars in SYMBOLS.items() if len(k) > 1 and any(c in rest for c in chars)}
        words = re.findall(r"[a-z]+", rest.lower())
        # the target's kind is named before any place phrase: "the right arrow of the slider",
        # "'Laptops' in the dropdown" ("into"/"to" introduce the target: "type into the field")
        cut = next((i for i, w in enumerate(words) if i > 0 and w in _PLACE), len(words))
        word = next((w for w in reversed(words[:cut]) if w in ROLE_WORDS), None)
        self.role = ROLE_WORDS[word] if word else None
        if word == "box":        # "check the box next to ...": a checkbox; "the search box": a field
            if re.search(r"\b(check|checks|uncheck|unchecks|tick|ticks|untick|unticks|mark|marks|unmark)\b|\bempty box\b",
                         description, re.I):
                self.role = "checkbox"
            elif kind is not None and kind != "type":
                self.role = None
        def kws(text: str) -> set[str]:
            return {w for w in _words(text) if w not in _STOP and not w.isdigit() and w not in _ORD_WORDS and len(w) > 1
                    and not re.fullmatch(r"\d+(st|nd|rd|th)", w)} - {norm(e) for e in ex}
        self.keywords = kws(rest)
        # words after a place phrase name the place ("the heart icon on the card"), not the target:
        # the ranking does not require them of the target
        # a purpose clause ends the place phrase and says what the target does ("... of the calendar
        # to go to the next month"): its words are the target's again
        skip = len(words[0]) if words else 0
        cut_at = re.search(r"\b(" + "|".join(sorted(_PLACE)) + r")\b", rest.lower()[skip:])
        purpose = _PURPOSE.search(rest, skip + cut_at.start()) if cut_at else None
        head = kws(rest[:cut_at.start() + skip]) if cut_at else self.keywords
        if head and purpose:
            head |= kws(rest[purpose.start():])
        self.place = self.keywords - head if head else set()
        if glyphs and not self.keywords & glyphs:
            self.keywords |= glyphs


_CUSTOM_KIND = {"textbox": ("input", "textfield", "text-field", "textarea", "field"), "combobox": ("select", "combobox"),
                "checkbox": ("checkbox",), "radio": ("radio",), "switch": ("switch", "toggle"), "tab": ("tab",),
                "button": ("button", "btn"), "link": ("link",), "slider": ("slider", "range"), "option": ("option",)}


def _custom_kind(rec: dict, role: str) -> bool:
    """A custom element named for the kind: <md-primary-tab>, <sl-checkbox>, <md-outlined-button>."""
    parts = rec["tag"].split("-")
    return len(parts) > 1 and any(k in parts or k in rec["tag"] for k in _CUSTOM_KIND.get(role, ()))


def role_fits(rec: dict, role: str | None) -> bool | None:
    """True/False when the element is/is not of the described kind; None if no opinion."""
    if role and "-" in rec.get("tag", "") and _custom_kind(rec, role):
        return True
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


_ROLE_ALIASES = {"combobox": ("dropdown", "select", "combo", "combobox", "picker", "chooser", "search", "filter",
                             "autocomplete", "list"),
                "searchbox": ("search", "find", "filter", "query", "lookup"),
                "listbox": ("dropdown", "list", "select", "options"), "slider": ("slider", "range"),
                "switch": ("toggle", "switch"), "tab": ("tab",), "menuitem": ("menu", "item", "entry")}


def keyword_hit(rec: dict, k: str) -> float:
    """How well keyword `k` names the element: 1 in its text/name (or its glyph: "close" ~
    "×"); 0.8 a synonym in the label of an icon-only element ("right" ~ "Next slide"); in its id/class: 1 for an icon-only
    element (no visible text: its classes are all it says), else 0.5; 0.75 in the classes,
    labels or glyphs of its parts ("trash" ~ `fa-trash-can`); else 0."""
    text = " ".join(_fields(rec))
    words = _words(text)
    syn = ICON_WORDS.get(k, {k})
    if k in words or any(c in text for c in SYMBOLS.get(k, "")):
        return 1.0
    alias = 0.75 if k in _ROLE_ALIASES.get(rec.get("role") or "", ()) else 0.0   # "the dropdown's search field"
    icon_only = not (rec.get("text") or "").strip()
    if icon_only and words & syn:      # an icon-only control's label: "right" ~ aria-label "Next slide"
        return 0.8
    own = _words(re.sub(r"[-_]", " ", f"{rec.get('id', '')} {rec.get('cls', '')}"))
    if k in own:
        return 1.0 if icon_only else max(0.5, alias)
    icon = rec.get("icon") or ""
    if icon or own:   # an icon-only control: its parts' classes, labels and glyphs ("fa-trash-can", "×")
        iw = _words(re.sub(r"[-_]", " ", icon)) | own
        if iw & syn or any(c in icon for w in syn for c in SYMBOLS.get(w, "")):
            return 0.75
    if rec.get("ctx") and _words(re.sub(r"[-_]", " ", rec["ctx"])) & syn:   # a field inside ".svelte-select"
        return max(alias, 0.5)
    return alias


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


_STATE_CLASS = re.compile(r"(^|[-_])(active|selected|current|checked|disabled|open|opened|closed|hover|focus|focused|"
                          r"visible|hidden|on|off|is|has|expanded|collapsed)([-_]|$)", re.I)


def _cousin_key(rec: dict) -> str:
    """The element's path with the position of its parent among its siblings left out,
    plus its kind classes: equal for the button inside each <li> of a list."""
    segs = re.split(r"( > | >>> )", rec["path"])
    if len(segs) >= 3:
        segs[-3] = re.sub(r":nth-child\(\d+\)$", "", segs[-3])
    kind = ".".join(sorted(c for c in (rec.get("cls") or "").split() if not _STATE_CLASS.search(c)))
    return "".join(segs) + "|" + kind


def pick_ordinal(recs: list[dict], n: int, noun: str | None, role: str | None, bbox, viewport) -> dict | None:
    """The n-th (1-based; -1 = last) member of the sibling group that best matches `noun`.
    Groups: siblings of one parent with the same tag and kind classes (`group`), and
    "cousins" -- the same element in each of a parent's same-kind children (each dot of a
    carousel wrapped in its own <li>)."""
    groups: dict[str, list[dict]] = {}
    for r in recs:
        groups.setdefault(r["group"], []).append(r)
        groups.setdefault("cousins|" + _cousin_key(r), []).append(r)
    best, best_key = None, None
    for members in groups.values():
        if len(members) < (2 if n == -1 else max(n, 2)):
            continue
        fit = 0.0
        if noun:
            words = _words(re.sub(r"[-_]", " ", " ".join(" ".join(_fields(m)) + f" {m['cls']} {m['id']}"
                                                        for m in members)))
            words |= {noun} if words & ICON_WORDS.get(noun, set()) else set()    # "dot" ~ "bullet"
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
    """`rank_evidence` without the evidence."""
    return [(s, r) for s, r, _ in rank_evidence(recs, cues, action, viewport, hint_texts)]


def rank_evidence(recs: list[dict], cues: Cues, action, viewport,
                  hint_texts: list[str] = ()) -> list[tuple[float, dict, dict]]:
    """Candidates with a score and its evidence; ineligible ones dropped. Evidence needed:
    a quoted / hinted text match >= 0.75, or (without quotes) >= 60 % of the *informative*
    keywords -- those found on some element of the page ("in the dropdown", "in its
    corner" name places, not the target) -- or >= 50 % for an element of the described
    kind ("the country dropdown": a combobox named otherwise). A role word that does not fit costs 0.15
    (it may name a container: "'Laptops' in the dropdown"). A container never beats a
    descendant that matches as well (`drop_containers`)."""
    if cues.anchor:
        return rank_related(recs, cues, action, viewport, hint_texts)
    wanted = list(hint_texts) + cues.quoted
    bbox = action.target.bbox
    informative = {k for k in cues.keywords if any(keyword_hit(r, k) for r in recs)}
    informative = (informative - cues.place) or informative
    out, ev = [], {}
    for r in recs:
        fits = role_fits(r, cues.role)
        ts = text_score(r, wanted) if wanted else 0.0
        ks = keyword_score(r, informative)
        if wanted and ts < 0.75:
            continue
        if not wanted and ks < (0.5 if fits else 0.6):   # the described kind and half the words: "the country dropdown"
            continue
        prox = proximity(r, bbox, viewport)
        score = 0.6 * ts + 0.25 * ks + (0.15 if fits else -0.15 if fits is False else 0.0) \
            + (0.1 if r["why"] else 0.0) + 0.1 * prox
        out.append((score, r))
        ev[r["path"]] = {"text": round(ts, 3), "keywords": round(ks, 3), "role_fit": fits, "interactive": r["why"] or None,
                         **({"proximity": round(prox, 3)} if bbox else {})}
    out.sort(key=lambda p: -p[0])
    return [(s, r, ev[r["path"]]) for s, r in drop_containers(out)]


# ---- containers, relations, evidence ------------------------------------------------------------
def _segments(path: str) -> list[str]:
    return re.split(r" > | >>> ", path or "")


def contains(outer: str, inner: str) -> bool:
    """Is the element at path `inner` inside the one at `outer` (composed tree)?"""
    return inner != outer and (inner.startswith(outer + " > ") or inner.startswith(outer + " >>> "))


def lca_depth(a: str, b: str) -> int:
    n = 0
    for x, y in zip(_segments(a), _segments(b)):
        if x != y:
            break
        n += 1
    return n


def _area(rec: dict) -> float:
    return max(1.0, rec["box"][2] * rec["box"][3])


def drop_containers(scored: list[tuple[float, dict]], margin: float = 0.2) -> list[tuple[float, dict]]:
    """Drop every candidate that contains another candidate scoring at least its score
    minus `margin`, when that descendant is interactive itself or the container is much
    larger (over 4x its area): delegated handlers make rows, lists and whole sections
    "interactive", and their text includes the text of what the user really clicks. A
    control stays when only its own label text matches as well (a <summary> and the
    <slot> inside it that draws its title)."""
    out = []
    for s, r in scored:
        if any(contains(r["path"], d["path"]) and sd >= s - margin and (d.get("why") or _area(r) > 4 * _area(d))
               for sd, d in scored if d is not r):
            continue
        out.append((s, r))
    return out


def _centre(rec: dict) -> tuple[float, float]:
    x, y, w, h = rec["box"]
    return x + w / 2, y + h / 2


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


_CONTROL_ROLES = {"checkbox", "radio", "switch", "button", "textbox", "searchbox", "combobox", "link", "tab", "option",
                  "slider", "spinbutton", "menuitem", "menuitemcheckbox", "menuitemradio", "treeitem"}


def relation_score(cand: dict, anchor: dict, kind: str, max_depth: int, viewport) -> float:
    """How well `cand` stands in relation `kind` to `anchor`, in [0, 1]: the deeper their
    common container (the same row / card / label), the closer on screen, the better; a
    wrong side (left/right/above/below) costs half. The anchor itself and its containers
    score 0: a target next to a text is not the text's own row."""
    if cand["path"] == anchor["path"] or contains(cand["path"], anchor["path"]):
        return 0.0          # (an icon that is part of the anchor's own control: see rank_related)
    d = lca_depth(cand["path"], anchor["path"])
    depth = d / max(1, max_depth)
    if kind == "within":   # inside the row / card the anchor is in: the common container hugs the anchor,
        # and it is the innermost one that holds a candidate at all (another row's icon is not "in the row")
        depth = (d / max(1, len(_segments(anchor["path"])))) ** 2 * (1.0 if d >= max_depth else 0.5)
    (cx, cy), (ax, ay) = _centre(cand), _centre(anchor)
    diag = (viewport[0] ** 2 + viewport[1] ** 2) ** 0.5
    near = 1.0 - min(1.0, ((cx - ax) ** 2 + (cy - ay) ** 2) ** 0.5 / (0.5 * diag))
    bx, by, bw, bh = cand["box"]
    ax0, ay0, aw, ah = anchor["box"]
    same_row = _overlap((by, by + bh), (ay0, ay0 + ah)) > 0.3 * min(bh, ah)
    same_col = _overlap((bx, bx + bw), (ax0, ax0 + aw)) > 0
    side_ok = {"left": cx < ax and same_row, "right": cx > ax and same_row,
               "above": cy < ay and (same_col or abs(cx - ax) < 200), "below": cy > ay and (same_col or abs(cx - ax) < 200)
               }.get(kind, True)
    return round((0.65 * depth + 0.35 * near) * (1.0 if side_ok else 0.5), 4)


def anchors(recs: list[dict], text: str) -> list[dict]:
    """The smallest elements showing the anchor text best (>= 0.75 similarity) -- by what
    they show (text, drawn glyphs), not by their accessible name: a checkbox labelled
    'Buy milk' is a candidate *for* "the checkbox next to 'Buy milk'", not its anchor."""
    scored = [(max(similarity(text, r.get("text") or ""), similarity(text, r.get("pseudo") or "")), r) for r in recs]
    numbers = re.findall(r"\d+", text)     # "Comment 2" is not "Comment 12"
    scored = [(s, r) for s, r in scored if s >= 0.75 and all(n in re.findall(r"\d+", r.get("text") or "") for n in numbers)]
    if not scored:
        return []
    best = max(s for s, _ in scored)
    top = [r for s, r in scored if s >= best - 0.01]     # "Comment 2", not "Comment 20"
    return [r for r in top if not any(contains(r["path"], o["path"]) for o in top if o is not r)]


def kind_fit(rec: dict, cues: "Cues", informative: set[str]) -> float:
    """How well an element is the kind of thing described, in [0, 1] (1: role word fits or a
    keyword/icon names it; 0: the role word does not fit)."""
    fits = role_fits(rec, cues.role)
    if fits is False:
        return 0.0
    ks = keyword_score(rec, informative) if informative else 0.0
    if fits:
        return 1.0 if ks or not informative else 0.8
    return max(0.3, ks) if informative else (0.6 if rec.get("why") else 0.3)


def rank_related(recs: list[dict], cues: "Cues", action, viewport, hint_texts: list[str] = ()) -> list[tuple[float, dict, dict]]:
    """Candidates for a relational description, best first, with their evidence: kind fit
    (role word, keywords, icon), relation to the best anchor, other quoted texts (>= 0.75
    needed), interactivity. Elements that are not interactive (unless they are the icon
    the description names: a table's delegated click handler gives its icons no cursor),
    the anchor, and candidates of the wrong kind are left out."""
    found = anchors(recs, cues.anchor)
    if not found:
        return []
    informative = {k for k in cues.keywords if any(keyword_hit(r, k) for r in recs)}
    wanted = list(hint_texts) + cues.quoted
    iconish = bool(ICONISH & set(re.findall(r"[a-z]+", (cues.rest or "").lower()))) or bool(
        {k for k in cues.keywords if k in ICON_WORDS})
    own_ok = iconish and cues.relation in ("near", "within")
    icon_named = {k for k in informative if k in ICON_WORDS} - _DIRECTIONS
    pool = []
    for r in recs:
        if not (r.get("why") or r.get("editable") or (icon_named and keyword_score(r, icon_named) > 0)):
            continue      # an icon the description names counts without a cursor or role (delegated handlers)
        # the anchor itself, or the small control it labels: a target only when an icon that
        # is part of it is described ("the chevron of the 'Payment' row": its ::after)
        own = any(r is a or (contains(r["path"], a["path"]) and _area(r) < 0.25 * viewport[0] * viewport[1])
                  for a in found)
        if own and not own_ok and any(r is a for a in found):
            continue
        if own and icon_named and keyword_score(r, icon_named) == 0:
            continue      # the described icon is found elsewhere on the page ("the trash icon"), not drawn by the anchor
        kf = kind_fit(r, cues, informative)
        if kf == 0.0 or (informative and cues.role is None and keyword_score(r, informative) == 0):
            continue
        ts = text_score(r, wanted) if wanted else None
        if wanted and ts < 0.75:
            continue
        pool.append((r, kf, ts, own))
    if not pool:
        return []
    if any(kf >= 0.75 for _, kf, _, _ in pool):      # the described kind is there: others are not it
        pool = [p for p in pool if p[1] >= 0.5]
    max_depth = max(lca_depth(r["path"], a["path"]) for r, _, _, _ in pool for a in found)
    out = []
    for r, kf, ts, own in pool:
        rel, anchor = max(((relation_score(r, a, cues.relation, max_depth, viewport), a) for a in found),
                          key=lambda p: p[0])
        if cues.relation in ("near", "within") and r.get("role") in _CONTROL_ROLES \
                and similarity(cues.anchor, r.get("name") or "") >= 0.9:
            rel, anchor = 1.0, r      # the anchor text is the control's own label: "the checkbox for 'Email'"
        elif own and own_ok:
            rel, anchor = 0.9, r      # an icon drawn as part of the anchor's own control (its ::after chevron)
        if rel <= 0:
            continue
        score = 0.55 * rel + 0.3 * kf + 0.1 * (1.0 if r.get("why") else 0.0) + (0.05 * ts if ts is not None else 0.05)
        ev = {"relation": f"{cues.relation} {cues.anchor!r}", "relation_score": rel, "anchor": anchor["path"],
              "kind_fit": round(kf, 3), **({"text": round(ts, 3)} if ts is not None else {})}
        out.append((round(score, 4), r, ev))
    out.sort(key=lambda p: -p[0])
    return out
