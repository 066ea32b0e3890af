#!/usr/bin/env bash
# Regenerates the sample photographs in tests/samples/ from scikit-image's
# bundled data. Not run by CI: the outputs are committed.
#
# Needs: python3 with scikit-image + Pillow (pip install scikit-image pillow),
#        exiftool (apt-get install libimage-exiftool-perl).
#
# Usage: bash tests/samples/make_samples.sh   (from the repo root)
set -euo pipefail

OUT="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

python3 - "$OUT" <<'EOF'
import io, os, struct, sys
import skimage.data as d
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

out = sys.argv[1]
os.makedirs(os.path.join(out, "bad"), exist_ok=True)
srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
# Pin the ICC header creation date (bytes 24..36) so the output is reproducible;
# lcms leaves the profile ID (MD5) zero, so nothing else needs updating.
srgb = srgb[:24] + struct.pack(">6H", 2021, 3, 4, 5, 6, 7) + srgb[36:]

# portrait_gps.jpg: astronaut 512x512 with an embedded sRGB ICC profile.
astro = Image.fromarray(d.astronaut())
astro.save("portrait_gps.jpg", quality=80, icc_profile=srgb)
# EXIF thumbnail (160x160) of the same picture: it shows the face too.
astro.resize((160, 160), Image.LANCZOS).save("thumb.jpg", quality=70)

# rotated6.jpg: a 384x512 portrait crop of the astronaut (x 32..416), stored
# rotated 90 degrees counter-clockwise (=> 512x384 stored), to be tagged
# Orientation=6 ("Rotate 90 CW"): a viewer rotating it 90 CW sees it upright.
upright = astro.crop((32, 0, 416, 512))
upright.save("rotated6_upright_reference.png")
stored = upright.transpose(Image.Transpose.ROTATE_90)  # PIL ROTATE_90 = CCW
assert stored.size == (512, 384)
stored.save("rotated6.jpg", quality=80)

# trailer.jpg: coffee 600x400, then 16 bytes after the EOI marker.
Image.fromarray(d.coffee()).save("trailer.jpg", quality=75)

# no_face.png: chelsea the cat, downscaled to 320x213, with tEXt + tIME.
cat = Image.fromarray(d.chelsea()).resize((320, 213), Image.LANCZOS)
info = PngInfo()
info.add_text("Author", "Dr. John Smith")
info.add_text("Comment", "Patient Jane Doe MRN 12345, photographed 2021-03-04")
# tIME: 2021-03-04 05:06:07 UTC
info.add(b"tIME", struct.pack(">HBBBBB", 2021, 3, 4, 5, 6, 7))
cat.save("no_face.png", pnginfo=info, optimize=True)

# clean.webp: rocket 640x427, lossy WebP; EXIF/XMP added by exiftool below.
Image.fromarray(d.rocket()).save("clean.webp", quality=75, method=6)

# scan.tiff: camera (cameraman), grayscale, 320x320, uncompressed.
Image.fromarray(d.camera()).resize((320, 320), Image.LANCZOS).save("scan.tiff")
EOF

ET="exiftool -q -overwrite_original"

$ET \
  -EXIF:Make="Canon" -EXIF:Model="Canon EOS 5D Mark IV" \
  -EXIF:Artist="Dr. John Smith" -EXIF:ImageDescription="Patient Jane Doe MRN 12345" \
  -EXIF:DateTimeOriginal="2021:03:04 05:06:07" -EXIF:CreateDate="2021:03:04 05:06:07" \
  -EXIF:SerialNumber="SN-0123456789" -EXIF:LensSerialNumber="LSN-9876543210" \
  -EXIF:OwnerName="St. Example Hospital Dermatology" \
  -EXIF:UserComment="Jane Doe, DOB 1970-01-01" \
  -GPS:GPSLatitude=51.5007 -GPS:GPSLatitudeRef=N \
  -GPS:GPSLongitude=0.1246 -GPS:GPSLongitudeRef=W \
  '-ThumbnailImage<=thumb.jpg' \
  -XMP-dc:Creator="Dr. John Smith" -XMP-dc:Description="Patient Jane Doe MRN 12345" \
  -IPTC:By-line="Dr. John Smith" -IPTC:Caption-Abstract="Patient Jane Doe MRN 12345" \
  -Comment="Patient: Jane Doe, DOB 1970-01-01" \
  portrait_gps.jpg

$ET -EXIF:Orientation#=6 -EXIF:Make="Canon" -EXIF:Model="Canon EOS 5D Mark IV" \
  -EXIF:DateTimeOriginal="2021:03:04 05:06:07" rotated6.jpg

printf 'TRAILER-PHI-0001' >> trailer.jpg

$ET -XMP-dc:Creator="Dr. John Smith" -XMP-dc:Description="Patient Jane Doe MRN 12345" \
  no_face.png

$ET -EXIF:Artist="Dr. John Smith" -EXIF:Make="Canon" -EXIF:Model="Canon EOS 5D Mark IV" \
  -EXIF:DateTimeOriginal="2021:03:04 05:06:07" \
  -GPS:GPSLatitude=51.5007 -GPS:GPSLatitudeRef=N \
  -GPS:GPSLongitude=0.1246 -GPS:GPSLongitudeRef=W \
  -XMP-dc:Creator="Dr. John Smith" -XMP-dc:Description="Patient Jane Doe MRN 12345" \
  clean.webp

$ET -EXIF:Artist="Dr. John Smith" -EXIF:Make="Epson" -EXIF:Model="Perfection V600" \
  -EXIF:ModifyDate="2021:03:04 05:06:07" \
  -EXIF:ImageDescription="Patient Jane Doe MRN 12345" scan.tiff

cp portrait_gps.jpg rotated6.jpg trailer.jpg no_face.png clean.webp scan.tiff "$OUT/"

# Bad inputs.
printf 'This is not a JPEG. Patient Jane Doe MRN 12345.\n' > "$OUT/bad/not_an_image.jpg"
size=$(stat -c %s portrait_gps.jpg)
head -c $(( size * 40 / 100 )) portrait_gps.jpg > "$OUT/bad/truncated.jpg"
