#!/usr/bin/python3
"""Golden values for src/metrics/localization/, computed with NumPy / SciPy.

Run with Debian's own interpreter:  /usr/bin/python3 scripts/golden/localization.py
Writes test/golden/localization.json. Arrays are flat row-major lists.

What is mirrored (and how it stands in for code that is not installed here):
  - method.md section 5: top-30 % binarization (top = int(H*W*0.3), thr = sort(map)[-top], b = map >= thr),
    IoU = sum(min(b, m)) / sum(max(b, m)) (0 when the union is empty), hit rate IoU > 0.3; GradMap
    (binarize > 1, IoU averaged over the filters, hit when >= 0.2); ActivMap per (filter, class).
  - wsolevaluation (Choe et al., CVPR 2020) evaluation.py: normalize_scoremap in float32,
    q = (map * 255).astype(uint8), foreground q > int(tau * q.max()) (cv2.threshold THRESH_BINARY),
    tau in np.arange(0, 1, 0.01); boxes of cv2.findContours(RETR_TREE) + boundingRect, here from
    scipy.ndimage.label: 8-connected foreground components (outer borders) and holes, i.e. 4-connected
    background components off the image edge, whose border box is the hole's box grown by 1 pixel;
    box = [x, y, min(x + w, W - 1), min(y + h, H - 1)]; calculate_multiple_iou with the +1 convention;
    MaxBoxAccV2 = mean over delta in (30, 50, 70) of the max over tau of the accuracy (as a fraction,
    not times 100). PxAP: MaskEvaluator's histograms and area (as a fraction, not times 100).
  - pointing game: argmax (first in row-major order), hit when a mask pixel lies within
    15 * max(H, W) / 224 px (Euclidean); energy-based pointing game: map clipped at 0, share inside the box.
"""
import json
import os

import numpy as np
from scipy import ndimage

from build_info import build_info  # noqa: E402  (torch version, build configuration, BLAS in use)

rng = np.random.RandomState(2020)
N, H, W, C = 16, 24, 20, 3


def smooth_noise(sigma, shape=(H, W)):
    return ndimage.gaussian_filter(rng.randn(*shape), sigma).astype(np.float32)


# ---- inputs --------------------------------------------------------------------------------------
labels = np.array([0, 1, 2] * 5 + [0], dtype=np.int64)
maps = np.stack([smooth_noise(rng.choice([1.0, 2.0, 3.0])) for _ in range(N)]).astype(np.float32)
maps[1] = np.round(maps[1] * 8) / 8          # many ties
maps[2] = np.float32(0.25)                   # flat map
maps[3] = np.float32(-1.0)                   # a ring (one hole) and a separate blob
maps[3, 4:12, 3:11] = 1.0
maps[3, 6:10, 5:9] = -1.0
maps[3, 16:20, 14:18] = 0.5
maps[4] = np.float32(0.0)                    # a single hot pixel and negative values
maps[4, 5, 7] = 3.0
maps[4, 20:, :] = -2.0
maps[5] = np.abs(maps[5]) * np.float32(1e-3)  # tiny range
maps[6] = (maps[6] > 0).astype(np.float32)   # two-valued map, several components
maps = maps.astype(np.float32)

masks = np.stack([(smooth_noise(3.0) > 0.05) for _ in range(N)]).astype(np.uint8)
masks[7] = 0                                 # empty mask
masks[8] = 1                                 # full mask
masks[3] = 0
masks[3, 5:11, 4:10] = 1
for i in range(11, N):                       # maps that do point at their mask
    maps[i] += np.float32(1.5) * ndimage.gaussian_filter(masks[i].astype(np.float32), 1.5)
boxes = np.zeros((N, 4), dtype=np.int64)
for i in range(N):
    ys, xs = np.nonzero(masks[i])
    if len(xs):
        boxes[i] = [xs.min(), ys.min(), xs.max(), ys.max()]
    else:
        boxes[i] = [2, 3, 9, 15]
boxes[9] = [0, 0, W - 1, H - 1]              # whole image
boxes[10] = [0, 0, 0, 0]                     # one pixel at the origin

F = 4
grad = (np.round(rng.gamma(2.0, 0.5, size=(N, F, H, W)) * 64) / 64).astype(np.float32)  # short decimals, ties at 1
grad[0, 0] = 1.0                             # exactly 1: nothing passes > 1
grad[1, :, :5, :] = 1.0

K, h, w = 6, 6, 5
acts = (np.round(rng.rand(N, K, h, w) * 8) / 8).astype(np.float32)   # ties
acts[:, 5] = 0.5                              # a constant filter
amaps = np.repeat(np.repeat(acts, 4, axis=2), 4, axis=3)                         # [N, K, 24, 20]


# ---- released-code conventions -------------------------------------------------------------------
def iou(b, m):
    u = np.maximum(b, m).sum()
    return float(np.minimum(b, m).sum() / u) if u > 0 else 0.0


def top_threshold(v, frac=0.3):
    top = int(v.size * frac)
    return np.sort(v.ravel())[-top]


top_ious = np.array([iou((maps[i] >= top_threshold(maps[i])).astype(np.uint8), masks[i]) for i in range(N)])
grad_ious = np.array([np.mean([iou((grad[i, k] > 1).astype(np.uint8), masks[i]) for k in range(F)]) for i in range(N)])

T = np.array([top_threshold(acts[:, k]) for k in range(K)], dtype=np.float32)
am_iou = np.zeros((K, C))
am_hit = np.zeros((K, C))
cnt = np.bincount(labels, minlength=C)
for i in range(N):
    for k in range(K):
        v = iou((amaps[i, k] >= T[k]).astype(np.uint8), masks[i])
        am_iou[k, labels[i]] += v
        am_hit[k, labels[i]] += v > 0.3
am_iou /= cnt
am_hit /= cnt
related = np.argmax(am_hit, axis=1)
am_class = []
for c in range(C):
    ks = [k for k in range(K) if related[k] == c]
    am_class.append({'rfn': len(ks), 'meanIoU': float(sum(am_iou[k, c] for k in ks) / len(ks)) if ks else 'nan',
                     'successRate': float(sum(am_hit[k, c] for k in ks) / len(ks)) if ks else 'nan'})
am_total = {'meanIoU': float(sum(am_iou[k, related[k]] for k in range(K)) / K),
            'successRate': float(sum(am_hit[k, related[k]] for k in range(K)) / K)}


# ---- wsolevaluation -------------------------------------------------------------------------------
def normalize_scoremap(cam):
    cam = cam.copy()
    if cam.min() == cam.max():
        return np.zeros_like(cam)
    cam -= cam.min()
    cam /= cam.max()
    return cam


def contour_boxes(fg):
    hh, ww = fg.shape
    out = []
    lab, n = ndimage.label(fg, structure=np.ones((3, 3)))
    for sl in ndimage.find_objects(lab):
        out.append([sl[1].start, sl[0].start, sl[1].stop - 1, sl[0].stop - 1])
    if not out:
        return [[0, 0, 0, 0]]
    bl, _ = ndimage.label(~fg)  # 4-connected background
    for sl in ndimage.find_objects(bl):
        x0, y0, x1, y1 = sl[1].start, sl[0].start, sl[1].stop - 1, sl[0].stop - 1
        if x0 == 0 or y0 == 0 or x1 == ww - 1 or y1 == hh - 1:
            continue
        out.append([x0 - 1, y0 - 1, x1 + 1, y1 + 1])
    return [[x0, y0, min(x1 + 1, ww - 1), min(y1 + 1, hh - 1)] for x0, y0, x1, y1 in out]


def multiple_iou(a, b):
    a = np.asarray(a)[:, None, :]
    b = np.asarray(b)[None, :, :]
    ix = np.maximum(0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + 1)
    iy = np.maximum(0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + 1)
    inter = ix * iy
    den = (a[..., 2] - a[..., 0] + 1) * (a[..., 3] - a[..., 1] + 1) + (b[..., 2] - b[..., 0] + 1) * (b[..., 3] - b[..., 1] + 1) - inter
    deg = den <= 0
    den[deg] = 1
    ious = inter / den
    ious[deg] = 0
    return ious


taus = list(np.arange(0, 1, 0.01))
assert len(taus) == 100 and all(float(t) == i * 0.01 for i, t in enumerate(taus))
best = np.zeros((N, len(taus)))
for i in range(N):
    q = (normalize_scoremap(maps[i]) * 255).astype(np.uint8)
    for t, tau in enumerate(taus):
        fg = q > int(tau * np.max(q))
        best[i, t] = multiple_iou(contour_boxes(fg), boxes[i:i + 1]).max()


def max_box_acc(idx):
    per = []
    for delta in (30, 50, 70):
        acc = (best[idx] >= delta / 100).sum(axis=0) / len(idx)
        per.append({'delta': delta, 'accuracy': float(acc.max()), 'tau': float(taus[int(np.argmax(acc))])})
    return {'maxBoxAccV2': float(np.average([p['accuracy'] for p in per])), 'perDelta': per}


edges = np.append(taus, [1.0, 2.0, 3.0])
pos_h = np.zeros((N, len(edges) - 1))
neg_h = np.zeros((N, len(edges) - 1))
for i in range(N):
    s = normalize_scoremap(maps[i])
    pos_h[i] = np.histogram(s[masks[i] == 1], bins=edges)[0]
    neg_h[i] = np.histogram(s[masks[i] == 0], bins=edges)[0]


def pxap(idx):
    pos, neg = pos_h[idx].sum(axis=0), neg_h[idx].sum(axis=0)
    num = pos.sum()
    if num <= 0:
        return {'pxap': 'nan'}
    tp = pos[::-1].cumsum()
    fn = num - tp
    fp = neg[::-1].cumsum()
    nz = (tp + fp) != 0
    with np.errstate(invalid='ignore'):
        precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    return {'pxap': float((precision[1:] * np.diff(recall))[nz[1:]].sum())}


# ---- pointing games -------------------------------------------------------------------------------
tol = 15 * max(H, W) / 224
yy, xx = np.mgrid[0:H, 0:W]
point_hits = []
for i in range(N):
    py, px = np.unravel_index(np.argmax(maps[i]), (H, W))
    near = (yy - py) ** 2 + (xx - px) ** 2 <= tol * tol
    point_hits.append(float((near & (masks[i] == 1)).any()))
energy = []
for i in range(N):
    m = np.maximum(maps[i].astype(np.float64), 0)
    x0, y0, x1, y1 = boxes[i]
    tot = m.sum()
    energy.append(float(m[y0:y1 + 1, x0:x1 + 1].sum() / tot) if tot > 0 else 0.0)
point_hits, energy = np.array(point_hits), np.array(energy)


def by_class(fn):
    return {'overall': fn(np.arange(N)), 'perClass': [fn(np.nonzero(labels == c)[0]) for c in range(C)]}


# component boxes of a few thresholded maps, for a direct check of the semantics
comp_cases = []
for i, thr in [(0, 0.0), (1, 0.1), (3, 0.0), (6, 0.5), (12, -0.05)]:
    fg = maps[i] > thr
    comp_cases.append({'fg': fg.astype(np.uint8).ravel().tolist(), 'boxes': sorted(contour_boxes(fg))})

out = {
    '__metadata__': build_info(),
    'meta': {'N': N, 'H': H, 'W': W, 'C': C, 'F': F, 'K': K, 'h': h, 'w': w, 'tolerance': tol},
    'labels': labels.tolist(), 'maps': maps.ravel().tolist(), 'masks': masks.ravel().tolist(),
    'boxes': boxes.ravel().tolist(), 'grad': grad.ravel().tolist(), 'acts': acts.ravel().tolist(),
    'top_ious': top_ious.tolist(),
    'top': by_class(lambda ix: {'meanIoU': float(np.mean(top_ious[ix])), 'hitRate': float(np.mean(top_ious[ix] > 0.3))}),
    'grad_ious': grad_ious.tolist(),
    'gradmap': by_class(lambda ix: {'meanIoU': float(np.mean(grad_ious[ix])), 'hitRate': float(np.mean(grad_ious[ix] >= 0.2))}),
    'activmap': {'T': T.tolist(), 'iou': am_iou.ravel().tolist(), 'success': am_hit.ravel().tolist(),
                 'related': related.tolist(), 'perClass': am_class, 'overall': am_total},
    'best_iou': best.ravel().tolist(),
    'maxboxacc': by_class(max_box_acc),
    'pxap': by_class(pxap),
    'point_hits': point_hits.tolist(),
    'pointing': by_class(lambda ix: {'hitRate': float(np.mean(point_hits[ix]))}),
    'energy_shares': energy.tolist(),
    'energy': by_class(lambda ix: {'energy': float(np.mean(energy[ix]))}),
    'components': comp_cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'golden', 'localization.json')
with open(path, 'w') as f:
    json.dump(out, f, separators=(',', ':'))
print('wrote', os.path.normpath(path))
