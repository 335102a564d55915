#!/usr/bin/env python3
"""Makes the SDF glyph ranges MapLibre draws text labels with.

No prebuilt glyph set is reachable from these machines, so LandMap makes its own at set-up from
the Debian package fonts-noto-core, rasterised by FreeType (PyPI freetype-py). The parameters are
the ones every MapLibre client assumes: 24 px em, a 3 px border, an 8 px radius, cutoff 0.25, and
`top` measured from the ascender. Each range file is a `glyphs` protobuf (MapLibre's glyphs.proto)
written by hand below, one fontstack per file.

    python3 Tools/make-glyphs.py [--out Styles/fonts] [--font "Noto Sans Regular=/path/NotoSans-Regular.ttf" ...]

Every 256-codepoint range below U+10000 in which the font has a glyph is written, so Vietnamese
(0-255, 256-511, 768-1023, 7680-7935) and every other script the font covers are served.
"""
import argparse
import math
import os
import sys
import time

import freetype

FONT_SIZE = 24
BUFFER = 3
RADIUS = 8
CUTOFF = 0.25
INF = 1e20
NOTO = "/usr/share/fonts/truetype/noto"
DEFAULT_FONTS = [
    ("Noto Sans Regular", f"{NOTO}/NotoSans-Regular.ttf"),
    ("Noto Sans Bold", f"{NOTO}/NotoSans-Bold.ttf"),
]


# --- protobuf, just the three wire types glyphs.proto needs -------------------------------------

def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_sint(number, value):
    return field_varint(number, (value << 1) ^ (value >> 63) if value < 0 else value << 1)


def field_bytes(number, data):
    return varint((number << 3) | 2) + varint(len(data)) + data


# --- signed distance field (Felzenszwalb & Huttenlocher, as MapLibre's TinySDF does it) --------

def edt1d(grid, offset, stride, length, f, v, z):
    v[0] = 0
    z[0] = -INF
    z[1] = INF
    f[0] = grid[offset]
    k = 0
    for q in range(1, length):
        f[q] = grid[offset + q * stride]
        q2 = q * q
        while True:
            r = v[k]
            s = (f[q] - f[r] + q2 - r * r) / (q - r) / 2
            if s <= z[k]:
                k -= 1
                if k > -1:
                    continue
            break
        k += 1
        v[k] = q
        z[k] = s
        z[k + 1] = INF
    k = 0
    for q in range(length):
        while z[k + 1] < q:
            k += 1
        r = v[k]
        grid[offset + q * stride] = f[r] + (q - r) * (q - r)


def edt(grid, width, height):
    n = max(width, height)
    f, v, z = [0.0] * n, [0] * n, [0.0] * (n + 1)
    for x in range(width):
        edt1d(grid, x, width, height, f, v, z)
    for y in range(height):
        edt1d(grid, y * width, 1, width, f, v, z)


def sdf(bitmap, w, h):
    """The SDF of an 8-bit coverage bitmap, with BUFFER pixels of border on each side."""
    W, H = w + 2 * BUFFER, h + 2 * BUFFER
    outer = [INF] * (W * H)
    inner = [0.0] * (W * H)
    for y in range(h):
        for x in range(w):
            a = bitmap[y * w + x] / 255
            if a == 0:
                continue
            k = (y + BUFFER) * W + x + BUFFER
            if a == 1:
                outer[k], inner[k] = 0.0, INF
            else:
                d = 0.5 - a
                outer[k] = d * d if d > 0 else 0.0
                inner[k] = d * d if d < 0 else 0.0
    edt(outer, W, H)
    edt(inner, W, H)
    out = bytearray(W * H)
    for i in range(W * H):
        d = math.sqrt(outer[i]) - math.sqrt(inner[i])
        out[i] = max(0, min(255, round(255 - 255 * (d / RADIUS + CUTOFF))))
    return bytes(out)


# --- glyphs ----------------------------------------------------------------------------------

def glyph_message(face, ascender, codepoint):
    face.load_char(chr(codepoint), freetype.FT_LOAD_RENDER | freetype.FT_LOAD_NO_HINTING)
    slot = face.glyph
    bm = slot.bitmap
    w, h = bm.width, bm.rows
    message = field_varint(1, codepoint)
    if w > 0 and h > 0:
        pixels = bytearray(w * h)
        raw = bm.buffer
        for y in range(h):
            pixels[y * w:(y + 1) * w] = bytes(raw[y * bm.pitch:y * bm.pitch + w])
        message += field_bytes(2, sdf(pixels, w, h))
    message += field_varint(3, w) + field_varint(4, h)
    message += field_sint(5, slot.bitmap_left) + field_sint(6, slot.bitmap_top - ascender)
    message += field_varint(7, round(slot.advance.x / 64))
    return message


def write_font(name, path, out_dir):
    face = freetype.Face(path)
    face.set_char_size(FONT_SIZE * 64, 0, 72, 72)
    ascender = math.ceil(face.size.ascender / 64)
    ranges = {}
    for codepoint, index in face.get_chars():
        if index and codepoint < 0x10000 and codepoint >= 0x20 and not (0x7F <= codepoint <= 0x9F):
            ranges.setdefault(codepoint // 256, []).append(codepoint)
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    glyph_count = 0
    for block in sorted(ranges):
        start, end = block * 256, block * 256 + 255
        stack = field_bytes(1, name.encode()) + field_bytes(2, f"{start}-{end}".encode())
        for codepoint in sorted(ranges[block]):
            stack += field_bytes(3, glyph_message(face, ascender, codepoint))
            glyph_count += 1
        tmp = os.path.join(folder, f".{start}-{end}.pbf.tmp")
        with open(tmp, "wb") as f:
            f.write(field_bytes(1, stack))
        os.replace(tmp, os.path.join(folder, f"{start}-{end}.pbf"))
    return len(ranges), glyph_count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Styles", "fonts"))
    parser.add_argument("--font", action="append", default=[], help='"Stack Name=/path/font.ttf" (default: Noto Sans Regular and Bold)')
    args = parser.parse_args()
    fonts = [tuple(f.split("=", 1)) for f in args.font] or DEFAULT_FONTS
    for name, path in fonts:
        if not os.path.isfile(path):
            sys.exit(f"make-glyphs: {path} is missing (install the Debian package fonts-noto-core)")
    for name, path in fonts:
        began = time.time()
        count, glyphs = write_font(name, path, args.out)
        print(f"make-glyphs: {name}: {glyphs} glyphs in {count} ranges ({time.time() - began:.1f} s)")


if __name__ == "__main__":
    main()
