"""Stitched contact sheets of a task's image assets (Pillow).

Each image asset is shrunk (never enlarged) into a fixed cell on a light checkerboard
(so transparent and white-on-white images stay visible), with its file name — the path
relative to the assets folder, which is what the page uses after `assets/` — drawn in a
label strip under it. Cells fill a grid row by row, `max_columns` wide; more than
`per_sheet` images continue on further sheets. Files Pillow cannot open (SVG, fonts,
JSON, ...) are not drawn: they are returned by name for the prompt's text.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

CELL_WIDTH, CELL_HEIGHT, LABEL_HEIGHT, PADDING = 240, 180, 24, 8
GRID_COLOUR, LABEL_BG, TEXT_COLOUR = (176, 176, 176), (255, 255, 255), (0, 0, 0)


@dataclass(frozen=True)
class ImageAsset:
    name: str                 # path relative to the assets folder, "/"-separated
    path: Path
    width: int
    height: int


@dataclass(frozen=True)
class ContactSheet:
    """One stitched sheet. Cell (r, c) holds `names[r * columns + c]`; its image box is
    `cell_width` x `cell_height` and its label strip `label_height` high below it."""

    png: bytes
    names: tuple[str, ...]
    columns: int
    rows: int
    cell_width: int = CELL_WIDTH
    cell_height: int = CELL_HEIGHT
    label_height: int = LABEL_HEIGHT

    @property
    def size(self) -> tuple[int, int]:
        return self.columns * self.cell_width, self.rows * (self.cell_height + self.label_height)

    def label_box(self, index: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the name strip of cell `index`."""
        r, c = divmod(index, self.columns)
        top = r * (self.cell_height + self.label_height) + self.cell_height
        return c * self.cell_width, top, (c + 1) * self.cell_width, top + self.label_height


def scan_assets(assets_dir: Path | str | None) -> tuple[list[ImageAsset], list[str]]:
    """Image assets (openable by Pillow) and the names of all other files, sorted by name."""
    if assets_dir is None or not Path(assets_dir).is_dir():
        return [], []
    root = Path(assets_dir)
    images: list[ImageAsset] = []
    others: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        name = path.relative_to(root).as_posix()
        try:
            with Image.open(path) as im:
                images.append(ImageAsset(name, path, im.width, im.height))
        except (UnidentifiedImageError, OSError, ValueError):
            others.append(name)
    return images, others


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _fit_label(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """`text`, middle-truncated with "..." to fit `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    keep = len(text)
    while keep > 1:
        keep -= 1
        head, tail = text[: (keep + 1) // 2], text[len(text) - keep // 2:]
        candidate = f"{head}...{tail}"
        if draw.textlength(candidate, font=font) <= width:
            return candidate
    return "..."


def _checkerboard(width: int, height: int, square: int = 8) -> Image.Image:
    board = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(board)
    for y in range(0, height, square):
        for x in range((y // square) % 2 * square, width, 2 * square):
            draw.rectangle([x, y, x + square - 1, y + square - 1], fill=(236, 236, 236))
    return board


def make_contact_sheet(assets: list[ImageAsset], *, max_columns: int = 4, cell_width: int = CELL_WIDTH,
                       cell_height: int = CELL_HEIGHT, label_height: int = LABEL_HEIGHT) -> ContactSheet:
    """One sheet holding every asset in `assets` (at least one)."""
    if not assets:
        raise ValueError("a contact sheet needs at least one image")
    columns = max(1, min(max_columns, len(assets)))
    rows = math.ceil(len(assets) / columns)
    sheet = Image.new("RGB", (columns * cell_width, rows * (cell_height + label_height)), LABEL_BG)
    board = _checkerboard(cell_width, cell_height)
    draw = ImageDraw.Draw(sheet)
    font = _font(max(10, label_height - 10))
    for i, asset in enumerate(assets):
        r, c = divmod(i, columns)
        x0, y0 = c * cell_width, r * (cell_height + label_height)
        sheet.paste(board, (x0, y0))
        with Image.open(asset.path) as im:
            im.seek(0)
            im = im.convert("RGBA")
            im.thumbnail((cell_width - 2 * PADDING, cell_height - 2 * PADDING), Image.Resampling.LANCZOS)
            sheet.paste(im, (x0 + (cell_width - im.width) // 2, y0 + (cell_height - im.height) // 2), im)
        label = _fit_label(draw, asset.name, font, cell_width - 8)
        ly = y0 + cell_height
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        draw.text((x0 + (cell_width - (right - left)) // 2 - left, ly + (label_height - (bottom - top)) // 2 - top),
                  label, fill=TEXT_COLOUR, font=font)
        draw.rectangle([x0, y0, x0 + cell_width - 1, ly + label_height - 1], outline=GRID_COLOUR)
        draw.line([x0, ly, x0 + cell_width - 1, ly], fill=GRID_COLOUR)
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", optimize=True)
    return ContactSheet(buf.getvalue(), tuple(a.name for a in assets), columns, rows,
                        cell_width, cell_height, label_height)


def contact_sheets(assets_dir: Path | str | None, *, per_sheet: int = 24, max_columns: int = 4
                   ) -> tuple[list[ContactSheet], list[ImageAsset], list[str]]:
    """Sheets for every image asset of a folder, the image assets, and the other files' names."""
    images, others = scan_assets(assets_dir)
    per_sheet = max(1, per_sheet)
    sheets = [make_contact_sheet(images[i:i + per_sheet], max_columns=max_columns)
              for i in range(0, len(images), per_sheet)]
    return sheets, images, others
