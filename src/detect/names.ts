// The detector names without the detectors (importing this loads no libtorch): the CLI's defaults.
export const DETECTOR_NAMES = ['gate', 'csg-lr', 'mahalanobis', 'squeeze', 'kdbu', 'lid'] as const;
export type DetectorName = typeof DETECTOR_NAMES[number];
