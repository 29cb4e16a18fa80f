#!/usr/bin/env python3
"""Golden weight map of an ISBI 2012 label crop: writes weight-map.json beside this script.

Run from the repository root:  python3 test/golden/weight-map.py
Needs numpy and scipy (scipy 1.17.1, numpy 2.4 were used) and ../shared/data/isbi2012.
Tests read only the JSON, so CI needs no Python.

The reference is the usual implementation of the paper's equation 2, independent of the
TypeScript code: cells are the 4-connected components of the label's foreground
(scipy.ndimage.label, default structure), d1 and d2 the smallest and second-smallest of one
scipy.ndimage.distance_transform_edt per cell, and, with the project's conventions
(README, "weight-map"; src/kernels/weight-map.ts):

    w = w_c + w0 * exp(-(d1 + d2)^2 / (2 sigma^2))   on background pixels, w = w_c on cells,

w0 = 10, sigma = 5 px, w_c 'balanced': N / (K * count_c) over the K = 2 classes.
The PNG is decoded here with zlib (no imaging library needed); the test checks that the
crop equals what unetflow reads.
"""
import base64
import json
import os
import struct
import zlib

import numpy as np
import scipy
from scipy import ndimage as ndi

HERE = os.path.dirname(os.path.abspath(__file__))
LABEL = os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'isbi2012', 'train', 'label', '00.png')
CROP = {'x': 200, 'y': 150, 'width': 120, 'height': 100}
W0, SIGMA = 10.0, 5.0


def read_grey_png(path):
    """8-bit greyscale, non-interlaced PNG (what the ISBI labels are)."""
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', path
    pos, idat = 8, b''
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', body)
            assert (depth, colour, interlace) == (8, 0, 0), 'expected an 8-bit grey, non-interlaced PNG'
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    out = np.zeros((height, width), dtype=np.int32)
    prior = np.zeros(width, dtype=np.int32)
    for y in range(height):
        start = y * (width + 1)
        kind, row = raw[start], np.frombuffer(raw[start + 1:start + 1 + width], dtype=np.uint8).astype(np.int32)
        if kind == 0:
            cur = row
        elif kind == 2:
            cur = (row + prior) & 255
        else:  # Sub, Average and Paeth depend on the pixel to the left: one pixel at a time.
            cur = np.zeros(width, dtype=np.int32)
            for x in range(width):
                a = cur[x - 1] if x else 0
                b, c = prior[x], (prior[x - 1] if x else 0)
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                cur[x] = (row[x] + pred) & 255
        out[y] = cur
        prior = cur
    return out.astype(np.uint8)


def weight_map(label):
    cells, count = ndi.label(label > 0)  # default structure: 4-connectivity
    dist = np.sort(np.stack([ndi.distance_transform_edt(cells != i) for i in range(1, count + 1)], axis=2), axis=2)
    d1, d2 = dist[:, :, 0], dist[:, :, 1]
    fg = cells > 0
    n, k = fg.size, 2
    wc = np.where(fg, n / (k * fg.sum()), n / (k * (~fg).sum()))
    border = W0 * np.exp(-((d1 + d2) ** 2) / (2 * SIGMA ** 2)) * ~fg
    return wc + border, count


def main():
    full = read_grey_png(LABEL)
    c = CROP
    label = full[c['y']:c['y'] + c['height'], c['x']:c['x'] + c['width']]
    assert set(np.unique(label)) == {0, 255}, np.unique(label)
    weights, count = weight_map(label)
    out = {
        'generator': 'test/golden/weight-map.py',
        'scipy': scipy.__version__,
        'source': 'isbi2012/train/label/00.png',
        'crop': c,
        'w0': W0,
        'sigma': SIGMA,
        'cells': int(count),
        # numpy.packbits of label > 0, row-major, most significant bit first.
        'label': base64.b64encode(np.packbits((label > 0).ravel()).tobytes()).decode(),
        # float32 little-endian, row-major (rounding below 1e-6 at these magnitudes).
        'weights': base64.b64encode(weights.astype('<f4').tobytes()).decode(),
    }
    with open(os.path.join(HERE, 'weight-map.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f"{count} cells, weights {weights.min():.4f} .. {weights.max():.4f}")


if __name__ == '__main__':
    main()
