"""Generation prompts for the two task families (our own wording).

The system prompt states the job and the output contract; the user message carries the
task's facts (viewport, duration, playback, assets) followed by the contact sheets and
the video. A task's `prompt` field replaces the family's system prompt; the facts are
still sent. The prompts ask for a faithful, working page and nothing judge-specific:
no required class names, ids or markup conventions.
"""
from __future__ import annotations

from typing import Any, Sequence

ANIMATION_SYSTEM = """\
You are an expert front-end developer who recreates web animations from screen recordings.

You will receive frames sampled from a recording of an animation that runs in a web page. \
Write a single, self-contained HTML document that reproduces it as faithfully as you can:

1. Self-contained: put all CSS in <style> and all JavaScript in <script> inside the file. \
Load nothing from anywhere else: no CDNs, libraries, web fonts, images or other files by URL. \
Draw everything with HTML, CSS, SVG or canvas (data: URIs are fine).
2. Layout: the page is displayed in a viewport of exactly the size given below, with no scrollbars. \
Place and size every element where it appears in the recording; match the background.
3. Appearance: match shapes, colours, gradients, borders, shadows, text and their sizes.
4. Motion: match what moves, along which path, in which order, with what speed, easing and timing. \
The animation starts by itself as soon as the page loads; nothing waits for a click, hover or scroll.
5. Duration and playback: follow the duration given below, and loop or play once as stated.

Reply with the complete document inside one ```html fenced code block. Do not split it into \
several files and do not leave parts for the reader to fill in."""

INTERACTIVE_SYSTEM = """\
You are an expert front-end developer who rebuilds websites from screen recordings.

You will receive frames sampled from a recording in which a person uses a web page: the page \
as it first appears and what happens as they click, type, hover, scroll and so on. Write the \
page as one file, index.html, that looks and behaves like the recorded one:

1. Appearance: reproduce the layout, text (word for word where it is legible), colours, fonts, \
spacing, images and icons of every state shown.
2. Behaviour: make the interactions seen in the recording really work in the browser, with \
HTML, CSS and JavaScript: menus that open, tabs that switch, forms that accept input, content \
that changes, counters that update, sections reached by scrolling. Reproduce the resulting \
states as they appear in the recording.
3. Files: put all CSS and JavaScript inline in index.html. The files listed below are the \
only external resources you may use; reference them by the relative path assets/<file name> \
exactly as written. Load nothing from the internet (no CDNs, remote fonts or remote images).
4. Viewport: the page is shown at the viewport size given below.

Reply with the complete index.html inside one ```html fenced code block, with nothing left \
for the reader to fill in."""


def _playback(metadata: dict[str, Any]) -> str:
    loop = metadata.get("loop")
    playback = str(metadata.get("playback", "")).lower()
    if loop is True or playback in ("loop", "infinite", "repeat"):
        return "Playback: the animation loops continuously; the recording shows at least one full cycle."
    if loop is False or playback in ("once", "one-shot", "oneshot", "forwards"):
        return "Playback: the animation plays once and then holds its final state."
    return ("Playback: judge from the recording whether the animation loops (it returns to its "
            "starting state and repeats) or plays once and then holds its final state.")


def animation_request(spec: Any, n_frames: int, fps: float) -> str:
    """The task facts for an animation task (`spec` is a `judge.tasks.TaskSpec`)."""
    vp = spec.viewport
    return "\n".join([
        "Reproduce the animation shown in the recording below.",
        f"Viewport: {vp.width}x{vp.height} CSS pixels.",
        f"Duration: {spec.duration_s:g} s (the recording covers 0 to {spec.duration_s:g} s after page load).",
        _playback(spec.metadata),
        f"Recording: {n_frames} frames sampled at {fps:g} frames per second.",
    ])


def interactive_request(spec: Any, image_assets: Sequence[Any], other_assets: Sequence[str],
                        n_sheets: int, n_frames: int, fps: float) -> str:
    """The task facts for an interactive task; `image_assets` have `.name/.width/.height`."""
    vp = spec.viewport
    lines = [
        "Rebuild the web page shown in the recording below, including its behaviour.",
        f"Viewport: {vp.width}x{vp.height} CSS pixels.",
        f"Recording: {spec.duration_s:g} s, shown as {n_frames} frames sampled at about {fps:.3g} "
        f"frames per second, each labelled with its time.",
    ]
    if not image_assets and not other_assets:
        lines.append("Assets: none are provided; do not reference any external file.")
        return "\n".join(lines)
    lines.append("Assets: these files are available next to index.html; use them by these exact paths:")
    lines += [f"- assets/{a.name} (image, {a.width}x{a.height} px)" for a in image_assets]
    lines += [f"- assets/{name}" for name in other_assets]
    if n_sheets:
        lines.append(f"The image assets are shown on {n_sheets} contact sheet{'s' if n_sheets > 1 else ''} "
                     f"below: each tile shows one image with its file name under it.")
    return "\n".join(lines)


def system_prompt(spec: Any) -> str:
    """The family's system prompt, or the task's own `prompt` when it has one."""
    if spec.prompt:
        return spec.prompt
    return ANIMATION_SYSTEM if spec.family == "animation" else INTERACTIVE_SYSTEM
