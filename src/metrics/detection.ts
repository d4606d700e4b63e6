// Detection metrics for adversarial-sample detectors (Lee et al. 2018's protocol, method.md section 6):
// the ROC curve (as sklearn.metrics.roc_curve with drop_intermediate=False), AUROC (trapezoidal area under
// that curve, = sklearn's roc_auc_score, ties counted as half), TNR at 95 % TPR and detection accuracy.
// Labels: 1 = adversarial = positive; scores: higher = more adversarial; an image is flagged when
// score >= threshold (sklearn's convention).

export interface RocCurve {
  /** False and true positive rates, both starting at 0 (threshold +Infinity) and ending at 1. */
  fpr: Float64Array;
  tpr: Float64Array;
  /** Decreasing; thresholds[0] = +Infinity (sklearn 1.2 writes max + 1 there, 1.3+ np.inf). */
  thresholds: Float64Array;
}

export interface DetectionMetrics {
  auroc: number;
  /** The TPR asked for (0.95 by default) and the largest TNR reached with at least that TPR. */
  tprTarget: number;
  tnrAtTpr: number;
  tnrThreshold: number;
  /** max over thresholds of 0.5 TPR + 0.5 TNR, and the threshold reaching it. */
  detectionAccuracy: number;
  accuracyThreshold: number;
  positives: number;
  negatives: number;
}

function check(scores: ArrayLike<number>, labels: ArrayLike<number>, what: string): { pos: number; neg: number } {
  if (scores.length !== labels.length) throw new Error(`${what}: ${scores.length} scores but ${labels.length} labels`);
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l !== 0 && l !== 1) throw new Error(`${what}: labels must be 0 (clean) or 1 (adversarial), label ${i} is ${l}`);
    if (Number.isNaN(scores[i]!)) throw new Error(`${what}: score ${i} is NaN`);
    pos += l;
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) throw new Error(`${what}: needs both clean (0) and adversarial (1) samples, got ${pos} adversarial and ${neg} clean`);
  return { pos, neg };
}

/** ROC curve with one point per distinct score (sklearn roc_curve, drop_intermediate=False). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const { pos, neg } = check(scores, labels, 'rocCurve');
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a]! > scores[b]! ? -1 : scores[a]! < scores[b]! ? 1 : 0));
  const fpr = [0], tpr = [0], thresholds = [Infinity];
  let tp = 0, fp = 0;
  for (let i = 0; i < n; i++) {
    const j = order[i]!;
    if (labels[j] === 1) tp++; else fp++;
    // one point after the last sample of each run of equal scores
    if (i === n - 1 || scores[order[i + 1]!] !== scores[j]) {
      fpr.push(fp / neg); tpr.push(tp / pos); thresholds.push(scores[j]!);
    }
  }
  return { fpr: Float64Array.from(fpr), tpr: Float64Array.from(tpr), thresholds: Float64Array.from(thresholds) };
}

/** Area under the ROC curve (trapezoidal rule, as sklearn.metrics.auc / roc_auc_score). */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return areaUnder(rocCurve(scores, labels));
}

function areaUnder(r: RocCurve): number {
  let a = 0;
  for (let i = 1; i < r.fpr.length; i++) a += (r.fpr[i]! - r.fpr[i - 1]!) * (r.tpr[i]! + r.tpr[i - 1]!) / 2;
  return a;
}

function tnrAt(r: RocCurve, target: number): { tnr: number; threshold: number } {
  if (!(target > 0 && target <= 1)) throw new Error(`tnrAtTpr: the TPR target must be in (0, 1], got ${target}`);
  // tpr is non-decreasing and fpr too: the first point reaching the target has the largest TNR
  let i = 0;
  while (r.tpr[i]! < target) i++;
  return { tnr: 1 - r.fpr[i]!, threshold: r.thresholds[i]! };
}

/** The largest TNR among thresholds whose TPR is at least `target` (Lee et al.'s "TNR at 95 % TPR"). */
export function tnrAtTpr(scores: ArrayLike<number>, labels: ArrayLike<number>, target = 0.95): number {
  return tnrAt(rocCurve(scores, labels), target).tnr;
}

function bestAccuracy(r: RocCurve): { accuracy: number; threshold: number } {
  let best = -1, threshold = Infinity;
  for (let i = 0; i < r.fpr.length; i++) {
    const acc = 0.5 * r.tpr[i]! + 0.5 * (1 - r.fpr[i]!);
    if (acc > best) { best = acc; threshold = r.thresholds[i]!; }
  }
  return { accuracy: best, threshold };
}

/** Lee et al.'s detection accuracy: max over thresholds of 0.5 TPR + 0.5 TNR. */
export function detectionAccuracy(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return bestAccuracy(rocCurve(scores, labels)).accuracy;
}

/** All detection metrics from one ROC curve. */
export function detectionMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, o: { tpr?: number } = {}): DetectionMetrics {
  const r = rocCurve(scores, labels);
  const tprTarget = o.tpr ?? 0.95;
  const t = tnrAt(r, tprTarget);
  const a = bestAccuracy(r);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]!;
  return {
    auroc: areaUnder(r), tprTarget, tnrAtTpr: t.tnr, tnrThreshold: t.threshold,
    detectionAccuracy: a.accuracy, accuracyThreshold: a.threshold, positives, negatives: labels.length - positives,
  };
}
