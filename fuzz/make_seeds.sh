#!/usr/bin/env bash
# Seed corpora for the fuzz targets, in fuzz/corpus/<target>/ (not committed;
# the minimised corpus that is committed lives in tests/fuzz_corpus/).
#
# Seeds: the sample photos, tiny images carrying every kind of metadata Veil
# inventories, tiny clean outputs, and a real signed ledger made with the
# `veil` binary (approve, high-stakes countersign, reject, batch,
# checkpoint, torn write + recovered).
#
# Needs: python3 with Pillow, exiftool, and a built `veil` (cargo build).
# Usage: bash fuzz/make_seeds.sh   (from the repo root)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VEIL="${VEIL:-$ROOT/target/debug/veil}"
C="$ROOT/fuzz/corpus"
mkdir -p "$C"/{metadata_inventory,output_allowlist,ledger_lines,decode_upright}
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# ---- tiny images (16x16) with planted metadata
cd "$WORK"
python3 - <<'EOF'
import io, struct, zlib
from PIL import Image
from PIL.PngImagePlugin import PngInfo
im = Image.new("RGB", (16, 16))
for x in range(16):
    for y in range(16):
        im.putpixel((x, y), (x * 16, y * 16, (x ^ y) * 16))
im.save("base.jpg", quality=50)
im.save("prog.jpg", quality=50, progressive=True)
im.save("restart.jpg", quality=50, restart_marker_blocks=1)
im.convert("L").save("gray.jpg", quality=50)
im.save("plain.png")
im.convert("P").save("palette.png")
im.convert("LA").save("gray_alpha.png")
im.save("plain.webp", quality=50)
im.save("lossless.webp", lossless=True)
im.convert("L").save("plain.tiff")
info = PngInfo()
info.add_text("Author", "Dr. Jane Smith")
info.add_text("Comment", "Patient John Doe MRN 99\x1b[31m", zip=True)
info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description xmlns:dc='http://purl.org/dc/elements/1.1/'><dc:creator>Jane</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>")
info.add(b"tIME", struct.pack(">HBBBBB", 2021, 3, 4, 5, 6, 7))
im.save("text.png", pnginfo=info)
# A clean output as Veil writes it: plain JFIF, no thumbnail.
im.save("out.jpg", quality=60)
im.save("out_prog.jpg", quality=60, progressive=True)
im.save("out_restart.jpg", quality=60, restart_marker_blocks=2)
im.save("out.png")
im.convert("P").save("out_palette.png")
EOF
for f in base.jpg prog.jpg restart.jpg gray.jpg; do
  exiftool -q -overwrite_original \
    -Artist='Dr. John Smith' -Make=Canon -Model='EOS' -SerialNumber=SN-1 \
    -DateTimeOriginal='2021:03:04 05:06:07' -UserComment='MRN 12345' -Orientation#=6 \
    -GPSLatitude=51.5 -GPSLatitudeRef=N -GPSLongitude=0.12 -GPSLongitudeRef=W \
    -XMP-dc:Creator='Jane Doe' -IPTC:By-line='Jane Doe' -Comment='Patient: Jane Doe' \
    "-ThumbnailImage<=base.jpg" "$f"
done
exiftool -q -overwrite_original -icc_profile'<=restart.jpg' base.jpg 2>/dev/null || true
for f in plain.png plain.webp lossless.webp plain.tiff; do
  exiftool -q -overwrite_original -Artist='Dr. John Smith' -Orientation#=3 \
    -GPSLatitude=51.5 -GPSLatitudeRef=N -XMP-dc:Creator='Jane Doe' "$f"
done
cp base.jpg prog.jpg restart.jpg gray.jpg plain.png palette.png gray_alpha.png \
  text.png plain.webp lossless.webp plain.tiff "$C/metadata_inventory/"
cp base.jpg prog.jpg restart.jpg plain.png palette.png plain.webp lossless.webp \
  plain.tiff "$C/decode_upright/"
cp out.jpg out_prog.jpg out_restart.jpg out.png out_palette.png base.jpg text.png \
  "$C/output_allowlist/"
# The samples, odd formats and broken files.
for d in metadata_inventory decode_upright output_allowlist; do
  cp "$ROOT"/tests/samples/*.{jpg,png,webp,tiff} "$ROOT"/tests/samples/odd/*.{png,webp,jpg,tiff} \
    "$ROOT"/tests/samples/bad/* "$C/$d/"
done

# ---- a real ledger
export HOME="$WORK" XDG_CONFIG_HOME="$WORK/cfg" VEIL_WORKSPACE="$WORK/ws"
mkdir -p "$WORK/orig"
cp "$ROOT"/tests/samples/*.{jpg,png,webp,tiff} "$WORK/orig/"
"$VEIL" init >/dev/null
"$VEIL" reviewer init --name "Fuzz Seed" >/dev/null
sed -i 's/^required = \[.*/required = ["metadata", "reflections", "edges", "identifiers"]/' "$WORK/ws/veil.toml"
"$VEIL" ingest "$WORK/orig" >/dev/null
ids() { "$VEIL" list | awk -v f="$1" '$NF ~ f {print $1}'; }
A="--attest reflections,edges,identifiers"
"$VEIL" approve "$(ids clean.webp)" $A >/dev/null
"$VEIL" approve "$(ids portrait_gps)" --high-stakes $A >/dev/null
XDG_CONFIG_HOME="$WORK/cfgb" "$VEIL" reviewer init --name "Second Seed" >/dev/null
XDG_CONFIG_HOME="$WORK/cfgb" "$VEIL" approve "$(ids portrait_gps)" $A >/dev/null
"$VEIL" reject "$(ids trailer)" --reason "reflection of a face in the window" >/dev/null
"$VEIL" approve --batch --state pending $A >/dev/null
"$VEIL" checkpoint >/dev/null
printf '{"kind":"approve","item":"half-wr' >> "$WORK/ws/ledger.jsonl"
"$VEIL" checkpoint >/dev/null
"$VEIL" verify >/dev/null
cp "$WORK/ws/ledger.jsonl" "$C/ledger_lines/ledger.jsonl"
# Each line alone, and the first lines (header, approve) together.
split -l 1 -d "$WORK/ws/ledger.jsonl" "$C/ledger_lines/line-"
head -n 2 "$WORK/ws/ledger.jsonl" > "$C/ledger_lines/first-two.jsonl"
cp "$WORK/ws/allowed_signers" "$C/ledger_lines/allowed_signers.txt"
cp "$WORK"/ws/out/*.jpg "$C/output_allowlist/"
echo "seeds in $C; the ledger's keys are in $WORK/ws/allowed_signers:"
cat "$WORK/ws/allowed_signers"
echo "(copy them to tests/fuzz_corpus/allowed_signers with the ledger to keep its signatures trusted)"

# ---- HEIF seeds: small files from the pillow-heif 1.8.1 source package
mkdir -p "$C/heif_container"
python3 -m pip download --quiet --no-deps --no-binary :all: pillow-heif==1.8.1 -d "$WORK"
tar -xzf "$WORK/pillow_heif-1.8.1.tar.gz" -C "$WORK"
find "$WORK/pillow_heif-1.8.1/tests/images" -path '*nokia*' -prune -o \
  \( -name '*.heic' -o -name '*.heif' -o -name '*.hif' \) -size -64k -print \
  | xargs -I{} cp {} "$C/heif_container/"
