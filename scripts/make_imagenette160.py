import io, sys, zipfile
from PIL import Image
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for info in sorted(zin.infolist(), key=lambda i: i.filename):
        if info.is_dir():
            continue
        with Image.open(io.BytesIO(zin.read(info))) as im:
            mode = "L" if im.mode == "L" else "RGB"
            im = im.convert(mode).resize((160, 160), Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=int(sys.argv[3]), optimize=True)
        zi = zipfile.ZipInfo(info.filename, date_time=(2020, 7, 20, 0, 0, 0))
        zout.writestr(zi, buf.getvalue())
