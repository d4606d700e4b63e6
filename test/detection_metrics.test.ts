// Detection metrics (src/metrics/detection.ts) and the logistic regression of the csg-lr detector against
// scikit-learn: scripts/golden/detection.py -> test/golden/detection.json (fixed scores with ties; seeded
// datasets fitted by LogisticRegression with tol 1e-12). Metrics are exact computations on the same
// numbers: compared to 1e-12. LR coefficients: two solvers of one convex problem, compared to 1e-5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, loadGolden } from './helpers.js';
import { auroc, detectionAccuracy, detectionMetrics, rocCurve, tnrAtTpr } from '../src/metrics/index.js';
import { LogisticRegression, Standardizer } from '../src/detect/index.js';

interface MetricCase {
  scores: number[]; labels: number[]; fpr: number[]; tpr: number[]; thresholds: number[]; auroc: number; tpr_target: number;
  tnr_at_tpr: number; tnr_threshold: number | null; detection_accuracy: number; accuracy_threshold: number | null;
}
interface LogisticCase { x: number[][]; y: number[]; C: number; coef: number[]; intercept: number; std_coef: number[]; std_intercept: number; decision: number[] }
const golden = loadGolden<{ metrics: MetricCase[]; logistic: LogisticCase[] }>('detection.json');

test('rocCurve matches sklearn roc_curve(drop_intermediate=False), ties included', () => {
  for (const [i, c] of golden.metrics.entries()) {
    const r = rocCurve(c.scores, c.labels);
    assert.equal(r.thresholds[0], Infinity);
    assert.deepEqual(Array.from(r.thresholds.subarray(1)), c.thresholds, `case ${i}: thresholds`);
    assertClose(r.fpr, c.fpr, 1e-12, 0, `case ${i}: fpr`);
    assertClose(r.tpr, c.tpr, 1e-12, 0, `case ${i}: tpr`);
  }
});

test('AUROC, TNR at the TPR target and detection accuracy match sklearn / Lee et al.\'s definitions', () => {
  for (const [i, c] of golden.metrics.entries()) {
    assertClose([auroc(c.scores, c.labels)], [c.auroc], 1e-12, 0, `case ${i}: auroc`);
    assertClose([tnrAtTpr(c.scores, c.labels, c.tpr_target)], [c.tnr_at_tpr], 1e-12, 0, `case ${i}: tnr`);
    assertClose([detectionAccuracy(c.scores, c.labels)], [c.detection_accuracy], 1e-12, 0, `case ${i}: accuracy`);
    const m = detectionMetrics(c.scores, Uint8Array.from(c.labels), { tpr: c.tpr_target });
    assert.equal(m.auroc, auroc(c.scores, c.labels));
    assert.equal(m.tnrAtTpr, tnrAtTpr(c.scores, c.labels, c.tpr_target));
    assert.equal(m.tnrThreshold, c.tnr_threshold ?? Infinity, `case ${i}: tnr threshold`);
    assert.equal(m.accuracyThreshold, c.accuracy_threshold ?? Infinity, `case ${i}: accuracy threshold`);
    assert.equal(m.positives + m.negatives, c.labels.length);
  }
  // the golden cases span the range: perfect, inverted and uninformative detectors
  assert.deepEqual(golden.metrics.slice(2, 5).map((c) => c.auroc), [1, 0, 0.5]);
});

test('metrics refuse one-class labels, non-0/1 labels, NaN scores and length mismatches', () => {
  assert.throws(() => auroc([0.1, 0.2], [1, 1]), /both clean \(0\) and adversarial \(1\).*2 adversarial and 0 clean/);
  assert.throws(() => detectionMetrics([0.1, 0.2], [0, 0]), /both clean/);
  assert.throws(() => rocCurve([0.1, 0.2], [0, 2]), /label 1 is 2/);
  assert.throws(() => rocCurve([0.1, NaN], [0, 1]), /score 1 is NaN/);
  assert.throws(() => rocCurve([0.1], [0, 1]), /1 scores but 2 labels/);
  assert.throws(() => tnrAtTpr([0.1, 0.2], [0, 1], 1.5), /TPR target must be in \(0, 1\]/);
});

test('LogisticRegression reaches sklearn\'s LogisticRegression optimum (raw and z-scored features)', () => {
  for (const [i, c] of golden.logistic.entries()) {
    const d = c.x[0]!.length, flat = c.x.flat();
    const lr = new LogisticRegression({ C: c.C }).fit(flat, c.y, d);
    assertClose([...lr.coef, lr.intercept], [...c.coef, c.intercept], 1e-5, 1e-5, `case ${i}: raw coefficients`);
    assertClose(lr.decisionFunction(flat), c.decision, 1e-5, 1e-5, `case ${i}: decision function`);
    const z = new Standardizer().fit(flat, d).transform(flat);
    const lz = new LogisticRegression({ C: c.C }).fit(z, c.y, d);
    assertClose([...lz.coef, lz.intercept], [...c.std_coef, c.std_intercept], 1e-5, 1e-5, `case ${i}: z-scored coefficients`);
    assert.ok(lr.iterations < 50, `case ${i}: Newton took ${lr.iterations} iterations`);
  }
});

test('LogisticRegression and Standardizer refuse bad input', () => {
  assert.throws(() => new LogisticRegression().fit([1, 2, 3], [0, 0, 0], 1), /needs both classes/);
  assert.throws(() => new LogisticRegression().fit([1, 2, 3], [0, 1], 1), /2 x 1 values, got 3/);
  assert.throws(() => new LogisticRegression().fit([1, NaN], [0, 1], 1), /feature 0 of sample 1 is NaN/);
  assert.throws(() => new LogisticRegression({ C: 0 }), /C must be a positive number/);
  assert.throws(() => new LogisticRegression().decisionFunction([1]), /call fit/);
  assert.throws(() => new Standardizer().transform([1]), /call fit/);
});
