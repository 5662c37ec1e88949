"""Re-encode an Imagenette zip to 160×160 JPEGs (how data/imagenette/*.zip were made).

    python scripts/make_imagenette160.py SRC.zip DST.zip 75

Each image is resized with Lanczos to 160×160 (the sources are already squashed to 224×224)
and saved as a JPEG of the given quality (75, like the sources); grayscale stays grayscale.
Entries are sorted and dated 2020-07-20 so the output is byte-for-byte reproducible.
"""

import io
import sys
import zipfile

from PIL import Image

src, dst, quality = sys.argv[1], sys.argv[2], int(sys.argv[3])
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for info in sorted(zin.infolist(), key=lambda i: i.filename):
        if info.is_dir():
            continue
        with Image.open(io.BytesIO(zin.read(info))) as im:
            mode = "L" if im.mode == "L" else "RGB"
            im = im.convert(mode).resize((160, 160), Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=quality, optimize=True)
        zout.writestr(zipfile.ZipInfo(info.filename, date_time=(2020, 7, 20, 0, 0, 0)), buf.getvalue())
