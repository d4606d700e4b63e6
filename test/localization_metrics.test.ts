// Localization metrics against scripts/golden/localization.py (NumPy / SciPy; the released code's
// conventions, wsolevaluation's MaxBoxAccV2 and PxAP, the pointing games). Per-image values are compared
// exactly; means to 1e-12 (NumPy sums pairwise, the TypeScript side in index order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGolden, assertClose } from './helpers.js';
import {
  TopFractionIoU, GradMapIoU, activMapThresholds, activMapLocalization, ActivMapAccumulator, MaxBoxAccV2, PxAP, PointingGame,
  EnergyPointingGame, contourBoxes, boxIoU, bestBoxIoUs, topThreshold, byClass, pointingTolerance, minMaxNormalize, quantize255,
} from '../src/metrics/localization/index.js';

type Num = number | 'nan';
const g = loadGolden('localization.json');
const { N, H, W, C, F, K, h, w } = g.meta as Record<string, number>;
const labels: number[] = g.labels;
const maps = Float32Array.from(g.maps);
const masks = Uint8Array.from(g.masks);
const boxes: number[] = g.boxes;
const shape = [N, H, W] as const;
const num = (v: Num): number => (v === 'nan' ? NaN : v);
const TOL = 1e-12;

/** Deep comparison of plain objects, numbers to `tol` (NaN equals NaN), null for missing classes. */
function close(actual: unknown, expected: unknown, path: string, tol = TOL): void {
  if (typeof expected === 'number' || expected === 'nan') {
    const e = num(expected as Num), a = actual as number;
    if (Number.isNaN(e)) assert.ok(Number.isNaN(a), `${path}: ${a}, expected NaN`);
    else assert.ok(Math.abs(a - e) <= tol, `${path}: ${a}, expected ${e}`);
  } else if (Array.isArray(expected)) {
    assert.equal((actual as unknown[]).length, expected.length, `${path}: length`);
    expected.forEach((v, i) => close((actual as unknown[])[i], v, `${path}[${i}]`, tol));
  } else {
    for (const [k, v] of Object.entries(expected as object)) close((actual as Record<string, unknown>)[k], v, `${path}.${k}`, tol);
  }
}

test('top-30 % IoU per image exactly, mean IoU and hit rate (> 0.3) per class and overall', () => {
  const m = new TopFractionIoU(maps, masks, shape);
  assert.deepEqual(m.records(), g.top_ious);
  const r = m.evaluate(labels, C);
  close(r.overall, g.top.overall, 'overall');
  close(r.perClass, g.top.perClass, 'perClass');
  assert.deepEqual(r.counts, [6, 5, 5]);
  // image 8 has a full mask: IoU exactly 0.3, which is not a hit
  assert.equal(m.perImage(8), 0.3);
});

test('topThreshold follows sort(map)[-int(n * 0.3)], including n < 4 (Python [-0] is the first)', () => {
  assert.equal(topThreshold(Float32Array.from([5, 1, 4, 2, 3, 0, 9, 8, 7, 6])), 7);
  assert.equal(topThreshold(Float32Array.from([2, 1, 3])), 1);
});

test('GradMap: binarize > 1, IoU averaged over the filters, hit rate at >= 0.2', () => {
  const m = new GradMapIoU(Float32Array.from(g.grad), masks, [N, F, H, W]);
  assertClose(m.records(), g.grad_ious, TOL, 0, 'grad ious');
  const r = m.evaluate(labels, C);
  close(r.overall, g.gradmap.overall, 'overall');
  close(r.perClass, g.gradmap.perClass, 'perClass');
});

test('ActivMap: thresholds T_k, per (filter, class) IoU and success, related class, RFN and totals', () => {
  const acts = Float32Array.from(g.acts);
  const T = activMapThresholds(acts, [N, K, h, w]);
  assert.deepEqual(Array.from(T), g.activmap.T);
  const up = new Float32Array(N * K * H * W); // 4x4 nearest upsampling, as the golden's np.repeat
  for (let i = 0; i < N * K; i++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) up[(i * H + y) * W + x] = acts[(i * h + (y >> 2)) * w + (x >> 2)];
  const r = activMapLocalization(up, [N, K, H, W], T, masks, labels, C);
  close(r.iou.flat(), g.activmap.iou, 'iou');
  close(r.success.flat(), g.activmap.success, 'success');
  assert.deepEqual(r.relatedClass, g.activmap.related);
  close(r.perClass, g.activmap.perClass, 'perClass');
  close(r.overall, g.activmap.overall, 'overall');
  assert.equal(r.overall.filters, K);
  // Fed in two batches (as csgnet localize does), the accumulator gives the very same numbers.
  const cut = 7, per = K * H * W;
  const acc = new ActivMapAccumulator(K, C, T)
    .add(up.subarray(0, cut * per), [cut, K, H, W], masks.subarray(0, cut * H * W), labels.slice(0, cut))
    .add(up.subarray(cut * per), [N - cut, K, H, W], masks.subarray(cut * H * W), labels.slice(cut));
  assert.deepEqual(acc.result(), r);
});

test('contour boxes: 8-connected components and holes, as the golden derives them from scipy.ndimage.label', () => {
  for (const [j, c] of (g.components as { fg: number[]; boxes: number[][] }[]).entries()) {
    const got = contourBoxes(Uint8Array.from(c.fg), H, W).sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3]);
    assert.deepEqual(got, c.boxes, `case ${j}`);
  }
  // a diagonal pair is one component (8-connectivity); a 1-pixel hole gives a 3x3 border box
  const fg = Uint8Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(contourBoxes(fg, 4, 4), [[0, 0, 2, 2]]);
  const ring = new Uint8Array(25); [6, 7, 8, 11, 13, 16, 17, 18].forEach((p) => { ring[p] = 1; });
  assert.deepEqual(contourBoxes(ring, 5, 5), [[1, 1, 4, 4], [1, 1, 4, 4]]);
  assert.deepEqual(contourBoxes(new Uint8Array(9), 3, 3), [[0, 0, 0, 0]]);
});

test('the union-find sweep over thresholds gives the boxes of a labelling per threshold', () => {
  const thrs = Array.from({ length: 256 }, (_, t) => t);
  for (let i = 0; i < N; i++) {
    const q = quantize255(minMaxNormalize(maps.subarray(i * H * W, (i + 1) * H * W)));
    for (const holes of [true, false]) {
      const swept = bestBoxIoUs(q, H, W, thrs, boxes, 4 * i, holes);
      for (const t of thrs) {
        const fg = q.map((v) => (v > t ? 1 : 0));
        const direct = Math.max(...contourBoxes(fg, H, W, holes).map((b) => boxIoU(b, boxes, 4 * i)));
        assert.equal(swept.get(t), direct, `image ${i}, threshold ${t}, holes ${holes}`);
      }
    }
  }
});

test('box IoU uses the inclusive +1 convention of calculate_multiple_iou', () => {
  assert.equal(boxIoU([0, 0, 0, 0], [0, 0, 0, 0]), 1);
  assert.equal(boxIoU([0, 0, 1, 1], [1, 1, 2, 2]), 1 / 7);
  assert.equal(boxIoU([0, 0, 1, 1], [3, 3, 4, 4]), 0);
});

test('normalization and 8-bit quantization as float32 NumPy: constant maps become zeros', () => {
  assert.deepEqual(Array.from(minMaxNormalize(Float32Array.from([2, 2, 2]))), [0, 0, 0]);
  assert.deepEqual(Array.from(quantize255(minMaxNormalize(Float32Array.from([-1, 0, 1])))), [0, 127, 255]);
});

test('MaxBoxAccV2: best IoU per (image, tau) exactly, per-delta accuracy and tau, per class and overall', () => {
  const m = new MaxBoxAccV2(maps, boxes, shape);
  const best = m.records();
  assert.deepEqual(best.flatMap((r) => Array.from(r)), g.best_iou);
  const r = m.evaluate(labels, C);
  close(r.overall, g.maxboxacc.overall, 'overall');
  close(r.perClass, g.maxboxacc.perClass, 'perClass');
});

test('PxAP: wsolevaluation histograms and precision-recall area, per class and overall', () => {
  const r = new PxAP(maps, masks, shape).evaluate(labels, C);
  close(r.overall, g.pxap.overall, 'overall');
  close(r.perClass, g.pxap.perClass, 'perClass');
  // no mask pixel at all: NaN (wsolevaluation raises)
  assert.ok(Number.isNaN(new PxAP(maps.subarray(0, H * W), new Uint8Array(H * W), [1, H, W]).evaluate([0], 1).overall.pxap));
});

test('pointing game (15 px at 224, scaled) and energy-based pointing game', () => {
  assert.equal(pointingTolerance(H, W), g.meta.tolerance);
  const p = new PointingGame(maps, masks, shape);
  assert.deepEqual(p.records(), g.point_hits);
  const pr = p.evaluate(labels, C);
  close(pr.overall, g.pointing.overall, 'pointing');
  close(pr.perClass, g.pointing.perClass, 'pointing perClass');
  const e = new EnergyPointingGame(maps, boxes, shape);
  assertClose(e.records(), g.energy_shares, TOL, 0, 'energy shares');
  const er = e.evaluate(labels, C);
  close(er.overall, g.energy.overall, 'energy');
  close(er.perClass, g.energy.perClass, 'energy perClass');
});

test('byClass: overall and per class in image order, null for a class without images', () => {
  const r = byClass([1, 2, 3, 4], [0, 2, 0, 2], 4, (v) => v.reduce((a, b) => a + b, 0));
  assert.deepEqual(r, { overall: 10, perClass: [4, null, 6, null], counts: [2, 0, 2, 0] });
  assert.throws(() => byClass([1], [5], 4, (v) => v.length), /labels: label 5 of image 0/);
});

test('bad input is refused with an error naming the argument', () => {
  const nan = maps.slice(); nan[17] = NaN;
  assert.throws(() => new TopFractionIoU(nan, masks, shape), /^Error: maps: value NaN at flat index 17/);
  assert.throws(() => new MaxBoxAccV2(nan, boxes, shape), /maps: value NaN/);
  assert.throws(() => new PxAP(maps, masks.subarray(1), shape), /masks: .* do not match the shape/);
  assert.throws(() => new TopFractionIoU(maps, masks, [N, W, H + 1]), /maps: .* do not match the shape/);
  const bad = boxes.slice(); bad[2] = W;
  assert.throws(() => new MaxBoxAccV2(maps, bad, shape), /boxes: box 0 .* not an integer/);
  const flipped = boxes.slice(); flipped[0] = flipped[2] + 1;
  assert.throws(() => new EnergyPointingGame(maps, flipped, shape), /boxes: box 0/);
  assert.throws(() => new MaxBoxAccV2(maps, boxes.slice(4), shape), /boxes: .* expected 16 x 4/);
  const m2 = masks.slice(); m2[3] = 255;
  assert.throws(() => new PointingGame(maps, m2, shape), /masks: value 255 at flat index 3/);
  assert.throws(() => new TopFractionIoU(maps, masks, shape).evaluate(labels.slice(1), C), /labels: 15 labels for 16 images/);
  assert.throws(() => activMapLocalization(maps, [N, 1, H, W], [NaN], masks, labels, C), /thresholds: T\[0\]/);
  assert.throws(() => new PointingGame(maps, masks, shape, { tolerance: -1 }), /tolerance/);
});
