#!/usr/bin/env python3
"""Rebuild the labelled text set in tests/text/ from the packages it comes from.

    pip download --no-deps scikit-image==0.26.0 -d /tmp/p   # wheel: skimage/data/
    (unzip it) then, with Debian's fonts-dejavu-core installed:
    python3 tests/text/make_set.py SKIMAGE_DATA

Needs Pillow and numpy. Writes, for each photo, NAME.jpg (what the detector
sees), NAME.lines.png (one grey level per labelled line: pixel value k means
"a glyph pixel of line k"), and text.json (lines, their words and tags).

Two kinds of photo:
* real photos with real text (the astronaut's name badge and mission patch,
  scikit-image's `text`): lines boxed by hand on a pixel grid, the box
  filled in the lines image (so coverage there means the whole box);
* photos without text, with identifiers rendered onto them the way they
  appear in clinical photos: wristbands (some curved round the wrist),
  chart and specimen labels, tubes (vertical print), monitors (light text
  on dark), name badges; several fonts, sizes, angles and contrasts. The
  lines image holds exactly the glyph pixels (alpha >= 128 after every
  transform), so coverage means every glyph pixel.
"""
import json
import math
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

OUT = os.path.dirname(os.path.abspath(__file__))
SK = sys.argv[1] if len(sys.argv) > 1 else None
FONTS = "/usr/share/fonts/truetype/dejavu"
FACES = [
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSansMono-Bold.ttf",
]
WORDS = [
    "DOE, JANE Q",
    "MRN 00482913",
    "DOB 03/14/1962",
    "SMITH, ROBERT A",
    "Ward 7B  Bed 12",
    "KOWALSKI, ANNA",
    "NHS 485 777 3456",
    "04/12/2026 14:32",
    "Dr. M. OKAFOR",
    "ID 7734-221-09",
    "GARCIA LOPEZ, M",
    "Allergy: PENICILLIN",
    "HR 72  SpO2 98%",
    "NIBP 128/84",
    "ACC# A19-55821",
    "Room 414",
]


def font(name, size):
    return ImageFont.truetype(os.path.join(FONTS, name), size)


def element(kind, lines, face, size, rng):
    """A panel with text: (RGBA layer, [alpha mask per line])."""
    f = font(face, size)
    widths = [f.getbbox(t)[2] for t in lines]
    pad = max(4, size // 2)
    gap = max(2, size // 3)
    w = max(widths) + 2 * pad
    h = len(lines) * size + (len(lines) - 1) * gap + 2 * pad
    if kind == "monitor":
        panel, ink = (12, 14, 18), rng.choice([(80, 230, 90), (90, 220, 240), (235, 235, 235)])
    elif kind == "badge":
        panel, ink = (40, 60, 140), (245, 245, 245)
    elif kind == "low-contrast":
        base = rng.randint(150, 200)
        panel, ink = (base, base, base - 6), (base - 55, base - 55, base - 50)
    else:
        panel = rng.choice([(250, 250, 245), (245, 240, 200), (215, 232, 250)])
        ink = rng.choice([(20, 20, 20), (30, 30, 90)])
    layer = Image.new("RGBA", (w, h), panel + (255,))
    ImageDraw.Draw(layer).rounded_rectangle([0, 0, w - 1, h - 1], radius=pad // 2, outline=panel)
    masks = []
    for i, t in enumerate(lines):
        m = Image.new("L", (w, h), 0)
        ImageDraw.Draw(m).text((pad, pad + i * (size + gap)), t, font=f, fill=255)
        layer.paste(Image.new("RGBA", (w, h), ink + (255,)), (0, 0), m)
        masks.append(m)
    return layer, masks


def curve(img, depth):
    """Bend each column down by a half sine: a band round a wrist."""
    a = np.asarray(img)
    h, w = a.shape[:2]
    out_h = h + depth
    out = np.zeros((out_h, w) + a.shape[2:], dtype=a.dtype)
    for x in range(w):
        dy = int(round(depth * math.sin(math.pi * x / max(1, w - 1))))
        out[dy : dy + h, x] = a[:, x]
    return Image.fromarray(out)


def place(base, labels, kind, lines, face, size, angle, bend, at, rng, tags):
    layer, masks = element(kind, lines, face, size, rng)
    if bend:
        layer, masks = curve(layer, bend), [curve(m, bend) for m in masks]
    layer = layer.rotate(angle, resample=Image.BICUBIC, expand=True)
    masks = [m.rotate(angle, resample=Image.BILINEAR, expand=True) for m in masks]
    # Moved left or up as far as it must to fit.
    x, y = min(at[0], base.width - layer.width), min(at[1], base.height - layer.height)
    if x < 0 or y < 0:
        raise ValueError(f"{kind} of {layer.size} does not fit in {base.size}")
    base.paste(layer, (x, y), layer)
    for t, m in zip(lines, masks):
        full = Image.new("L", base.size, 0)
        full.paste(m, (x, y))
        glyphs = np.asarray(full) >= 128
        line_tags = list(tags)
        if size <= 14:
            line_tags.append("small")
        if abs(angle) >= 10:
            line_tags.append("rotated")
        if bend:
            line_tags.append("curved")
        labels.append((t, glyphs, sorted(set(line_tags))))


def synthetic(name, source, scale, elements, seed):
    rng = random.Random(seed)
    base = Image.open(source).convert("RGB")
    if scale != 1.0:
        base = base.resize((round(base.width * scale), round(base.height * scale)), Image.LANCZOS)
    labels = []
    for e in elements:
        kind, n, size, angle, bend, at = e
        lines = rng.sample(WORDS, n)
        face = rng.choice(FACES)
        tags = [kind] if kind != "low-contrast" else ["label", "low-contrast"]
        place(base, labels, kind, lines, face, size, angle, bend, at, rng, tags)
    return base, labels


def real(name, source, boxes):
    base = Image.open(source).convert("RGB")
    labels = []
    for (parts, words, tags) in boxes:
        # A line is one box, or several along a curve.
        glyphs = np.zeros((base.height, base.width), dtype=bool)
        for (x, y, w, h) in parts:
            glyphs[y : y + h, x : x + w] = True
        labels.append((words, glyphs, sorted(tags + ["real"])))
    return base, labels


def save(name, base, labels, ignore, out):
    base.save(os.path.join(OUT, f"{name}.jpg"), quality=92)
    ids = np.zeros((base.height, base.width), dtype=np.uint8)
    entries = []
    for k, (words, glyphs, tags) in enumerate(labels, start=1):
        ids[glyphs & (ids == 0)] = k
        ys, xs = np.nonzero(glyphs)
        box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
        entries.append({"id": k, "words": words, "box": box, "tags": tags})
    Image.fromarray(ids, "L").save(os.path.join(OUT, f"{name}.lines.png"), optimize=True)
    out.append({"file": f"{name}.jpg", "lines_file": f"{name}.lines.png", "lines": entries, "ignore": ignore})


def main():
    if SK is None:
        sys.exit(__doc__)
    out = []
    # Real text, boxed by hand (x, y, w, h) on a pixel grid.
    base, labels = real(
        "astronaut",
        f"{SK}/astronaut.png",
        [
            ([(287, 369, 35, 6)], "EILEEN M. CO", ["badge", "small", "occluded"]),
            ([(148, 351, 40, 11)], "COLLINS ASHBY", ["badge", "small", "curved"]),
            # The patch's lower arc, in three boxes along the curve.
            (
                [(140, 392, 15, 21), (156, 412, 23, 8), (180, 400, 20, 16)],
                "COLEMAN HAWLEY TOGNINI",
                ["badge", "small", "curved"],
            ),
        ],
    )
    save("astronaut", base, labels, [], out)
    base, labels = real(
        "handwriting",
        f"{SK}/text.png",
        [
            ([(100, 28, 75, 22)], "(4 - t)", ["handwritten"]),
            ([(150, 4, 90, 24)], "(s)", ["handwritten"]),
        ],
    )
    save("handwriting", base, labels, [[0, 0, 448, 172]], out)

    # Rendered identifiers: (kind, lines, font px, angle, bend px, (x, y)).
    sets = [
        ("retina_label", f"{SK}/retina.jpg", 0.6, [
            ("label", 3, 18, 0, 0, (30, 30)),
            ("label", 2, 12, 0, 0, (560, 760)),
            ("tube", 1, 14, 90, 0, (780, 300)),
        ]),
        ("coffee_wristband", f"{SK}/coffee.png", 1.0, [
            ("wristband", 2, 14, 8, 10, (40, 260)),
            ("wristband", 1, 11, -20, 0, (380, 40)),
        ]),
        ("chelsea_monitor", f"{SK}/chelsea.png", 1.0, [
            ("monitor", 3, 13, 0, 0, (250, 30)),
            ("badge", 1, 12, -5, 0, (20, 230)),
        ]),
        ("rocket_lowcontrast", f"{SK}/rocket.jpg", 1.0, [
            ("low-contrast", 2, 16, 0, 0, (20, 300)),
            ("low-contrast", 1, 22, 15, 0, (380, 330)),
            ("tube", 1, 12, -90, 0, (560, 60)),
        ]),
        ("hubble_monitor", f"{SK}/hubble_deep_field.jpg", 0.8, [
            ("monitor", 4, 16, 0, 0, (40, 40)),
            ("monitor", 2, 10, 0, 0, (480, 500)),
        ]),
        ("brick_labels", f"{SK}/brick.png", 1.0, [
            ("label", 2, 20, -30, 0, (20, 40)),
            ("wristband", 1, 16, 0, 14, (230, 380)),
            ("badge", 2, 15, 12, 0, (300, 140)),
        ]),
        ("camera_wristband", f"{SK}/camera.png", 1.0, [
            ("wristband", 2, 12, -12, 8, (300, 400)),
            ("label", 1, 10, 0, 0, (20, 20)),
            ("monitor", 2, 9, 0, 0, (360, 30)),
        ]),
        ("retina_12mp", f"{SK}/retina.jpg", 2.5, [
            ("wristband", 2, 22, 6, 24, (400, 2700)),
            ("label", 3, 30, 0, 0, (2500, 200)),
            ("tube", 1, 26, 90, 0, (3300, 1800)),
            ("wristband", 1, 16, -15, 16, (1500, 3000)),
            ("low-contrast", 1, 18, 0, 0, (200, 600)),
        ]),
    ]
    for i, (name, src, scale, elements) in enumerate(sets):
        base, labels = synthetic(name, src, scale, elements, seed=1000 + i)
        save(name, base, labels, [], out)
    with open(os.path.join(OUT, "text.json"), "w") as f:
        json.dump({"images": out}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
