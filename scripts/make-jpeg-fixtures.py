#!/usr/bin/python3
"""Writes fixtures/data/formats/pil/: the JPEG variants no JavaScript encoder writes, made with
PIL (libjpeg-turbo), and what libjpeg decodes each of them to, as the reference aekit's decoder
is tested against (test/data/image-decode.test.ts).

Run after scripts/make-data-fixtures.ts, with Debian's Python (python3-pil):
    /usr/bin/python3 scripts/make-jpeg-fixtures.py

It also checks, with PIL as a second decoder, that the PNGs the TypeScript script wrote decode to
the samples in formats/png/expected.json (a check of that script's hand-written PNG encoder).
Deterministic: no randomness, fixed quality settings; never edit the outputs by hand.
"""
import json
import os

from PIL import Image, ImageOps

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'data', 'formats')
OUT = os.path.join(ROOT, 'pil')
ORIENTATION_TAG = 0x0112


def gradient(width, height):
    """A smooth RGB gradient: JPEG loses little on it, and no two pixels are alike under a flip."""
    img = Image.new('RGB', (width, height))
    img.putdata([(30 + x * 12, 40 + y * 16, 220 - x * 6 - y * 4) for y in range(height) for x in range(width)])
    return img


def expected(img):
    rgba = img.convert('RGBA')
    return {'width': rgba.width, 'height': rgba.height, 'max': 255, 'rgba': [v for px in rgba.getdata() for v in px]}


def cmyk_to_rgb(img):
    """CMYK (as PIL reads it: Adobe's inversion undone) -> RGB by the usual (1 - C)(1 - K)."""
    rgb = Image.new('RGB', img.size)
    rgb.putdata([tuple(round((255 - v) * (255 - k) / 255) for v in (c, m, y)) for (c, m, y, k) in img.getdata()])
    return rgb


def main():
    os.makedirs(OUT, exist_ok=True)
    refs = {}
    base = gradient(16, 12)

    base.save(os.path.join(OUT, 'progressive.jpg'), 'JPEG', quality=95, subsampling=0, progressive=True)
    base.save(os.path.join(OUT, 'baseline-420.jpg'), 'JPEG', quality=95, subsampling=2)
    base.convert('L').save(os.path.join(OUT, 'gray.jpg'), 'JPEG', quality=95)
    # PIL writes CMYK the way Photoshop does: an Adobe APP14 marker and inverted samples.
    cmyk = Image.new('CMYK', base.size)
    cmyk.putdata([(x * 14, y * 18, 200 - x * 10, (x + y) * 6) for y in range(base.height) for x in range(base.width)])
    cmyk.save(os.path.join(OUT, 'cmyk.jpg'), 'JPEG', quality=95, subsampling=0)

    for name in ['progressive.jpg', 'baseline-420.jpg', 'gray.jpg']:
        refs[name] = expected(Image.open(os.path.join(OUT, name)))
    decoded_cmyk = Image.open(os.path.join(OUT, 'cmyk.jpg'))
    assert decoded_cmyk.mode == 'CMYK'
    refs['cmyk.jpg'] = expected(cmyk_to_rgb(decoded_cmyk))

    # The same 12x8 picture stored under each EXIF orientation: what a viewer shows is the
    # reference (PIL's exif_transpose), so every file must come out identical and 12 wide, 8 high.
    upright = gradient(12, 8)
    t = Image.Transpose
    inverse = {1: None, 2: t.FLIP_LEFT_RIGHT, 3: t.ROTATE_180, 4: t.FLIP_TOP_BOTTOM,
               5: t.TRANSPOSE, 6: t.ROTATE_90, 7: t.TRANSVERSE, 8: t.ROTATE_270}
    for orientation in range(1, 9):
        stored = upright if inverse[orientation] is None else upright.transpose(inverse[orientation])
        exif = Image.Exif()
        exif[ORIENTATION_TAG] = orientation
        name = f'orientation-{orientation}.jpg'
        stored.save(os.path.join(OUT, name), 'JPEG', quality=95, subsampling=0, exif=exif.tobytes())
        shown = ImageOps.exif_transpose(Image.open(os.path.join(OUT, name)))
        assert shown.size == (12, 8), (name, shown.size)
        refs[name] = expected(shown)

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(refs, f)
        f.write('\n')

    with open(os.path.join(ROOT, 'png', 'expected.json')) as f:
        png_refs = json.load(f)
    for name, ref in png_refs.items():
        img = Image.open(os.path.join(ROOT, 'png', name))
        if ref['max'] > 255:
            continue  # PIL reduces 16-bit colour to 8 bits: no exact reference there
        got = [v for px in img.convert('RGBA').getdata() for v in px]
        want = [round(v * 255 / ref['max']) for v in ref['rgba']]
        # Where a pixel is fully transparent its colour is irrelevant (decoders differ on it).
        for p in range(len(want) // 4):
            if want[4 * p + 3] == 0:
                got[4 * p:4 * p + 3] = want[4 * p:4 * p + 3]
        assert got == want, f'{name}: PIL decodes other samples than expected.json says'
    print(f'wrote {OUT}; PIL agrees with formats/png/expected.json')


if __name__ == '__main__':
    main()
