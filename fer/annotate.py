"""Draw face boxes and their predicted labels on a copy of an image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from fer.detect import Box

BOX_COLOUR = (255, 200, 0)


def annotated_image(rgb: np.ndarray, boxes: Sequence[Box], labels: Sequence[str]) -> Image.Image:
    """Return a copy of the image with each box outlined and its label above it.

    Small images (a 48x48 crop) are enlarged first so that the label stays legible.
    """
    image = Image.fromarray(rgb)
    scale = max(1, 192 // max(image.size))
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)
    line = max(2, round(max(image.size) / 300))
    font = ImageFont.load_default(size=max(12, round(max(image.size) / 40)))
    for box, label in zip(boxes, labels, strict=True):
        left, top = box.x * scale, box.y * scale
        right, bottom = left + box.width * scale, top + box.height * scale
        draw.rectangle((left, top, right, bottom), outline=BOX_COLOUR, width=line)
        text_box = draw.textbbox((left, top), label, font=font)
        height = text_box[3] - text_box[1] + 2 * line
        # Above the box when there is room, else below it, else inside its top edge.
        if top >= height:
            text_top = top - height
        elif bottom + height <= image.height:
            text_top = bottom
        else:
            text_top = top
        draw.rectangle(
            (left, text_top, left + text_box[2] - text_box[0] + 2 * line, text_top + height), fill=BOX_COLOUR
        )
        draw.text((left + line, text_top + line - (text_box[1] - top)), label, fill=(0, 0, 0), font=font)
    return image
