// The input attributions' defaults, in a module without imports so that the command line can show them
// without loading libtorch.
export const ATTRIBUTION_DEFAULTS = {
  /** Images per forward/backward pass. */
  internalBatch: 512,
  /** IG: points on the path (Captum's n_steps default). */
  igSteps: 50,
  igBaseline: 'zero',
  /** SmoothGrad: Captum's nt_samples and stdevs defaults. */
  smoothgradSamples: 5,
  smoothgradNoise: 1.0,
  smoothgradSeed: 0,
  occlusionWindow: 8,
  occlusionStride: 4,
} as const;
export const IG_BASELINES = ['zero', 'blur'] as const;
