"""Pure parts of the judge agent: description cues, text matching, ordinal groups, rules,
reply parsing, template matching, the set-of-marks image."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from agents.cues import (
    Cues,
    agreeing,
    ordinal,
    pick_ordinal,
    quoted_strings,
    rank,
    similarity,
)
from agents.grounding import parse_choice
from agents.observe import set_of_marks
from agents.verify import (
    Verdict,
    changed_pixels,
    check_quoted,
    expectations,
    page_changed,
    parse_rubric,
    parse_verdict,
    rule_verdict,
    scroll_moved,
)
from agents.visual_match import match_template, template_from_frames
from judge.tasks import Action


def rec(text="", *, tag="div", role="", why="listener", name="", editable=False, box=(0, 0, 50, 20), group="g", gi=0,
        cls="", id=""):
    return {"path": f"p{gi}{text}", "tag": tag, "role": role, "name": name, "text": text, "why": why, "editable": editable,
            "visible": True, "box": list(box), "in_view": True, "id": id, "cls": cls, "title": "", "placeholder": "",
            "type": "", "value": "", "checked": False, "group": group, "gi": gi}


def test_quoted_strings_and_ordinals():
    assert quoted_strings("""Click 'Add' then "Save", the user's “Résumé” tab""") == ["Add", "Save", "Résumé"]
    assert ordinal("Click the 9th star") == (9, "star")
    assert ordinal("open the second tab") == (2, "tab")
    assert ordinal("remove the last items") == (-1, "item")
    assert ordinal("Click Save") == (None, None)


def test_cues_exclude_the_typed_text():
    c = Cues("Type 'Milk' into the 'New item' field", exclude=("Milk",))
    assert c.quoted == ["New item"] and c.role == "textbox"
    c = Cues("Click the 3rd star in the rating")
    assert c.ordinal == 3 and c.noun == "star" and "rating" in c.keywords and "click" not in c.keywords


def test_similarity_prefers_exact_then_whole_words():
    assert similarity("Add", "add") == 1.0
    assert 0.85 < similarity("Add", "Add item") < 1.0 < 1.01
    assert similarity("Add", "Address") < 0.75       # not a whole word
    assert similarity("Sign in", "Sign  In") == 1.0
    assert similarity("Checkout", "Check out") > 0.8  # a typo-level difference


def test_rank_uses_quotes_roles_and_keywords():
    vp = (800, 600)
    heading = rec("Add items to your cart", tag="h2", why="")
    button = rec("Add", tag="button", role="button", why="semantic")
    field = rec("", tag="input", role="textbox", editable=True, name="New item")
    act = Action(type="click", description="Click the 'Add' button")
    ranked = rank([heading, button, field], Cues(act.description), act, vp)
    assert ranked[0][1] is button
    act = Action(type="type", text="x", description="Type x into the new item field")
    ranked = rank([heading, button, field], Cues(act.description, ("x",)), act, vp)
    assert [r for _, r in ranked] == [field]
    assert rank([heading], Cues("Click the 'Remove' button"), Action(type="click", description="d"), vp) == []


def test_a_hint_that_names_no_element_needs_agreement():
    shop, laptops = rec("Shop", tag="a", role="link"), rec("Laptops Ultrabooks and gaming", tag="a", role="link")
    assert agreeing([shop, laptops], ["Laptops"], Cues("Click 'Laptops' in the dropdown"), kind=False) == [laptops]
    assert agreeing([shop, laptops], [], Cues("Click the second link"), kind=False) == [shop, laptops]   # ordinal
    assert agreeing([shop, laptops], [], Cues("Click the link"), kind=False) == []          # any link: no evidence
    assert agreeing([shop, laptops], [], Cues("Click the link"), kind=True) == [shop, laptops]   # a selector's kind


def test_ordinal_picks_from_the_matching_sibling_group():
    stars = [rec("★", group="stars", gi=i, box=(100 + 30 * i, 50, 25, 25)) for i in range(5)]
    tabs = [rec(t, group="tabs", gi=i, role="tab") for i, t in enumerate(["One", "Two", "Three", "Four", "Five"])]
    assert pick_ordinal(stars + tabs, 4, "star", None, None, (800, 600)) is stars[3]
    assert pick_ordinal(stars + tabs, 2, "tab", "tab", None, (800, 600)) is tabs[1]
    assert pick_ordinal(stars + tabs, -1, "star", None, None, (800, 600)) is stars[-1]
    assert pick_ordinal(stars, 9, "star", None, None, (800, 600)) is None     # only 5


def state(text=(), scroll=(0, 0), chain=(), visible=(), focus=None, selection=()):
    return {"text": [list(t) for t in text], "scroll": list(scroll), "chain": [list(c) for c in chain],
            "visible": list(visible), "focus": focus, "selection": list(selection)}


def test_quoted_expectations_and_polarity():
    assert expectations('Shows "A" and no longer shows "B"; "C" disappears') == [("A", True), ("B", False), ("C", False)]
    assert expectations('The counter changes from "1" to "2"') == [("1", False), ("2", True)]
    assert expectations('The panel does not show "Error", but shows "OK"') == [("Error", False), ("OK", True)]


def test_quoted_text_rule():
    before = state([("li1", "Tea"), ("input", "Milk")])
    added = state([("li1", "Tea"), ("li2", "Milk")])
    assert check_quoted('The list shows "Milk"', before, added).passed
    assert check_quoted('The list shows "Eggs"', before, added).passed is False
    # already shown in the same place before: this rule cannot tell
    assert check_quoted('The list shows "Milk"', before, before) is None
    assert check_quoted('The field still shows "Milk"', before, before).passed
    assert check_quoted('It no longer shows "Tea"', before, state([("li2", "Milk")])).passed
    assert check_quoted('It no longer shows "Tea"', before, added).passed is False
    # the absence of a text that was never shown proves nothing either (a dead button)
    assert check_quoted('It no longer shows "Coffee"', before, before) is None
    assert check_quoted('It still does not show "Coffee"', before, before).passed
    # short strings match whole words only
    assert check_quoted('The rating shows "4"', state(), state([("p", "14 reviews")])).passed is False
    # OCR fallback for text the DOM does not have (canvas)
    assert check_quoted('Shows "Game over"', state(), state(), ocr_after=lambda: "GAME OVER\nscore 3").passed


def test_scroll_must_move_in_the_asked_direction():
    b = state(scroll=(0, 0), chain=[("log", 0, 0, 0, 500)])
    down = state(scroll=(0, 0), chain=[("log", 0, 200, 0, 500)])
    assert scroll_moved("down", b, down)[0] and not scroll_moved("up", b, down)[0]
    assert scroll_moved("down", b, state(scroll=(0, 300)))[0]
    assert not scroll_moved("down", state(scroll=(0, 300)), state(scroll=(0, 0)))[0]     # moved, but up
    assert not scroll_moved("right", b, down)[0]


def test_change_rules_ignore_focus_rings_and_selections():
    a = np.full((100, 200, 3), 255, np.uint8)
    b = a.copy()
    b[10:20, 10:60] = 0                                     # 500 px changed
    assert changed_pixels(a, b) == 500 and changed_pixels(a, b, box=(100, 50, 20, 20)) == 0
    assert changed_pixels(a, b, ignore=[(10, 10, 50, 10)]) == 0
    focus = {"path": "input", "box": [10, 10, 50, 10]}
    assert page_changed(state(focus=focus), state(), a, b)[0] is False                  # it lost focus
    assert page_changed(state(focus=focus), state(), a, b, target_path="input")[0]      # the target itself
    assert page_changed(state(), state(selection=[(10, 10, 50, 10)]), a, b)[0] is False
    assert page_changed(state(), state(text=[("p", "new")]), a, a)[0]


def test_rule_verdicts():
    act = Action(type="click", description="Click the star", assertion="The star is highlighted")
    a = np.full((100, 200, 3), 255, np.uint8)
    b = a.copy()
    b[40:60, 40:60] = 0
    v = rule_verdict(act, state(), state(), a, b, box=(40, 40, 20, 20))
    assert v.passed and v.source == "rule:target-changed" and v.weak
    v = rule_verdict(act, state(), state(), a, b, box=(150, 40, 20, 20))
    assert not v.passed and v.source == "rule:target-unchanged"
    act = Action(type="click", description="Open the menu", assertion="A dropdown menu appears")
    assert rule_verdict(act, state(visible=["a"]), state(visible=["a", "b"]), a, a, None).source == "rule:appeared"
    assert rule_verdict(act, state(visible=["a"]), state(visible=["a"]), a, a, None).passed is False
    act = Action(type="click", description="Close it", assertion="The dialog closes")
    assert rule_verdict(act, state(visible=["a", "d"]), state(visible=["a"]), a, a, None).source == "rule:disappeared"
    act = Action(type="click", description="Do it", assertion="The order is confirmed")
    v = rule_verdict(act, state(), state(), a, b, None)
    assert v == Verdict(True, "rule:executed-changed", "400 pixels changed", weak=True)
    assert rule_verdict(act, state(), state(), a, a, None).source == "rule:unchanged"


def test_reply_parsers():
    assert parse_choice('{"element": 3}', 10) == 3
    assert parse_choice('I pick this.\n```json\n{"element": null}\n```', 10) is None
    assert parse_choice("Element: 7", 10) == 7
    for bad in ('{"element": 12}', "the blue button", ""):
        with pytest.raises(ValueError):
            parse_choice(bad, 10)
    assert parse_verdict("Verdict: YES\nbecause") and not parse_verdict("**Verdict**: No")
    assert parse_verdict("yes, it does")
    with pytest.raises(ValueError):
        parse_verdict("It is hard to tell")
    assert parse_rubric("Layout 8/10 ... Score: 73/100") == 73.0
    with pytest.raises(ValueError):
        parse_rubric("Score: 140/100")
    with pytest.raises(ValueError):
        parse_rubric("pretty good")


def test_template_matching_masks_the_pointer_and_prefers_the_expected_place():
    rng = np.random.default_rng(0)
    screen = np.full((300, 400, 3), 250, np.uint8)
    icon = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
    for x in (50, 150, 250):                        # three identical icons
        screen[100:124, x:x + 24] = icon
    ref = np.full((300, 400, 3), 250, np.uint8)
    ref[120:144, 200:224] = icon                    # the target, elsewhere in the reference
    before = ref.copy()
    ref[128:140, 210:218] = 0                       # the pointer, drawn over it
    crop, mask = template_from_frames(ref, before, (200, 120, 24, 24))
    assert (mask == 0).any()
    x, y, score, places = match_template(screen, crop, mask, expect=(212, 132))
    assert score > 0.9 and (x, y) == (162.0, 112.0)  # the icon nearest the expected centre
    assert places == 3                              # ... and the picture alone cannot tell the three apart
    assert match_template(np.full((300, 400, 3), 250, np.uint8), crop, mask, None) is None
    flat = np.full((300, 400, 3), 128, np.uint8)
    assert template_from_frames(flat, None, (10, 10, 40, 20)) is None       # nothing distinctive


def test_set_of_marks_draws_numbered_boxes():
    png = cv2.imencode(".png", np.full((100, 200, 3), 255, np.uint8))[1].tobytes()
    out = cv2.imdecode(np.frombuffer(set_of_marks(png, [rec(box=(10, 20, 50, 30)), rec(box=(100, 20, 50, 30))]),
                                     np.uint8), cv2.IMREAD_COLOR)
    assert out.shape == (100, 200, 3) and (out[20, 30] != 255).any() and (out[50, 120] != 255).any()
    assert (out[80, 190] == 255).all()


def test_glyph_shapes_tell_a_cross_from_a_chevron():
    from PIL import Image, ImageDraw, ImageFont

    from agents.visual_match import GLYPH_FONT, glyph_score

    def icon(ch: str, font: str, size: int) -> np.ndarray:    # another font and size than the reference glyphs
        img = Image.new("RGB", (36, 36), (250, 250, 250))
        ImageDraw.Draw(img).text((6, 2), ch, fill=(90, 90, 90), font=ImageFont.truetype(font, size))
        return np.asarray(img)[:, :, ::-1].copy()

    bold = GLYPH_FONT.replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
    cross, chevron = icon("✕", bold, 20), icon("⌄", bold, 28)
    assert glyph_score(cross, {"close"})[0] >= 0.6
    assert glyph_score(cross, {"close"})[0] > glyph_score(cross, {"down"})[0] + 0.05
    assert glyph_score(chevron, {"close"})[0] < glyph_score(chevron, {"down"})[0]
