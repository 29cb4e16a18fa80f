#!/usr/bin/env python3
"""Golden values for test/kernels/metrics: writes metrics.json beside this script.

Run from the repository root:  python3 test/golden/metrics.py
Needs numpy, scipy, imageio and scikit-image (0.26 was used) and ../shared/data/isbi2012.
Tests read only the JSON, so CI needs no Python.

References, each computed independently of the TypeScript code:
- adapted Rand error and variation of information: scikit-image itself;
- ISBI foreground-restricted Rand error, foreground-restricted VI and the warping error:
  line-by-line ports of Fiji Trainable_Segmentation's RandError.foregroundRestrictedStatsN2,
  VariationOfInformation.foregroundRestrictedVI and WarpingError (simplePointWarp2d with
  simple2DBertrand -> simple3d, classifyMismatches2d with radius -1, clusterMismatchesByError);
- segments: scipy.ndimage.label with its default (4-connected) structure.
"""
import base64
import json
import math
import os
import sys

import imageio.v3 as iio
import numpy as np
from scipy import ndimage as ndi
import skimage
from skimage.metrics import adapted_rand_error, variation_of_information

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'isbi2012', 'train', 'label')
FOUR = ndi.generate_binary_structure(2, 1)
EIGHT = ndi.generate_binary_structure(2, 2)


def label4(mask):
    return ndi.label(mask, structure=FOUR)[0]


# ---- Fiji RandError.foregroundRestrictedStatsN2 -------------------------------------
def fiji_rand(gt, pr):
    n = float(np.count_nonzero(gt))
    pij = np.zeros((gt.max() + 1, pr.max() + 1))
    np.add.at(pij, (gt.ravel(), pr.ravel()), 1)
    pij /= n
    ai = pij[1:, :].sum(axis=1)
    bj = pij[1:, 1:].sum(axis=0)
    aux = pij[1:, 0].sum()
    sumA2 = (ai * ai).sum()
    sumB2 = (bj * bj).sum() + aux / n
    sumAB2 = (pij[1:, 1:] ** 2).sum() + aux / n
    prec = sumAB2 / sumB2
    rec = sumAB2 / sumA2
    return 1 - 2 * prec * rec / (prec + rec), prec, rec


# ---- Fiji VariationOfInformation.foregroundRestrictedVI (nats) -----------------------
def fiji_vi(gt, pr):
    n = float(np.count_nonzero(gt))
    pij = np.zeros((gt.max() + 1, pr.max() + 1))
    np.add.at(pij, (gt.ravel(), pr.ravel()), 1)
    pij /= n
    ai = pij[1:, :].sum(axis=1)
    bj = pij[1:, 1:].sum(axis=0)
    aux = pij[1:, 0].sum()
    xlogx = lambda v: (v[v != 0] * np.log(v[v != 0])).sum()
    sumA = xlogx(ai)
    sumB = xlogx(bj) - aux * math.log(n)
    sumAB = xlogx(pij[1:, 1:]) - aux * math.log(n)
    return sumA + sumB - 2.0 * sumAB


# ---- Fiji WarpingError: simple3d (Richardson, after Bertrand & Malandain) ------------
A6M = [[[0, 1, 0], [1, 5, 1], [0, 1, 0]], [[0] * 3] * 3, [[0] * 3] * 3]
A18M = [[[0, 0, 0], [0, 1, 1], [0, 0, 0]], [[0, 0, 0], [0, 0, 1], [0, 0, 0]], [[0] * 3] * 3]
A26M = [[[0, 0, 0], [0, 1, 1], [0, 1, 1]], [[0, 0, 0], [0, 0, 1], [0, 1, 1]], [[0] * 3] * 3]
B18M = [[[0, 1, 0], [0, 1, 9], [0, 1, 0]], [[0, 1, 1], [0, 0, 1], [0, 1, 1]], [[0] * 3] * 3]
B26M = [[[0, 0, 0], [0, 1, 1], [0, 1, 7]], [[0, 0, 0], [0, 0, 1], [0, 1, 1]], [[0] * 3] * 3]


def nca(inp, con, space):
    idx = {6: [4, 10, 12, 14, 16, 22],
           18: [1, 3, 4, 5, 7, 9, 10, 11, 12, 14, 15, 16, 17, 19, 21, 22, 23, 25],
           26: [i for i in range(27) if i != 13]}[con]
    tsum = sum(int(inp[i]) for i in idx)
    return con * space - tsum if space == 1 else tsum


def ncb(inp, ctyp, con, space):
    I = lambda x, y, z: inp[x + y * 3 + z * 9]
    rng = [(x, y, z) for x in range(3) for y in range(3) for z in range(3)]
    if ctyp == 'a' and con == 6:
        m = A6M
        views = [lambda x, y, z: m[x][y][z], lambda x, y, z: m[2 - x][y][z], lambda x, y, z: m[y][x][z],
                 lambda x, y, z: m[2 - y][x][z], lambda x, y, z: m[z][y][x], lambda x, y, z: m[2 - z][y][x]]
        want = 5 - space
    elif con == 18:
        m = A18M if ctyp == 'a' else B18M
        views = [lambda x, y, z: m[x][y][z], lambda x, y, z: m[x][y][2 - z], lambda x, y, z: m[2 - x][y][z],
                 lambda x, y, z: m[2 - x][y][2 - z], lambda x, y, z: m[y][x][z], lambda x, y, z: m[y][x][2 - z],
                 lambda x, y, z: m[2 - y][x][z], lambda x, y, z: m[2 - y][x][2 - z], lambda x, y, z: m[x][z][y],
                 lambda x, y, z: m[x][z][2 - y], lambda x, y, z: m[2 - x][z][y], lambda x, y, z: m[2 - x][z][2 - y]]
        want = 3 - 3 * space if ctyp == 'a' else 9 - space
    elif con == 26:
        m = A26M if ctyp == 'a' else B26M
        views = [lambda x, y, z: m[x][y][z], lambda x, y, z: m[2 - x][y][z], lambda x, y, z: m[x][2 - y][z],
                 lambda x, y, z: m[x][y][2 - z], lambda x, y, z: m[2 - x][2 - y][z], lambda x, y, z: m[x][2 - y][2 - z],
                 lambda x, y, z: m[2 - x][y][2 - z], lambda x, y, z: m[2 - x][2 - y][2 - z]]
        want = 7 - 7 * space if ctyp == 'a' else 7 - space
    else:
        return 0
    return sum(1 for v in views if sum(v(x, y, z) * I(x, y, z) for (x, y, z) in rng) == want)


def simple3d_6(inp):
    inp2 = [0.0 if v == 1.0 else 1.0 for v in inp]
    if nca(inp2, 6, 1) == 1:
        return True
    if nca(inp2, 26, 0) == 1:
        return True
    if ncb(inp2, 'b', 26, 0) == 0:
        if nca(inp2, 18, 0) == 1:
            return True
        if ncb(inp2, 'a', 6, 1) == 0 and ncb(inp2, 'b', 18, 0) == 0 and \
                (nca(inp2, 6, 1) - ncb(inp2, 'a', 18, 1) + ncb(inp2, 'a', 26, 1)) == 1:
            return True
    return False


RING = [(-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0)]  # (dx, dy), as simple-point.ts


def fiji_simple_table():
    table = []
    for code in range(256):
        patch = [0.0] * 9
        for k, (dx, dy) in enumerate(RING):
            if code >> k & 1:
                patch[(dx + 1) + (dy + 1) * 3] = 1.0
        inp = [0.0] * 27
        inp[9:18] = patch  # simple2DBertrand: the 3x3 patch is the middle slice
        table.append(1 if simple3d_6(inp) else 0)
    return table


SIMPLE = fiji_simple_table()


def fiji_warp(source, target):
    h, w = source.shape
    src = np.zeros((h + 2, w + 2), np.uint8)
    src[1:-1, 1:-1] = source > 0
    tgt = np.zeros((h + 2, w + 2), np.uint8)
    tgt[1:-1, 1:-1] = target > 0
    diff_before = None
    while True:
        mism = [(x, y) for x in range(1, w + 1) for y in range(1, h + 1) if src[y, x] != tgt[y, x]]  # x outer, y inner
        if len(mism) == 0 or len(mism) == diff_before:
            break
        diff_before = len(mism)
        for x, y in mism:
            code = 0
            for k, (dx, dy) in enumerate(RING):
                if src[y + dy, x + dx]:
                    code |= 1 << k
            if SIMPLE[code]:
                src[y, x] = 0 if src[y, x] > 0 else 1
    return src[1:-1, 1:-1], len(mism)


def neighbourhood(img, x, y):
    h, w = img.shape
    return [img[j, i] for j in range(y - 1, y + 2) for i in range(x - 1, x + 2)
            if (i != x or j != y) and 0 <= j < h and 0 <= i < w]


def fiji_warping(truth, pred):
    warped, _ = fiji_warp(truth, pred)
    h, w = warped.shape
    comps = label4(warped)
    split = np.zeros_like(warped)
    merge = np.zeros_like(warped)
    mism = [(x, y) for x in range(w) for y in range(h) if warped[y, x] != (pred[y, x] > 0)]
    for x, y in mism:
        ids = set(neighbourhood(comps, x, y))
        if len(ids) == 1:
            continue
        if len(ids) == 2:
            if comps[y, x] == 0:
                continue  # hole addition
            w2 = warped.copy()
            w2[y, x] = 0
            ids2 = set(neighbourhood(label4(w2), x, y))
            if len(ids2) > 2:
                split[y, x] = 1
            continue
        if comps[y, x] == 0:
            merge[y, x] = 1
        else:
            split[y, x] = 1
    return {
        'error': len(mism) / (w * h),
        'mismatches': len(mism),
        'splits': int(ndi.label(split, structure=FOUR)[1]),
        'merges': int(ndi.label(merge, structure=EIGHT)[1]),
        'splitPixels': int(split.sum()),
        'mergePixels': int(merge.sum()),
    }


def reference(truth, pred):
    gt = label4(truth)
    pr = label4(pred)
    rand, prec, rec = fiji_rand(gt, pr)
    are = adapted_rand_error(gt, pr)[0]
    # Predicted background pixels as singletons, for scikit-image's VI.
    singles = pr.copy()
    bg = singles == 0
    singles[bg] = pr.max() + 1 + np.arange(np.count_nonzero(bg))
    split, merge = variation_of_information(gt, singles, ignore_labels=[0])  # [H(test|true), H(true|test)]
    fiji_total = fiji_vi(gt, pr) / math.log(2)
    assert abs((split + merge) - fiji_total) < 1e-9, (split + merge, fiji_total)
    t, p = truth > 0, pred > 0
    both, union = np.count_nonzero(t & p), np.count_nonzero(t | p)
    return {
        'pixelError': float(np.count_nonzero(t != p) / t.size),
        'randError': float(rand), 'randPrecision': float(prec), 'randRecall': float(rec),
        'adaptedRandError': float(are),
        'viSplit': float(split), 'viMerge': float(merge), 'vi': float(split + merge),
        'iou': both / union if union else 1.0,
        'dice': 2 * both / (t.sum() + p.sum()) if t.sum() + p.sum() else 1.0,
        'truthSegments': int(gt.max()), 'predictedSegments': int(pr.max()),
        'warping': fiji_warping(t.astype(np.uint8), p.astype(np.uint8)),
    }


def pack(mask):
    return base64.b64encode(np.packbits(mask.astype(np.uint8).ravel()).tobytes()).decode()


def cases():
    rng = np.random.default_rng(2012)
    label0 = iio.imread(os.path.join(DATA, '00.png')) > 0
    label5 = iio.imread(os.path.join(DATA, '05.png')) > 0

    # Thicker membranes, a gap in one membrane (a merge), a cut through a cell (a split), sparse noise.
    t = label0[100:196, 200:296].copy()
    p = ndi.binary_erosion(t, structure=FOUR)
    p[40:43, :] |= True  # bridges across every membrane the band meets
    p[:, 60] = False  # a 1-pixel cut through the cells it meets
    p ^= rng.random(p.shape) < 0.01
    yield 'isbi-00-eroded-bridged-cut', t, p

    # Thinner membranes (merges where they vanish), shifted by one pixel.
    t = label5[300:380, 50:130].copy()
    p = np.roll(ndi.binary_dilation(t, structure=EIGHT, iterations=2), 1, axis=1)
    yield 'isbi-05-dilated-shifted', t, p

    # Smooth random blobs against another draw of them.
    def blobs(seed):
        r = np.random.default_rng(seed).standard_normal((48, 64))
        return ndi.gaussian_filter(r, 3) > 0.02
    yield 'blobs', blobs(1), blobs(1) ^ (ndi.gaussian_filter(np.random.default_rng(2).standard_normal((48, 64)), 2) > 0.25)


def main():
    out = {
        'generator': 'test/golden/metrics.py',
        'scikitImage': skimage.__version__,
        'tolerance': 1e-9,
        'simplePoints': SIMPLE,
        'cases': [],
    }
    for name, truth, pred in cases():
        h, w = truth.shape
        out['cases'].append({'name': name, 'width': w, 'height': h, 'truth': pack(truth), 'prediction': pack(pred),
                             'expected': reference(truth, pred)})
        print(name, out['cases'][-1]['expected'], file=sys.stderr)
    with open(os.path.join(HERE, 'metrics.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
