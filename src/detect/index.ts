// Adversarial-sample detectors (method.md section 6): one class per detector, prepare / fit / score, with
// score higher = more adversarial throughout; createDetector builds one by name. kdbu and lid follow
// Feinman et al. 2017 and Ma et al. 2018 (their files' headers).
import { DETECTOR_NAMES, type Detector, type DetectorName, type DetectorOptions } from './base.js';
import { CsgLrDetector, GateDetector } from './gate.js';
import { MahalanobisDetector } from './mahalanobis.js';
import { SqueezeDetector } from './squeeze.js';
import { KdBuDetector } from './kdbu.js';
import { LidDetector } from './lid.js';

export * from './base.js';
export { gateConsistency, GateDetector, CsgLrDetector } from './gate.js';
export { MahalanobisDetector, type MahalanobisOptions } from './mahalanobis.js';
export { SqueezeDetector, reduceBitDepth, medianFilter, type SqueezeOptions } from './squeeze.js';
export { KdBuDetector, gaussianKdeLogDensity, type KdBuOptions } from './kdbu.js';
export { LidDetector, mleBatch, blockOutputs, defaultLidBlocks, type LidOptions } from './lid.js';
export { LogisticRegression, Standardizer, logisticRegressionCV, stratifiedFolds, type LogisticOptions, type LogisticCVOptions } from './logistic.js';

export interface CreateDetectorOptions extends DetectorOptions {
  /** Mahalanobis input pre-processing magnitude in pixel units (default 0) */
  mahalanobisNoise?: number;
  /** feature squeezing's bit depth (default 1 for grey images, 5 for colour) */
  squeezeBits?: number;
  /** feature squeezing's median filter size (default 2) */
  squeezeMedian?: number;
  /** csg-lr's inverse regularization strength (default 1, sklearn's) */
  lrC?: number;
  /** kdbu's kernel bandwidth (default 1.20 for grey images, 0.26 for colour: Feinman et al.'s MNIST and CIFAR-10) */
  kdBandwidth?: number;
  /** lid's nearest neighbours (default 20) and minibatch (default 100) */
  lidK?: number;
  lidMinibatch?: number;
}

export function createDetector(name: DetectorName, o: CreateDetectorOptions = {}): Detector {
  const base = { batchSize: o.batchSize };
  switch (name) {
    case 'gate': return new GateDetector(base);
    case 'csg-lr': return new CsgLrDetector({ ...base, C: o.lrC });
    case 'mahalanobis': return new MahalanobisDetector({ ...base, noise: o.mahalanobisNoise });
    case 'squeeze': return new SqueezeDetector({ ...base, bits: o.squeezeBits, medianSize: o.squeezeMedian });
    case 'kdbu': return new KdBuDetector({ ...base, bandwidth: o.kdBandwidth });
    case 'lid': return new LidDetector({ ...base, k: o.lidK, minibatch: o.lidMinibatch });
    default: throw new Error(`createDetector: unknown detector '${String(name)}'; expected one of ${DETECTOR_NAMES.join(', ')}`);
  }
}
