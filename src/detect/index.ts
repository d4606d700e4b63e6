// Adversarial-sample detectors (method.md section 6): one class per detector, prepare / fit / score, with
// score higher = more adversarial throughout; createDetector builds one by name.
import { DETECTOR_NAMES, type Detector, type DetectorName, type DetectorOptions } from './base.js';
import { CsgLrDetector, GateDetector } from './gate.js';
import { MahalanobisDetector } from './mahalanobis.js';
import { SqueezeDetector } from './squeeze.js';

export * from './base.js';
export { gateConsistency, GateDetector, CsgLrDetector } from './gate.js';
export { MahalanobisDetector, type MahalanobisOptions } from './mahalanobis.js';
export { SqueezeDetector, reduceBitDepth, medianFilter, type SqueezeOptions } from './squeeze.js';
export { LogisticRegression, Standardizer, type LogisticOptions } from './logistic.js';

export interface CreateDetectorOptions extends DetectorOptions {
  /** Mahalanobis input pre-processing magnitude in pixel units (default 0) */
  mahalanobisNoise?: number;
  /** feature squeezing's bit depth (default 1 for grey images, 5 for colour) */
  squeezeBits?: number;
  /** feature squeezing's median filter size (default 2) */
  squeezeMedian?: number;
  /** csg-lr's inverse regularization strength (default 1, sklearn's) */
  lrC?: number;
}

export function createDetector(name: DetectorName, o: CreateDetectorOptions = {}): Detector {
  const base = { batchSize: o.batchSize };
  switch (name) {
    case 'gate': return new GateDetector(base);
    case 'csg-lr': return new CsgLrDetector({ ...base, C: o.lrC });
    case 'mahalanobis': return new MahalanobisDetector({ ...base, noise: o.mahalanobisNoise });
    case 'squeeze': return new SqueezeDetector({ ...base, bits: o.squeezeBits, medianSize: o.squeezeMedian });
    default: throw new Error(`createDetector: unknown detector '${String(name)}'; expected one of ${DETECTOR_NAMES.join(', ')}`);
  }
}
