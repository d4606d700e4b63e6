// The Captum-style input attributions by CLI id, with their options in one object, so that every command
// (`localize --methods`, `explain --methods`) builds them the same way.
import type { CsgBackbone } from '../models/types.js';
import type { Target } from './base.js';
import { InputAttribution } from './attribution.js';
import { Saliency } from './saliency.js';
import { IntegratedGradients, type IgBaseline } from './ig.js';
import { SmoothGrad } from './smoothgrad.js';
import { Occlusion } from './occlusion.js';

export const ATTRIBUTION_METHODS = ['saliency', 'ig', 'smoothgrad', 'occlusion'] as const;
export type AttributionMethod = typeof ATTRIBUTION_METHODS[number];

/** Every attribution's settings (each method reads its own; unset = the method's default). */
export interface AttributionSettings {
  internalBatch?: number;
  igSteps?: number;
  igBaseline?: IgBaseline;
  igBlurSigma?: number;
  smoothgradSamples?: number;
  smoothgradNoise?: number;
  smoothgradSeed?: number;
  occlusionWindow?: number;
  occlusionStride?: number;
}

export function isAttributionMethod(name: string): name is AttributionMethod {
  return (ATTRIBUTION_METHODS as readonly string[]).includes(name);
}

export function createAttribution(name: AttributionMethod, model: CsgBackbone, o: AttributionSettings & { target?: Target } = {}): InputAttribution {
  const common = { target: o.target, internalBatch: o.internalBatch };
  switch (name) {
    case 'saliency': return new Saliency(model, common);
    case 'ig': return new IntegratedGradients(model, { ...common, steps: o.igSteps, baseline: o.igBaseline, blurSigma: o.igBlurSigma });
    case 'smoothgrad': return new SmoothGrad(model, { ...common, samples: o.smoothgradSamples, noise: o.smoothgradNoise, seed: o.smoothgradSeed });
    case 'occlusion': return new Occlusion(model, { ...common, window: o.occlusionWindow, stride: o.occlusionStride });
    default: throw new Error(`unknown attribution '${String(name)}' (known: ${ATTRIBUTION_METHODS.join(', ')})`);
  }
}
