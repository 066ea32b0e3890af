#!/usr/bin/env bash
# Rebuilds the HEIC/HEIF samples in tests/samples/heif/ from the packages they
# come from. Not run by CI: the outputs are committed.
#
# Needs: pip (PyPI), heif-enc (Debian: libheif-examples), exiftool
#        (Debian: libimage-exiftool-perl), python3.
# Usage: bash tests/samples/heif/make_heif.sh   (from the repo root)
set -euo pipefail

OUT="$(cd "$(dirname "$0")" && pwd)"
FACES="$OUT/../../faces"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# ---- files from the pillow-heif 1.8.1 source distribution (its tests/images)
python3 -m pip download --quiet --no-deps --no-binary :all: pillow-heif==1.8.1 -d "$WORK"
tar -xzf "$WORK/pillow_heif-1.8.1.tar.gz" -C "$WORK"
SRC="$WORK/pillow_heif-1.8.1"
I="$SRC/tests/images"
cp "$SRC/LICENSE.txt" "$OUT/LICENSE-pillow-heif.txt"
cp "$I/heif_other/arrow.heic" "$OUT/arrow.heic"                    # iPhone 8 Plus: EXIF Orientation 6 and irot 270
cp "$I/heif/zPug_3.heic" "$OUT/zpug_three_images.heic"             # three images, thumbnails
cp "$I/heif_other/L_exif_xmp_iptc.heic" "$OUT/exif_xmp_iptc.heic"  # Exif, XMP and IPTC items
cp "$I/heif/RGB_10__128x128.heif" "$OUT/rgb_10bit.heif"            # 10-bit
cp "$I/heif/RGBA_8__128x128.heif" "$OUT/rgba_alpha.heif"           # auxiliary alpha image
cp "$I/heif_other/stereo_pair.heic" "$OUT/stereo_pair.heic"        # a 'ster' group of two images
cp "$I/heif_special/entity_groups.heic" "$OUT/entity_groups.heic"  # several groups, one unknown
mkdir -p "$OUT/bad"
cp "$I/heif_truncated/truncated.heic" "$OUT/bad/truncated.heic"
cp "$I/heif_corrupted/corrupted.heic" "$OUT/bad/corrupted.heic"
cp "$I/heif_corrupted/empty.heic" "$OUT/bad/empty.heic"

# ---- made here with libheif's encoder and exiftool
# astronaut.heic: the face set's astronaut (scikit-image, public domain), with
# a 96-px thumbnail that shows the face too.
heif-enc --quality 60 --thumb 96 -o "$OUT/astronaut.heic" "$FACES/astronaut.jpg" >/dev/null
# astronaut_gps.heic: the same with identifiers planted in an Exif item
# (invented values).
exiftool -q -o "$WORK/gps.heic" \
  -GPSLatitude=59.437 -GPSLatitudeRef=N -GPSLongitude=24.7536 -GPSLongitudeRef=E \
  -Artist="Dr. A. Example" -SerialNumber=PHONE-SN-55501 \
  -DateTimeOriginal="2026:11:02 09:14:00" -ImageDescription="MRN 00123456 left forearm" \
  "$OUT/astronaut.heic"
mv "$WORK/gps.heic" "$OUT/astronaut_gps.heic"
# orientation_conflict.heic: EXIF Orientation 3 (rotate 180) with no irot:
# the HEIF transforms alone say how the picture stands, so it stays as coded.
exiftool -q -o "$WORK/o3.heic" -Orientation#=3 "$OUT/astronaut.heic"
mv "$WORK/o3.heic" "$OUT/orientation_conflict.heic"
# bad/flat_200mp.heic: 12240x16320 of one colour (a real 200 MP HEIC, tiny
# because it is flat), over the default policy's memory plan.
python3 - "$WORK/flat.png" <<'EOF'
import struct, sys, zlib
w, h = 12240, 16320
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
z = zlib.compressobj(9)
row = b"\0" + bytes([200, 180, 160]) * w
idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
EOF
heif-enc --quality 30 -o "$OUT/bad/flat_200mp.heic" "$WORK/flat.png" >/dev/null
ls -l "$OUT" "$OUT/bad"
